"""A pull zone's lookup policy: the edge as an RFC 9111 shared cache in front of an upstream.

Entries are keyed by request target and Vary'd variant (:func:`edge.freshness.variant_key`); what is
fresh, stale-while-revalidate, storable or usable on error is decided by :mod:`edge.freshness`. A stored
entry is revalidated with If-None-Match / If-Modified-Since. Slices of an entry are fetched one by one
only when its response is combinable (a 200 with a strong ETag, sent as If-Match); anything else is
cut into slices from one whole response. A body without Content-Length is buffered up to
:data:`MAX_UNKNOWN_LENGTH` to learn its size.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing

from edge import freshness
from edge.cache.errors import OriginError
from edge.cache.front import CacheFront, LookupResult
from edge.cache.http11 import HintSink, early_hints
from edge.cache.meta import ObjectMeta
from edge.cache.origin import OriginResponse, UpstreamClient
from edge.cache.store import SliceStore
from edge.conditional import parse_http_date
from edge.freshness import ClientRequest
from edge.singleflight import Answer
from mediaedge.errors import HTTPError
from mediaedge.settings import EdgeSettings

__all__ = ["PullCache"]

log = logging.getLogger("mediaedge.edge.cache")

MAX_UNKNOWN_LENGTH = 64 << 20  # a pull-zone body without Content-Length is buffered up to this size
_UPSTREAM_ERRORS = frozenset({500, 502, 503, 504})
_versions = itertools.count()


async def _read_bounded(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    parts, total = [], 0
    async with aclosing(chunks) as body:  # type: ignore[type-var]
        async for chunk in body:
            total += len(chunk)
            if total > limit:
                raise OriginError("Upstream response without Content-Length is too large to cache")
            parts.append(chunk)
    return b"".join(parts)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _posting(answer: Answer[LookupResult]) -> HintSink:
    """A sink posting early hints to the waiters of ``answer`` (the fetch never waits on a client);
    hints the same as posted already (a ranged request sent again whole) are not posted twice."""
    posted: list[list[bytes]] = []

    async def post(links: list[bytes]) -> None:
        if links not in posted:
            posted.append(links)
            answer.note(links)

    return post


class PullCache(CacheFront):
    """One zone's entries through a :class:`~edge.cache.store.SliceStore` over ``upstream`` (which it
    owns: :meth:`close` closes it). ``clock`` (wall-clock seconds) is for tests."""

    def __init__(
        self, settings: EdgeSettings, upstream: UpstreamClient, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(SliceStore(settings, upstream), clock)
        self._upstream = upstream

    async def lookup(
        self, key: str, request: ClientRequest, *, share: bool = True, hints: HintSink | None = None
    ) -> LookupResult:
        """The entry for ``key`` (a request target, see :class:`UpstreamClient`) for ``request``.

        Statuses: ``hit`` (fresh, no I/O), ``swr`` (stale served, revalidation started), ``miss``
        (fetched, stored), ``pass`` (fetched, not storable: ``meta.http.reason``; call :meth:`release`
        once delivered), ``revalidated`` (304), ``updated`` (a stored entry replaced), ``stale``
        (upstream failing, served stale). Concurrent lookups share one upstream request, except for
        requests with ``Authorization``, and a shared answer that turns out not storable is fetched
        again for each waiter (it may be meant for one client only). 504 for ``only-if-cached``
        without a usable entry; 502 when the upstream fails and nothing may stand in.
        ``hints`` gets the ``Link`` values of each ``103 Early Hints`` the upstream sends before the
        answer (every waiter of a shared request gets them all); they are never stored: a ``hit`` or
        ``swr`` answer has none.
        """
        meta = self.store.meta(key)
        if meta is not None and meta.http is not None and freshness.vary_matches(meta.http, request):
            age = freshness.current_age(meta.http, meta.fetched_at, self._clock())
            use = freshness.usability(meta.http, age, request)
            if use == "fresh":
                self.stats["lookup.hit"] += 1
                return meta, "hit"
            if use == "swr" and not request.only_if_cached:
                if self._lookups.get(key) is None:
                    swr: Answer[LookupResult] = Answer()
                    self._lookups.start(key, swr, self._refresh(key, meta, request, swr))
                self.stats["lookup.swr"] += 1
                return meta, "swr"
        else:
            meta = None
        if request.only_if_cached:
            raise HTTPError(504, "Not in the edge cache (only-if-cached)")
        share = share and not request.authorization
        joined = self._lookups.get(key) if share else None
        answer = joined or Answer()
        if joined is None:
            self._lookups.start(key, answer, self._refresh(key, meta, request, answer), share=share)
        result = await self._wait(answer, hints)
        if joined is not None and result[1] == "pass":
            return await self.lookup(key, request, share=False, hints=hints)
        self.stats[f"lookup.{result[1]}"] += 1
        return result

    def release(self, meta: ObjectMeta) -> None:
        """Forget the bytes of a ``pass`` answer once delivered (no-store: out of memory promptly)."""
        if meta.http is not None and not meta.http.stored:
            self.store.discard(meta)

    async def invalidate(self, target: str) -> int:
        """Drop ``target`` and its Vary'd variants (RFC 9111 §4.4)."""
        return await self.purge(target) + await self.purge(target + "#", prefix=True)

    async def _refresh(
        self, key: str, cached: ObjectMeta | None, request: ClientRequest, answer: Answer[LookupResult]
    ) -> None:
        """The one task behind concurrent lookups of ``key``: the disk tier when memory had nothing,
        then the upstream."""
        with self.store.epoch() as mark:
            try:
                await self._ask_upstream(key, cached, request, answer, mark)
            except HTTPError as exc:
                answer.fail(exc)
            except Exception:
                log.exception("lookup of %s failed", key)
                answer.fail(OriginError())

    async def _ask_upstream(
        self, key: str, cached: ObjectMeta | None, request: ClientRequest, answer: Answer[LookupResult], mark: int
    ) -> None:
        """Validate or fetch ``key`` at the upstream; the disk tier first when memory had nothing."""
        if cached is None:
            cached = await self.store.stored_meta(key)
            if cached is not None and (cached.http is None or not freshness.vary_matches(cached.http, request)):
                cached = None
            if cached is not None and cached.http is not None:
                age = freshness.current_age(cached.http, cached.fetched_at, self._clock())
                use = freshness.usability(cached.http, age, request)
                if use in ("fresh", "swr"):
                    self.store.remember(cached, mark)
                if use == "fresh":
                    answer.settle((cached, "hit"))
                    return
                if use == "swr":
                    answer.settle((cached, "swr"))  # and revalidate below
        headers = dict(request.forward)
        if cached is not None and cached.http is not None:
            if not cached.etag.startswith("~"):
                headers["if-none-match"] = cached.etag
            if last_modified := cached.http.header("last-modified"):
                headers["if-modified-since"] = last_modified
        request_time = self._clock()
        interim = early_hints(_posting(answer))
        try:
            for byte_range in ((0, self.store.slice - 1), None):  # no Range if the object is empty (416)
                async with self._upstream.open(key, byte_range=byte_range, headers=headers, interim=interim) as resp:
                    self.store.latency.observe(resp.elapsed)
                    if byte_range is not None and (
                        resp.status == 416 or (resp.status == 206 and not self._combinable(resp, request))
                    ):
                        await resp.discard()
                        continue  # the whole response, without Range
                    if cached is not None and resp.status in _UPSTREAM_ERRORS and self._stale_ok(cached, False):
                        answer.settle((cached, "stale"))
                        await resp.discard()
                        return
                    await self._on_upstream_response(key, cached, request, resp, request_time, answer, mark)
                    return
        except OriginError as exc:
            if cached is None or not self._stale_ok(cached, True):
                raise
            log.warning("upstream failed for %s, serving stale: %r", key, exc.__cause__ or exc)
            answer.settle((cached, "stale"))

    def _combinable(self, resp: OriginResponse, request: ClientRequest) -> bool:
        """Whether the rest of a 206's object may be fetched by later ranges and joined to it: only
        for a stored response with a strong ETag, sent with them as If-Match (RFC 9111 §3.4)."""
        if not resp.etag or resp.etag.startswith("W/"):
            return False
        fields = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in resp.headers.raw]
        now = self._clock()
        return freshness.stored_response(resp.status, fields, request, now, now).stored

    def _stale_ok(self, cached: ObjectMeta, disconnected: bool) -> bool:
        if cached.http is None:
            return False
        age = freshness.current_age(cached.http, cached.fetched_at, self._clock())
        return freshness.may_serve_stale_on_error(cached.http, age, disconnected)

    async def _on_upstream_response(
        self,
        key: str,
        cached: ObjectMeta | None,
        request: ClientRequest,
        resp: OriginResponse,
        request_time: float,
        answer: Answer[LookupResult],
        mark: int,
    ) -> None:
        store = self.store
        response_time = self._clock()
        fields = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in resp.headers.raw]
        if resp.status == 304:
            if cached is None or cached.http is None:
                raise OriginError("Upstream answered 304 to an unconditional request")
            http = freshness.updated(cached.http, fields, request_time, response_time)
            meta = dataclasses.replace(cached, fetched_at=response_time, http=http)
            await store.keep(meta, mark) if http.stored else await store.drop(cached.key)
            answer.settle((meta, "revalidated"))
            await resp.discard()
            return
        status = 200 if resp.status == 206 else resp.status
        http = freshness.stored_response(status, fields, request, request_time, response_time)
        chunks: AsyncIterator[bytes] = resp.chunks()
        size = resp.size if resp.status in (200, 206) else resp.content_length
        if resp.status == 206 and (resp.content_range is None or resp.content_range[0] != 0):
            raise OriginError("Upstream answered a range the edge did not ask for")
        if size is None:  # no Content-Length: buffer (bounded) to learn the size
            data = await _read_bounded(chunks, MAX_UNKNOWN_LENGTH)
            size, chunks = len(data), _once(data)
        etag = resp.etag if resp.etag and http.stored else f"~{next(_versions)}"
        headers = http.header
        meta = ObjectMeta(
            key=freshness.variant_key(key.split("#", 1)[0], http.vary),
            size=size,
            etag=etag,
            last_modified=float(parse_http_date(headers("last-modified") or "") or 0),
            content_type=headers("content-type") or "application/octet-stream",
            cache_control=headers("cache-control") or "",
            file_id="",
            tenant_id="",
            access="public",
            fetched_at=response_time,
            http=http,
        )
        if cached is not None and (not http.stored or cached.key != meta.key or cached.etag != meta.etag):
            await store.drop(cached.key) if not http.stored else store.drop_other_versions(meta)
        streams = store.open_streams(meta, 1 if resp.status == 206 else None)
        if http.stored:
            store.remember(meta, mark)
        answer.settle((meta, "pass" if not http.stored else "miss" if cached is None else "updated"))
        if resp.status == 206:
            if streams:
                async with store.feeding((meta.key, meta.etag, 0), streams[0]):
                    await store.pump(meta, 0, resp, streams[0], mark)
            else:
                await resp.discard()
        else:
            await store.pump_whole(meta, chunks, streams, mark)
        if http.stored:
            await store.persist(meta, mark)
