"""The edge cache: object metas and slice bytes across memory, disk and origin.

``lookup`` answers what an object is (fresh meta without any I/O; after its TTL a conditional request;
stale meta when the origin is down). ``read`` streams a byte range of one version: memory, else disk,
else origin, one slice at a time. Concurrent misses share one origin request (lookups through a future,
slices through a :class:`~edge.cache.flight.Flight`). Fetches run in tasks of their own, so a reader
that goes away never cancels bytes other readers wait for. Built for asyncio (uvicorn, hypercorn).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import Any

from cachetools import LRUCache, TTLCache

from edge import freshness
from edge.cache.disk import DiskTier
from edge.cache.droplog import Drop, DropLog
from edge.cache.errors import ObjectChanged, ObjectNotFound, OriginError
from edge.cache.flight import Flight
from edge.cache.memory import MemoryTier
from edge.cache.meta import ObjectMeta, freshness_lifetime
from edge.cache.origin import OriginClient, OriginResponse
from edge.cache.slices import SliceId, slice_count, slice_span, spans
from edge.cache.stats import Histogram, LatencyHistogram, new_counters
from edge.conditional import parse_http_date
from edge.freshness import ClientRequest
from mediaedge.errors import HTTPError
from mediaedge.keys import validate_key
from mediaedge.settings import EdgeSettings

__all__ = ["EdgeCache"]

log = logging.getLogger("mediaedge.edge.cache")

META_ENTRIES = 100_000  # metas kept in memory (a few hundred bytes each)
NOT_FOUND_ENTRIES = 10_000
NOT_FOUND_TTL = 5.0  # seconds a 404 from the origin is remembered

LookupResult = tuple[ObjectMeta, str]


MAX_UNKNOWN_LENGTH = 64 << 20  # a pull-zone body without Content-Length is buffered up to this size
_UPSTREAM_ERRORS = frozenset({500, 502, 503, 504})
_versions = itertools.count()


def _combinable(meta: ObjectMeta) -> bool:
    """Whether slices of a pull-zone entry can be fetched one by one (RFC 9111 §3.4): a 200 with a
    strong ETag (sent as If-Match). Anything else is only ever stored from one whole response."""
    return meta.http is not None and meta.http.status == 200 and meta.etag.startswith('"')


def _matcher(key: str, prefix: bool) -> Callable[[str], bool]:
    """A test for object keys: equal to ``key``, or with ``prefix`` starting with it."""
    return (lambda k: k.startswith(key)) if prefix else (lambda k: k == key)


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


class EdgeCache:
    """Memory tier, disk tier (when ``disk_cache_dir`` and ``disk_cache_bytes`` are set) and origin.

    Owns ``origin``: :meth:`close` closes it. ``clock`` (wall-clock seconds) is for tests.
    """

    def __init__(
        self,
        settings: EdgeSettings,
        origin: OriginClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._origin = origin
        self._slice = settings.slice_bytes
        self._ttl = float(settings.object_ttl)
        self._clock = clock
        self._memory = MemoryTier(settings.memory_cache_bytes)
        self._disk = (
            DiskTier(Path(settings.disk_cache_dir), settings.disk_cache_bytes, settings.slice_bytes)
            if settings.disk_cache_dir and settings.disk_cache_bytes > 0
            else None
        )
        self._metas: LRUCache[str, ObjectMeta] = LRUCache(META_ENTRIES)
        self._not_found: TTLCache[str, bool] = TTLCache(NOT_FOUND_ENTRIES, NOT_FOUND_TTL, timer=clock)
        self._lookups: dict[str, asyncio.Future[LookupResult | HTTPError]] = {}
        self._flights: dict[SliceId, Flight] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._drops = DropLog()  # a fetch overtaken by a purge or invalidation stores nothing of it
        self._latency = LatencyHistogram()
        self.stats: dict[str, int] = new_counters()

    async def start(self) -> None:
        """Open the disk tier (index, reconciliation with the directory)."""
        if self._disk is not None:
            await self._disk.open()

    async def close(self) -> None:
        """Stop fetches under way (their readers get :class:`OriginError`), close disk and origin."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._disk is not None:
            await self._disk.close()
        await self._origin.aclose()

    def histogram(self) -> Histogram:
        """Origin response times (seconds to headers) as cumulative Prometheus buckets, sum, count."""
        return self._latency.snapshot()

    async def join(self) -> None:
        """Wait until every fetch under way has finished (its bytes stored or dropped)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def bytes_cached(self) -> dict[str, int]:
        """Bytes held per tier, for gauges: ``{"memory": ..., "disk": ...}`` (disk counts file sizes)."""
        return {"memory": self._memory.bytes_used, "disk": self._disk.bytes_used if self._disk else 0}

    # -- lookup ---------------------------------------------------------------------------------

    async def lookup(self, key: str) -> LookupResult:
        """The meta of ``key`` and how it was obtained: ``"hit"`` (fresh, no I/O), ``"miss"``
        (fetched), ``"revalidated"`` (origin confirmed the cached version) or ``"stale"`` (origin
        failing, cached meta served). Raises :class:`ObjectNotFound`, :class:`OriginError`, or
        :class:`~mediaedge.keys.InvalidKey` for a key that is not a valid object key."""
        meta = self._metas.get(key)
        if meta is not None and self._is_fresh(meta):
            self.stats["lookup.hit"] += 1
            return meta, "hit"
        if key in self._not_found:
            self.stats["lookup.not_found"] += 1
            raise ObjectNotFound()
        future = self._lookups.get(key)
        if future is None:
            validate_key(key)  # InvalidKey (a ValueError) for the caller, before any task or I/O
            future = self._lookups[key] = asyncio.get_running_loop().create_future()
            self._spawn(self._refresh(key, meta, future))
        result = await asyncio.shield(future)
        if isinstance(result, HTTPError):
            self.stats["lookup.not_found" if isinstance(result, ObjectNotFound) else "lookup.error"] += 1
            raise copy.copy(result) from result
        self.stats[f"lookup.{result[1]}"] += 1
        return result

    def _is_fresh(self, meta: ObjectMeta) -> bool:
        age = self._clock() - meta.fetched_at
        return 0 <= age < freshness_lifetime(meta.cache_control, self._ttl)

    async def _refresh(
        self,
        key: str,
        cached: ObjectMeta | None,
        future: asyncio.Future[LookupResult | HTTPError],
        request: ClientRequest | None = None,
    ) -> None:
        """The one task behind concurrent lookups of ``key``: disk, then the origin (a pull zone's
        upstream when ``request`` is given)."""

        def settle(result: LookupResult | HTTPError) -> None:
            if not future.done():
                future.set_result(result)
            if self._lookups.get(key) is future:
                del self._lookups[key]

        mark = self._drops.start()
        try:
            if request is not None:
                await self._ask_upstream(key, cached, request, settle, mark)
                return
            if cached is None and self._disk is not None:
                cached = await self._disk.get_meta(key)
                if cached is not None and self._is_fresh(cached):
                    if not self._drops.overtaken(mark, key, cached.etag):
                        self._metas[key] = cached
                    settle((cached, "hit"))
                    return
            await self._ask_origin(key, cached, settle, mark)
        except HTTPError as exc:
            settle(exc)
        except Exception:
            log.exception("lookup of %s failed", key)
            settle(OriginError())
        finally:
            settle(OriginError("Edge cache closed"))  # only if cancelled before settling
            self._drops.finish()

    async def _ask_origin(
        self, key: str, cached: ObjectMeta | None, settle: Callable[[LookupResult | HTTPError], None], mark: int
    ) -> None:
        """Fetch or revalidate the meta of ``key``. The request asks for slice 0 too, so a miss on a
        small object costs one round trip; its bytes go to a flight that readers join."""
        etag = cached.etag if cached is not None else None
        try:
            for byte_range in ((0, self._slice - 1), None):  # no Range if the object is empty (416)
                async with self._origin.open(key, byte_range=byte_range, if_none_match=etag) as resp:
                    self._latency.observe(resp.elapsed)
                    if resp.status != 416 or byte_range is None:
                        await self._on_meta_response(key, cached, resp, settle, mark)
                        return
        except OriginError as exc:
            if cached is None:
                raise
            log.warning("origin failed for %s, serving stale: %r", key, exc.__cause__ or exc)
            settle((cached, "stale"))

    async def _on_meta_response(
        self,
        key: str,
        cached: ObjectMeta | None,
        resp: OriginResponse,
        settle: Callable[[LookupResult | HTTPError], None],
        mark: int,
    ) -> None:
        if resp.status == 404:
            purged = self._drops.overtaken(mark, key, "")  # since the request: the object may exist now
            await self._drop(key)
            if not purged:
                self._not_found[key] = True
            raise ObjectNotFound()
        flight = None
        if resp.status == 304 and cached is not None:
            meta = dataclasses.replace(
                cached,
                fetched_at=self._clock(),
                cache_control=resp.cache_control or cached.cache_control,
                **resp.policy(),
            )
            status = "revalidated"
        elif resp.status in (200, 206):
            meta = resp.meta(key, self._clock())
            status = "revalidated" if cached is not None and cached.etag == meta.etag else "miss"
            sid = (key, meta.etag, 0)
            if meta.size and sid not in self._flights and self._is_slice_body(resp, meta, 0):
                flight = self._flights[sid] = Flight()
        else:
            raise OriginError(f"Origin answered {resp.status}")
        if not self._drops.overtaken(mark, key, meta.etag):  # else answer the waiters, keep nothing
            self._metas[key] = meta
        settle((meta, status))
        if cached is not None and cached.etag != meta.etag:
            self._spawn(self._drop_other_versions(meta))
        if flight is None:
            await resp.discard()
        else:
            async with self._flying(sid, flight):
                await self._pump(meta, 0, resp, flight, mark)
        if self._disk is not None and not self._drops.overtaken(mark, key, meta.etag):
            await self._disk.put_meta(meta)

    # -- pull zones (RFC 9111) ------------------------------------------------------------------

    async def lookup_zone(self, key: str, request: ClientRequest, *, share: bool = True) -> LookupResult:
        """A pull zone's lookup of ``key`` (a request target, see :class:`UpstreamClient`) for ``request``.

        Statuses: ``hit`` (fresh, no I/O), ``swr`` (stale served, revalidation started), ``miss``
        (fetched, stored), ``pass`` (fetched, not storable: ``meta.http.reason``; call :meth:`release`
        once delivered), ``revalidated`` (304), ``updated`` (a stored entry replaced), ``stale``
        (upstream failing, served stale). Concurrent lookups share one upstream request, except for
        requests with ``Authorization``, and a shared answer that turns out not storable is fetched
        again for each waiter (it may be meant for one client only). 504 for ``only-if-cached``
        without a usable entry; 502 when the upstream fails and nothing may stand in.
        """
        meta = self._metas.get(key)
        if meta is not None and meta.http is not None and freshness.vary_matches(meta.http, request):
            age = freshness.current_age(meta.http, meta.fetched_at, self._clock())
            use = freshness.usability(meta.http, age, request)
            if use == "fresh":
                self.stats["lookup.hit"] += 1
                return meta, "hit"
            if use == "swr" and not request.only_if_cached:
                if key not in self._lookups:
                    future = self._lookups[key] = asyncio.get_running_loop().create_future()
                    self._spawn(self._refresh(key, meta, future, request))
                self.stats["lookup.swr"] += 1
                return meta, "swr"
        else:
            meta = None
        if request.only_if_cached:
            raise HTTPError(504, "Not in the edge cache (only-if-cached)")
        share = share and not request.authorization
        joined = self._lookups.get(key) if share else None
        own = joined is None
        if joined is not None:
            future = joined
        else:
            future = asyncio.get_running_loop().create_future()
            if share:
                self._lookups[key] = future
            self._spawn(self._refresh(key, meta, future, request))
        result = await asyncio.shield(future)
        if isinstance(result, HTTPError):
            self.stats["lookup.error"] += 1
            raise copy.copy(result) from result
        if not own and result[1] == "pass":
            return await self.lookup_zone(key, request, share=False)
        self.stats[f"lookup.{result[1]}"] += 1
        return result

    def release(self, meta: ObjectMeta) -> None:
        """Forget the bytes of a ``pass`` answer once delivered (no-store: out of memory promptly)."""
        if meta.http is not None and not meta.http.stored:
            for index in range(slice_count(meta.size, self._slice)):
                self._memory.discard((meta.key, meta.etag, index))

    async def invalidate(self, target: str) -> int:
        """Drop ``target`` and its Vary'd variants (RFC 9111 §4.4)."""
        return await self.purge(target) + await self.purge(target + "#", prefix=True)

    async def _ask_upstream(
        self,
        key: str,
        cached: ObjectMeta | None,
        request: ClientRequest,
        settle: Callable[[LookupResult | HTTPError], None],
        mark: int,
    ) -> None:
        """Validate or fetch ``key`` at the upstream; the disk tier first when memory had nothing."""
        if cached is None and self._disk is not None:
            cached = await self._disk.get_meta(key)
            if cached is not None and (cached.http is None or not freshness.vary_matches(cached.http, request)):
                cached = None
            if cached is not None and cached.http is not None:
                age = freshness.current_age(cached.http, cached.fetched_at, self._clock())
                use = freshness.usability(cached.http, age, request)
                if use in ("fresh", "swr") and not self._drops.overtaken(mark, key, cached.etag):
                    self._metas[key] = cached
                if use == "fresh":
                    settle((cached, "hit"))
                    return
                if use == "swr":
                    settle((cached, "swr"))  # and revalidate below
        headers = dict(request.forward)
        if cached is not None and cached.http is not None:
            if not cached.etag.startswith("~"):
                headers["if-none-match"] = cached.etag
            if last_modified := cached.http.header("last-modified"):
                headers["if-modified-since"] = last_modified
        request_time = self._clock()
        try:
            for byte_range in ((0, self._slice - 1), None):  # no Range if the object is empty (416)
                async with self._origin.open(key, byte_range=byte_range, headers=headers) as resp:
                    self._latency.observe(resp.elapsed)
                    if resp.status == 416 and byte_range is not None:
                        continue
                    if cached is not None and resp.status in _UPSTREAM_ERRORS and self._stale_ok(cached, False):
                        settle((cached, "stale"))
                        await resp.discard()
                        return
                    await self._on_upstream_response(key, cached, request, resp, request_time, settle, mark)
                    return
        except OriginError as exc:
            if cached is None or not self._stale_ok(cached, True):
                raise
            log.warning("upstream failed for %s, serving stale: %r", key, exc.__cause__ or exc)
            settle((cached, "stale"))

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
        settle: Callable[[LookupResult | HTTPError], None],
        mark: int,
    ) -> None:
        response_time = self._clock()
        fields = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in resp.headers.raw]
        if resp.status == 304:
            if cached is None or cached.http is None:
                raise OriginError("Upstream answered 304 to an unconditional request")
            http = freshness.updated(cached.http, fields, request_time, response_time)
            meta = dataclasses.replace(cached, fetched_at=response_time, http=http)
            await self._keep(meta, mark) if http.stored else await self._drop(cached.key)
            settle((meta, "revalidated"))
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
            await self._drop(cached.key) if not http.stored else self._spawn(self._drop_other_versions(meta))
        flights = self._open_flights(meta, 1 if resp.status == 206 else None)
        if http.stored and not self._drops.overtaken(mark, meta.key, meta.etag):
            self._metas[meta.key] = meta
        settle((meta, "pass" if not http.stored else "miss" if cached is None else "updated"))
        if resp.status == 206:
            if flights:
                async with self._flying((meta.key, meta.etag, 0), flights[0]):
                    await self._pump(meta, 0, resp, flights[0], mark)
            else:
                await resp.discard()
        else:
            await self._pump_whole(meta, chunks, flights, mark)
        if http.stored and self._disk is not None and not self._drops.overtaken(mark, meta.key, meta.etag):
            await self._disk.put_meta(meta)

    async def _keep(self, meta: ObjectMeta, mark: int) -> None:
        if not self._drops.overtaken(mark, meta.key, meta.etag):
            self._metas[meta.key] = meta
            if self._disk is not None:
                await self._disk.put_meta(meta)

    def _open_flights(self, meta: ObjectMeta, count: int | None) -> list[Flight]:
        """Register flights for the first ``count`` slices (all by default) of ``meta``, so readers
        join them instead of fetching."""
        total = slice_count(meta.size, self._slice)
        flights = [Flight() for _ in range(total if count is None else min(count, total))]
        for index, flight in enumerate(flights):
            self._flights[(meta.key, meta.etag, index)] = flight
        return flights

    async def _pump_whole(
        self, meta: ObjectMeta, chunks: AsyncIterator[bytes], flights: list[Flight], mark: int
    ) -> None:
        """Cut a whole response body into slices as it arrives: each into its flight, then memory
        (and disk for a stored entry) unless a drop overtook it."""
        disk = self._disk if meta.http is not None and meta.http.stored else None
        self.stats["origin.fetch"] += 1
        async with contextlib.AsyncExitStack() as stack:
            for index, flight in enumerate(flights):
                await stack.enter_async_context(self._flying((meta.key, meta.etag, index), flight))
            index, received, buf = 0, 0, bytearray()
            async with aclosing(chunks) as body:  # type: ignore[type-var]
                async for chunk in body:
                    received += len(chunk)
                    self.stats["bytes_from_origin"] += len(chunk)
                    if received > meta.size:
                        raise OriginError("Upstream sent more bytes than announced")
                    while chunk:
                        first, last = slice_span(meta.size, self._slice, index)
                        take = chunk[: last - first + 1 - len(buf)]
                        chunk = chunk[len(take) :]
                        buf += take
                        flights[index].feed(take)
                        if len(buf) == last - first + 1:
                            data, buf = bytes(buf), bytearray()
                            keep = not self._drops.overtaken(mark, meta.key, meta.etag)
                            if keep:
                                self._memory.put((meta.key, meta.etag, index), data)
                            flights[index].finish()
                            if keep and disk is not None:
                                await disk.put(meta, index, data)
                            index += 1
            if received != meta.size:
                raise OriginError("Upstream sent an incomplete body")

    # -- read -----------------------------------------------------------------------------------

    async def read(self, meta: ObjectMeta, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes ``[start, end]`` (inclusive) of exactly ``meta``'s version, as they become available.

        Raises :class:`OriginError` (:class:`ObjectChanged` if the origin now has another version)
        when a needed slice cannot be fetched, ``ValueError`` for a range outside the object.
        """
        if start < 0 or end >= meta.size:
            raise ValueError(f"range {start}-{end} outside an object of {meta.size} bytes")
        if start > end:
            return
        for index, lo, hi in spans(start, end, self._slice):
            data = self._memory.get((meta.key, meta.etag, index))
            if data is not None:
                self.stats["memory.hit"] += 1
                yield data[lo:hi]
                continue
            self.stats["memory.miss"] += 1
            pos = 0
            async for chunk in self._flight(meta, index):
                if pos + len(chunk) > lo:
                    yield chunk[max(lo - pos, 0) : hi - pos]
                pos += len(chunk)
                if pos >= hi:
                    break

    def read_fast(self, meta: ObjectMeta, start: int, end: int) -> bytes | None:
        """Bytes ``[start, end]`` if every slice they need is in memory, else ``None``. No I/O."""
        if not 0 <= start <= end < meta.size:
            return None
        size = self._slice
        index = start // size
        if index == end // size:  # the common case: one slice
            data = self._memory.get((meta.key, meta.etag, index))
            if data is None:
                return None
            self.stats["memory.hit"] += 1
            return data[start - index * size : end - index * size + 1]
        parts = []
        for index, lo, hi in spans(start, end, size):
            data = self._memory.get((meta.key, meta.etag, index))
            if data is None:
                return None
            parts.append(memoryview(data)[lo:hi])  # views: the join below is the only copy
        self.stats["memory.hit"] += len(parts)
        return b"".join(parts)

    def _flight(self, meta: ObjectMeta, index: int) -> Flight:
        """The flight bringing slice ``index`` from disk or origin; joins one under way if any."""
        sid = (meta.key, meta.etag, index)
        flight = self._flights.get(sid)
        if flight is not None:
            self.stats["coalesced"] += 1
            return flight
        flight = self._flights[sid] = Flight()
        self._spawn(self._fill(meta, index, flight))
        return flight

    async def _fill(self, meta: ObjectMeta, index: int, flight: Flight) -> None:
        sid = (meta.key, meta.etag, index)
        first, last = slice_span(meta.size, self._slice, index)
        mark = self._drops.start()
        try:
            async with self._flying(sid, flight):
                if meta.http is not None and not _combinable(meta):
                    await self._drop(meta.key)  # no way to fetch exactly this version's slice: refetch it
                    raise ObjectChanged()
                if self._disk is not None:
                    data = await self._disk.get(sid, last - first + 1)
                    self.stats["disk.miss" if data is None else "disk.hit"] += 1
                    if data is not None:
                        if not self._drops.overtaken(mark, meta.key, meta.etag):
                            self._memory.put(sid, data)  # promote
                        flight.feed(data)
                        return
                extra = dict(meta.http.vary) if meta.http is not None else None
                async with self._origin.open(
                    meta.key, byte_range=(first, last), if_match=meta.etag, headers=extra
                ) as resp:
                    self._latency.observe(resp.elapsed)
                    if resp.status == 404:
                        await self._drop(meta.key)
                        raise ObjectNotFound()
                    if resp.status == 412 or (resp.status in (200, 206) and resp.etag != meta.etag):
                        await self._drop(meta.key)
                        raise ObjectChanged()
                    if not self._is_slice_body(resp, meta, index):
                        raise OriginError(f"Origin answered {resp.status} for bytes {first}-{last}")
                    await self._pump(meta, index, resp, flight, mark)
        finally:
            self._drops.finish()

    def _is_slice_body(self, resp: OriginResponse, meta: ObjectMeta, index: int) -> bool:
        """Whether the body is exactly slice ``index`` of ``meta``'s version: a 206 for its range,
        or a 200 when the slice is the whole object. A partial body never passes for a whole one."""
        first, last = slice_span(meta.size, self._slice, index)
        if resp.status == 206:
            return resp.content_range == (first, last, meta.size)
        whole = first == 0 and last == meta.size - 1
        return resp.status == 200 and whole and resp.content_length == meta.size

    async def _pump(self, meta: ObjectMeta, index: int, resp: OriginResponse, flight: Flight, mark: int) -> None:
        """Stream a slice body into its flight; keep it (memory, then disk) only if complete and not
        overtaken by a drop since ``mark``."""
        first, last = slice_span(meta.size, self._slice, index)
        expected = last - first + 1
        received = 0
        self.stats["origin.fetch"] += 1
        async with aclosing(resp.chunks()) as chunks:
            async for chunk in chunks:
                received += len(chunk)
                self.stats["bytes_from_origin"] += len(chunk)
                if received > expected:
                    raise OriginError("Origin sent more bytes than announced")
                flight.feed(chunk)
        if received != expected:
            raise OriginError("Origin sent an incomplete body")
        data = flight.data()
        keep = not self._drops.overtaken(mark, meta.key, meta.etag)
        if keep:
            self._memory.put((meta.key, meta.etag, index), data)
        flight.finish()
        if keep and self._disk is not None and (meta.http is None or meta.http.stored):
            await self._disk.put(meta, index, data)

    @asynccontextmanager
    async def _flying(self, sid: SliceId, flight: Flight) -> AsyncIterator[None]:
        """Run a flight's fetch: any failure ends the flight with an error (never raises out), and
        the flight leaves the registry when the fetch is over."""
        try:
            yield
        except HTTPError as exc:
            self.stats["origin.error"] += 1
            log.warning("fetching %s slice %d failed: %r", sid[0], sid[2], exc.__cause__ or exc)
            flight.finish(exc)
        except Exception:
            self.stats["origin.error"] += 1
            log.exception("fetching %s slice %d failed", sid[0], sid[2])
            flight.finish(OriginError())
        finally:
            flight.finish(OriginError("Edge cache closed"))  # no-op unless cancelled
            if self._flights.get(sid) is flight:
                del self._flights[sid]

    # -- invalidation ---------------------------------------------------------------------------

    async def purge(self, key: str, prefix: bool = False) -> int:
        """Forget ``key`` (or every key starting with ``key``) in every tier; return how many
        objects were cached."""
        hit = _matcher(key, prefix)
        for pending in [k for k in self._lookups if hit(k)]:
            del self._lookups[pending]  # its waiters still get their answer; new lookups start afresh
        dropped = await self._drop(key, prefix=prefix)
        self.stats["purged"] += dropped
        return dropped

    async def _drop(self, key: str, *, prefix: bool = False) -> int:
        """Drop metas, negative entries and slices of ``key`` (or the prefix) from every tier."""
        self._drops.record(Drop(key, prefix))
        hit = _matcher(key, prefix)
        keys = {k for k in self._metas if hit(k)}
        for k in keys:
            del self._metas[k]
        for k in [k for k in self._not_found if hit(k)]:
            del self._not_found[k]
        keys |= self._memory.drop(lambda sid: hit(sid[0]))
        if self._disk is not None:
            keys |= await self._disk.drop(key, prefix=prefix)
        return len(keys)

    async def _drop_other_versions(self, meta: ObjectMeta) -> None:
        """Drop the slices of ``meta.key`` that belong to any version but ``meta``'s."""
        self._drops.record(Drop(meta.key, keep_etag=meta.etag))
        self._memory.drop(lambda sid: sid[0] == meta.key and sid[1] != meta.etag)
        if self._disk is not None:
            await self._disk.drop(meta.key, keep_etag=meta.etag)

    # -- tasks ----------------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in a task of its own (not the requester's), logged if it fails."""
        task = asyncio.get_running_loop().create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("edge cache background task failed")
