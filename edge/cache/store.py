"""The slice store: object metas and slice bytes across memory, disk and the origin behind them.

It knows versions (``(key, etag)``) and slices, not HTTP: a lookup policy in front of it
(:mod:`edge.cache.objects` for the origin's objects, :mod:`edge.cache.pull` for RFC 9111 pull zones)
decides what a key's current meta is and stores it here; the store answers byte ranges of exactly that
version. ``read`` streams from memory, else disk, else origin, one slice at a time; concurrent misses of
a slice share one fetch (a :class:`~edge.singleflight.Stream`), run in a task of its own so a reader that
goes away never cancels bytes other readers wait for. A fetch overtaken by a purge stores nothing of
what the purge removed (:mod:`edge.cache.droplog`). Built for asyncio (uvicorn, hypercorn).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import BinaryIO

from cachetools import LRUCache

from edge.cache.budget import Governor
from edge.cache.disk import DiskTier
from edge.cache.droplog import Drop, DropLog
from edge.cache.errors import ObjectChanged, ObjectNotFound, OriginError
from edge.cache.memory import MemoryTier
from edge.cache.meta import ObjectMeta
from edge.cache.origin import OriginClient, OriginResponse, UpstreamClient
from edge.cache.siblings import Siblings
from edge.cache.slices import SliceId, slice_count, slice_span, spans
from edge.cache.stats import Histogram, LatencyHistogram, new_counters
from edge.singleflight import SingleFlight, Stream, Tasks
from mediaedge.errors import HTTPError
from mediaedge.settings import EdgeSettings

__all__ = ["SliceStore", "matcher"]

log = logging.getLogger("mediaedge.edge.cache")

META_ENTRIES = 100_000  # metas kept in memory (a few hundred bytes each)
#: Bytes a read holds without I/O: one slice's bytes, or the tier's slices' views in order (no copy).
Held = bytes | tuple[memoryview, ...]


def matcher(key: str, prefix: bool) -> Callable[[str], bool]:
    """A test for object keys: equal to ``key``, or with ``prefix`` starting with it."""
    return (lambda k: k.startswith(key)) if prefix else (lambda k: k == key)


def closed() -> OriginError:
    """What the readers of a fetch cancelled by :meth:`SliceStore.close` get."""
    return OriginError("Edge cache closed")


def _combinable(meta: ObjectMeta) -> bool:
    """Whether slices of a pull-zone entry can be fetched one by one (RFC 9111 §3.4): a 200 with a
    strong ETag (sent as If-Match). Anything else is only ever stored from one whole response."""
    return meta.http is not None and meta.http.status == 200 and meta.etag.startswith('"')


class SliceStore:
    """Memory tier, disk tier (when ``disk_cache_dir`` and ``disk_cache_bytes`` are set) and ``origin``,
    which it owns (:meth:`close` closes it). With ``govern`` the memory tier shrinks to keep the whole
    process within its budget (:mod:`edge.cache.budget`; the default zone's store, one per process);
    with ``siblings`` (worker processes) a slice missing here is fetched once per edge
    (:mod:`edge.cache.siblings`)."""

    def __init__(
        self,
        settings: EdgeSettings,
        origin: OriginClient | UpstreamClient,
        govern: bool = False,
        siblings: Siblings | None = None,
    ) -> None:
        self.origin = origin
        self.siblings = siblings
        self.slice = settings.slice_bytes
        self.memory = MemoryTier(settings.memory_cache_bytes)
        self.governor = Governor(self.memory) if govern else None
        self.disk = (
            DiskTier(Path(settings.disk_cache_dir), settings.disk_cache_bytes, settings.slice_bytes)
            if settings.disk_cache_dir and settings.disk_cache_bytes > 0
            else None
        )
        self.tasks = Tasks("edge cache background task", log)
        self.latency = LatencyHistogram()
        self.stats: dict[str, int] = new_counters()
        self._metas: LRUCache[str, ObjectMeta] = LRUCache(META_ENTRIES)
        self._slices: SingleFlight[SliceId, Stream] = SingleFlight(self.tasks, closed)
        self._drops = DropLog()

    async def start(self) -> None:
        """Open the disk tier (index, reconciliation with the directory)."""
        if self.disk is not None:
            await self.disk.open()
        if self.governor is not None:
            self.tasks.spawn(self.governor.run())

    async def close(self) -> None:
        """Stop fetches under way (their readers get :class:`OriginError`), close disk and origin."""
        await self.tasks.cancel()
        if self.disk is not None:
            await self.disk.close()
        await self.origin.aclose()

    def histogram(self) -> Histogram:
        """Origin response times (seconds to headers) as cumulative Prometheus buckets, sum, count."""
        return self.latency.snapshot()

    async def join(self) -> None:
        """Wait until every fetch under way has finished (its bytes stored or dropped)."""
        await self.tasks.join()

    def bytes_cached(self) -> dict[str, int]:
        """Bytes held per tier, for gauges: ``{"memory": ..., "disk": ...}`` (disk counts file sizes)."""
        return {"memory": self.memory.bytes_used, "disk": self.disk.bytes_used if self.disk else 0}

    def tiers(self) -> dict[str, dict[str, int]]:
        """Per tier its bytes, slices (entries) and byte limit now, for gauges; with a governor also the
        process's resident set last measured (``{"process": {"bytes": ...}}``)."""
        memory = self.memory
        tiers = {"memory": {"bytes": memory.bytes_used, "entries": len(memory), "limit": memory.limit}}
        if self.disk is not None:
            tiers["disk"] = {"bytes": self.disk.bytes_used, "entries": len(self.disk), "limit": self.disk.max_bytes}
        if self.governor is not None and self.governor.rss:
            tiers["process"] = {"bytes": self.governor.rss}
        return tiers

    def _promote(self, sid: SliceId, data: bytes) -> None:
        """Keep a slice in memory (after a fill): the governor measures first, what the fill holds included."""
        if self.governor is not None:
            self.governor.maybe_check()
        self.memory.put(sid, data)

    # -- metas ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def epoch(self) -> Iterator[int]:
        """Work that may store what a concurrent purge removes: the mark to pass to :meth:`overtaken`."""
        mark = self._drops.start()
        try:
            yield mark
        finally:
            self._drops.finish()

    def overtaken(self, mark: int, key: str, etag: str) -> bool:
        """Whether a drop since ``mark`` (see :meth:`epoch`) covers version ``etag`` of ``key``."""
        return self._drops.overtaken(mark, key, etag)

    def meta(self, key: str) -> ObjectMeta | None:
        """The meta of ``key`` held in memory, fresh or not. No I/O."""
        return self._metas.get(key)

    async def stored_meta(self, key: str) -> ObjectMeta | None:
        """The meta of ``key`` on disk, if there is a disk tier."""
        return await self.disk.get_meta(key) if self.disk is not None else None

    def remember(self, meta: ObjectMeta, mark: int) -> None:
        """Hold ``meta`` in memory unless a drop since ``mark`` covers it."""
        if not self._drops.overtaken(mark, meta.key, meta.etag):
            self._metas[meta.key] = meta

    async def persist(self, meta: ObjectMeta, mark: int) -> None:
        """Write ``meta`` to disk unless a drop since ``mark`` covers it."""
        if self.disk is not None and not self._drops.overtaken(mark, meta.key, meta.etag):
            await self.disk.put_meta(meta)

    async def keep(self, meta: ObjectMeta, mark: int) -> None:
        """:meth:`remember` and :meth:`persist`."""
        self.remember(meta, mark)
        await self.persist(meta, mark)

    # -- fill -----------------------------------------------------------------------------------

    def open_streams(self, meta: ObjectMeta, count: int | None = None) -> list[Stream]:
        """Streams for the first ``count`` slices (all by default) of ``meta``, claimed so readers join
        them instead of fetching; the caller feeds each within :meth:`feeding`."""
        total = slice_count(meta.size, self.slice)
        return [
            self._slices.claim((meta.key, meta.etag, index), Stream())
            for index in range(total if count is None else min(count, total))
        ]

    def fetching(self, sid: SliceId) -> bool:
        """Whether slice ``sid`` is being fetched."""
        return self._slices.get(sid) is not None

    @asynccontextmanager
    async def feeding(self, sid: SliceId, stream: Stream) -> AsyncIterator[None]:
        """Run a slice fetch: any failure ends its stream with an error (never raises out), and the
        slice is free again when the fetch is over."""
        async with self._slices.feeding(sid, stream):
            try:
                yield
            except HTTPError as exc:
                self.stats["origin.error"] += 1
                log.warning("fetching %s slice %d failed: %r", sid[0], sid[2], exc.__cause__ or exc)
                stream.fail(exc)
            except Exception:
                self.stats["origin.error"] += 1
                log.exception("fetching %s slice %d failed", sid[0], sid[2])
                stream.fail(OriginError())

    def is_slice_body(self, resp: OriginResponse, meta: ObjectMeta, index: int) -> bool:
        """Whether the body is exactly slice ``index`` of ``meta``'s version: a 206 for its range,
        or a 200 when the slice is the whole object. A partial body never passes for a whole one."""
        first, last = slice_span(meta.size, self.slice, index)
        if resp.status == 206:
            return resp.content_range == (first, last, meta.size)
        whole = first == 0 and last == meta.size - 1
        return resp.status == 200 and whole and resp.content_length == meta.size

    async def pump(self, meta: ObjectMeta, index: int, resp: OriginResponse, stream: Stream, mark: int) -> None:
        """Stream a slice body into its stream; keep it (memory, then disk) only if complete and not
        overtaken by a drop since ``mark``."""
        first, last = slice_span(meta.size, self.slice, index)
        expected = last - first + 1
        received = 0
        self.stats["origin.fetch"] += 1
        async with aclosing(resp.chunks()) as chunks:
            async for chunk in chunks:
                received += len(chunk)
                self.stats["bytes_from_origin"] += len(chunk)
                if received > expected:
                    raise OriginError("Origin sent more bytes than announced")
                stream.feed(chunk)
        if received != expected:
            raise OriginError("Origin sent an incomplete body")
        data = stream.data()
        keep = not self._drops.overtaken(mark, meta.key, meta.etag)
        if keep:
            self._promote((meta.key, meta.etag, index), data)
        stream.finish()
        if keep and self.disk is not None and (meta.http is None or meta.http.stored):
            await self.disk.put(meta, index, data)

    async def pump_whole(
        self, meta: ObjectMeta, chunks: AsyncIterator[bytes], streams: list[Stream], mark: int
    ) -> None:
        """Cut a whole response body into slices as it arrives: each into its stream (from
        :meth:`open_streams`), then memory (and disk for a stored entry) unless a drop overtook it."""
        disk = self.disk if meta.http is not None and meta.http.stored else None
        self.stats["origin.fetch"] += 1
        async with contextlib.AsyncExitStack() as stack:
            for index, stream in enumerate(streams):
                await stack.enter_async_context(self.feeding((meta.key, meta.etag, index), stream))
            index, received, buf = 0, 0, bytearray()
            async with aclosing(chunks) as body:  # type: ignore[type-var]
                async for chunk in body:
                    received += len(chunk)
                    self.stats["bytes_from_origin"] += len(chunk)
                    if received > meta.size:
                        raise OriginError("Upstream sent more bytes than announced")
                    while chunk:
                        first, last = slice_span(meta.size, self.slice, index)
                        take = chunk[: last - first + 1 - len(buf)]
                        chunk = chunk[len(take) :]
                        buf += take
                        streams[index].feed(take)
                        if len(buf) == last - first + 1:
                            data, buf = bytes(buf), bytearray()
                            keep = not self._drops.overtaken(mark, meta.key, meta.etag)
                            if keep:
                                self._promote((meta.key, meta.etag, index), data)
                            streams[index].finish()
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
        for index, lo, hi in spans(start, end, self.slice):
            data = self.memory.get((meta.key, meta.etag, index))
            if data is not None:
                self.stats["memory.hit"] += 1
                yield data if lo == 0 and hi == len(data) else memoryview(data)[lo:hi]  # type: ignore[misc]
                continue
            self.stats["memory.miss"] += 1
            pos = 0
            async for chunk in self._stream(meta, index):
                if pos + len(chunk) > lo:
                    yield chunk[max(lo - pos, 0) : hi - pos]
                pos += len(chunk)
                if pos >= hi:
                    break

    def read_fast(self, meta: ObjectMeta, start: int, end: int) -> bytes | None:
        """Bytes ``[start, end]`` if every slice they need is in memory, else ``None``. No I/O.
        Several slices are joined into a copy: answers use :meth:`read_held`."""
        held = self.read_held(meta, start, end)
        return held if held is None or isinstance(held, bytes) else b"".join(held)

    def read_held(self, meta: ObjectMeta, start: int, end: int) -> Held | None:
        """Bytes ``[start, end]`` as the memory tier holds them, if every slice they need is there, else
        ``None``. No I/O, and no copy of more than one slice's part: within one slice its bytes (the
        slice itself when the range is all of it), across slices a view of each in order."""
        if not 0 <= start <= end < meta.size:
            return None
        size = self.slice
        index = start // size
        if index == end // size:  # the common case: one slice
            data = self.memory.get((meta.key, meta.etag, index))
            if data is None:
                return None
            self.stats["memory.hit"] += 1
            return data[start - index * size : end - index * size + 1]  # the very slice when whole
        parts = []
        for index, lo, hi in spans(start, end, size):
            data = self.memory.get((meta.key, meta.etag, index))
            if data is None:
                return None
            parts.append(memoryview(data)[lo:hi])
        self.stats["memory.hit"] += len(parts)
        return tuple(parts)

    def open_fast(self, meta: ObjectMeta, start: int, end: int) -> list[tuple[BinaryIO, int, int]] | None:
        """For a zero-copy send of bytes ``[start, end]``: per slice, its open disk file, the offset
        and the count of the bytes in it — if every slice they need is on disk, else None. The caller
        closes the files. No read; the memory tier is left as it is."""
        if self.disk is None or not 0 <= start <= end < meta.size:
            return None
        parts: list[tuple[BinaryIO, int, int]] = []
        for index, lo, hi in spans(start, end, self.slice):
            first, last = slice_span(meta.size, self.slice, index)
            opened = self.disk.open_slice((meta.key, meta.etag, index), last - first + 1)
            if opened is None:
                for file, _, _ in parts:
                    file.close()
                return None
            parts.append((opened[0], opened[1] + lo, hi - lo))
        self.stats["disk.hit"] += len(parts)
        return parts

    def _stream(self, meta: ObjectMeta, index: int) -> Stream:
        """The stream bringing slice ``index`` from disk or origin; joins one under way if any."""
        sid = (meta.key, meta.etag, index)
        stream = self._slices.get(sid)
        if stream is not None:
            self.stats["coalesced"] += 1
            return stream
        stream = self._slices.claim(sid, Stream())
        self.tasks.spawn(self._fill(meta, index, stream))
        return stream

    async def _fill(self, meta: ObjectMeta, index: int, stream: Stream) -> None:
        sid = (meta.key, meta.etag, index)
        first, last = slice_span(meta.size, self.slice, index)
        with self.epoch() as mark:
            async with self.feeding(sid, stream):
                if meta.http is not None and not _combinable(meta):
                    await self.drop(meta.key)  # no way to fetch exactly this version's slice: refetch it
                    raise ObjectChanged()
                if self.disk is not None:
                    data = await self.disk.get(sid, last - first + 1)
                    self.stats["disk.miss" if data is None else "disk.hit"] += 1
                    if data is not None:
                        self._filled(meta, sid, data, stream, mark)
                        return
                if self.siblings is None:
                    await self._fetch(meta, index, stream, mark)
                    return
                async with self.siblings.fetching(f"slice\0{sid[0]}\0{sid[1]}\0{self.slice}\0{index}"):
                    data = await self.siblings.slice(sid, last - first + 1)  # a sibling fetched it already
                    if data is not None:
                        self.stats["sibling.hit"] += 1
                        self._filled(meta, sid, data, stream, mark)
                        return
                    await self._fetch(meta, index, stream, mark)

    def _filled(self, meta: ObjectMeta, sid: SliceId, data: bytes, stream: Stream, mark: int) -> None:
        """A slice read whole from a disk tier: into memory unless overtaken by a drop, and to its readers."""
        if not self._drops.overtaken(mark, meta.key, meta.etag):
            self._promote(sid, data)
        stream.feed(data)
        stream.finish()

    async def _fetch(self, meta: ObjectMeta, index: int, stream: Stream, mark: int) -> None:
        """Slice ``index`` of exactly ``meta``'s version from the origin, into ``stream`` and the tiers."""
        first, last = slice_span(meta.size, self.slice, index)
        extra = dict(meta.http.vary) if meta.http is not None else None
        async with self.origin.open(meta.key, byte_range=(first, last), if_match=meta.etag, headers=extra) as resp:
            self.latency.observe(resp.elapsed)
            if resp.status == 404:
                await self.drop(meta.key)
                raise ObjectNotFound()
            if resp.status == 412 or (resp.status in (200, 206) and resp.etag != meta.etag):
                await self.drop(meta.key)
                raise ObjectChanged()
            if not self.is_slice_body(resp, meta, index):
                raise OriginError(f"Origin answered {resp.status} for bytes {first}-{last}")
            await self.pump(meta, index, resp, stream, mark)

    # -- invalidation ---------------------------------------------------------------------------

    async def purge(self, key: str, prefix: bool = False) -> int:
        """Forget ``key`` (or every key starting with ``key``) in every tier; return how many objects
        were cached."""
        dropped = await self.drop(key, prefix=prefix)
        self.stats["purged"] += dropped
        return dropped

    async def drop(self, key: str, *, prefix: bool = False) -> int:
        """Drop metas and slices of ``key`` (or the prefix) from every tier; how many objects had any."""
        self._drops.record(Drop(key, prefix))
        hit = matcher(key, prefix)
        keys = {k for k in self._metas if hit(k)}
        for k in keys:
            del self._metas[k]
        keys |= self.memory.drop(lambda sid: hit(sid[0]))
        if self.disk is not None:
            keys |= await self.disk.drop(key, prefix=prefix)
        return len(keys)

    def drop_other_versions(self, meta: ObjectMeta) -> None:
        """Drop (in the background) the slices of ``meta.key`` of any version but ``meta``'s."""
        self.tasks.spawn(self._drop_other_versions(meta))

    async def _drop_other_versions(self, meta: ObjectMeta) -> None:
        self._drops.record(Drop(meta.key, keep_etag=meta.etag))
        self.memory.drop(lambda sid: sid[0] == meta.key and sid[1] != meta.etag)
        if self.disk is not None:
            await self.disk.drop(meta.key, keep_etag=meta.etag)

    def discard(self, meta: ObjectMeta) -> None:
        """Forget the slices of ``meta``'s version held in memory."""
        for index in range(slice_count(meta.size, self.slice)):
            self.memory.discard((meta.key, meta.etag, index))
