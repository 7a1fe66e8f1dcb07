"""The default zone's lookup policy: the origin's objects (``GET /_edge/objects/{key}``).

``lookup`` answers what an object is: its fresh meta without any I/O (for ``edge.object_ttl``, see
:func:`~edge.cache.meta.freshness_lifetime`), then the disk tier's, and after its TTL a conditional
request (If-None-Match); the cached meta when the origin is down (stale-if-error). A 404 is remembered
for :data:`NOT_FOUND_TTL` seconds. The request asks for slice 0 too, so a miss on a small object costs
one round trip; its bytes go to a stream that readers join.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from cachetools import TTLCache

from edge.cache.errors import ObjectNotFound, OriginError
from edge.cache.front import CacheFront, LookupResult
from edge.cache.meta import ObjectMeta, freshness_lifetime
from edge.cache.origin import OriginClient, OriginResponse
from edge.cache.siblings import Siblings
from edge.cache.store import SliceStore, matcher
from edge.singleflight import Answer
from mediaedge.errors import HTTPError
from mediaedge.keys import validate_key
from mediaedge.settings import EdgeSettings

__all__ = ["EdgeCache"]

log = logging.getLogger("mediaedge.edge.cache")

NOT_FOUND_ENTRIES = 10_000
NOT_FOUND_TTL = 5.0  # seconds a 404 from the origin is remembered


class EdgeCache(CacheFront):
    """The origin's objects through a :class:`~edge.cache.store.SliceStore` over ``origin`` (which it
    owns: :meth:`close` closes it). ``clock`` (wall-clock seconds) is for tests; ``govern`` keeps the
    process within its memory budget (:mod:`edge.cache.budget`: a server process's one cache);
    ``siblings`` (worker processes) makes a cold miss reach the origin once per edge: a worker that
    waited on a sibling's fetch of the same object takes that sibling's result (:mod:`edge.cache.siblings`)."""

    def __init__(
        self,
        settings: EdgeSettings,
        origin: OriginClient,
        *,
        clock: Callable[[], float] = time.time,
        govern: bool = False,
        siblings: Siblings | None = None,
    ) -> None:
        super().__init__(SliceStore(settings, origin, govern, siblings), clock)
        self._siblings = siblings
        self._origin = origin
        self._ttl = float(settings.object_ttl)
        self._not_found: TTLCache[str, bool] = TTLCache(NOT_FOUND_ENTRIES, NOT_FOUND_TTL, timer=clock)

    async def lookup(self, key: str) -> LookupResult:
        """The meta of ``key`` and how it was obtained: ``"hit"`` (fresh, no I/O), ``"miss"``
        (fetched), ``"revalidated"`` (origin confirmed the cached version), ``"stale"`` (origin
        failing, cached meta served) or ``"sibling"`` (a sibling worker's fetch, waited for).
        Raises :class:`ObjectNotFound`, :class:`OriginError`, or :class:`~mediaedge.keys.InvalidKey`
        for a key that is not a valid object key."""
        meta = self.store.meta(key)
        if meta is not None and self._is_fresh(meta):
            self.stats["lookup.hit"] += 1
            return meta, "hit"
        if key in self._not_found:
            self.stats["lookup.not_found"] += 1
            raise ObjectNotFound()
        answer = self._lookups.get(key)
        if answer is None:
            validate_key(key)  # InvalidKey (a ValueError) for the caller, before any task or I/O
            answer = Answer()
            self._lookups.start(key, answer, self._refresh(key, meta, answer))
        result = await self._wait(answer)
        self.stats[f"lookup.{result[1]}"] += 1
        return result

    def lookup_fast(self, key: str) -> ObjectMeta | None:
        """The fresh meta of ``key`` held in memory (counted as a lookup hit), else None. No I/O:
        the fast path (:mod:`edge.fastpath`) checks with it that an answer is still current."""
        meta = self.store.meta(key)
        if meta is not None and self._is_fresh(meta):
            self.stats["lookup.hit"] += 1
            return meta
        return None

    async def purge(self, key: str, prefix: bool = False) -> int:
        hit = matcher(key, prefix)
        for k in [k for k in self._not_found if hit(k)]:
            del self._not_found[k]
        return await super().purge(key, prefix)

    def _is_fresh(self, meta: ObjectMeta) -> bool:
        age = self._clock() - meta.fetched_at
        return 0 <= age < freshness_lifetime(meta.cache_control, self._ttl)

    async def _refresh(self, key: str, cached: ObjectMeta | None, answer: Answer[LookupResult]) -> None:
        """The one task behind concurrent lookups of ``key``: disk, then the origin."""
        with self.store.epoch() as mark:
            try:
                if cached is None:
                    cached = await self.store.stored_meta(key)
                    if cached is not None and self._is_fresh(cached):
                        self.store.remember(cached, mark)
                        answer.settle((cached, "hit"))
                        return
                if cached is not None or self._siblings is None:
                    await self._ask_origin(key, cached, answer, mark)
                    return
                async with self._siblings.fetching(f"meta\0{key}") as waited:
                    found = await self._siblings.meta(key) if waited else None
                    if found is not None and self._is_fresh(found):  # what the sibling just fetched
                        await self.store.keep(found, mark)
                        answer.settle((found, "sibling"))
                        return
                    await self._ask_origin(key, cached, answer, mark)
            except HTTPError as exc:
                answer.fail(exc)
            except Exception:
                log.exception("lookup of %s failed", key)
                answer.fail(OriginError())

    async def _ask_origin(self, key: str, cached: ObjectMeta | None, answer: Answer[LookupResult], mark: int) -> None:
        """Fetch or revalidate the meta of ``key``, slice 0 with it."""
        etag = cached.etag if cached is not None else None
        slice_bytes = self.store.slice
        try:
            for byte_range in ((0, slice_bytes - 1), None):  # no Range if the object is empty (416)
                async with self._origin.open(key, byte_range=byte_range, if_none_match=etag) as resp:
                    self.store.latency.observe(resp.elapsed)
                    if resp.status != 416 or byte_range is None:
                        await self._on_meta_response(key, cached, resp, answer, mark)
                        return
        except OriginError as exc:
            if cached is None:
                raise
            log.warning("origin failed for %s, serving stale: %r", key, exc.__cause__ or exc)
            answer.settle((cached, "stale"))

    async def _on_meta_response(
        self, key: str, cached: ObjectMeta | None, resp: OriginResponse, answer: Answer[LookupResult], mark: int
    ) -> None:
        store = self.store
        if resp.status == 404:
            purged = store.overtaken(mark, key, "")  # since the request: the object may exist now
            await store.drop(key)
            if not purged:
                self._not_found[key] = True
            raise ObjectNotFound()
        stream = None
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
            if meta.size and not store.fetching(sid) and store.is_slice_body(resp, meta, 0):
                (stream,) = store.open_streams(meta, 1)
        else:
            raise OriginError(f"Origin answered {resp.status}")
        store.remember(meta, mark)  # if overtaken by a drop: answer the waiters, keep nothing
        answer.settle((meta, status))
        if cached is not None and cached.etag != meta.etag:
            store.drop_other_versions(meta)
        if stream is None:
            await resp.discard()
        else:
            async with store.feeding(sid, stream):
                await store.pump(meta, 0, resp, stream, mark)
        await store.persist(meta, mark)
