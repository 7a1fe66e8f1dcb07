"""The ``stream.process`` job: drive a stream's provider from ``pending`` to ``ready``.

Attempt by attempt: the stream turns ``processing`` (webhook), the provider encodes (local) or is
polled (remote) while progress is recorded, the outputs are put in place (``downloading``, webhook)
and the stream turns ``ready`` (webhook) with its URLs; the edges are told to forget its output
directory. A provider that makes renditions one at a time (ffmpeg) publishes each as it is done: its
URLs and ``outputs`` (each rendition's status) are saved while the stream is still ``processing``, so
it plays what is done, and a retried attempt is handed those outputs to keep what they list as made.
A provider's :class:`ProviderRejected` fails the stream at once; other errors are retried with
backoff, and when retries run out the stream turns ``failed`` (webhook) in the transaction that fails
the job — or, when some of its renditions were made, ``ready`` with the others marked ``failed``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from typing import Any

from mediaedge.qualities import parse_qualities
from mediaedge.streams import ProviderRejected, ProviderStream, StreamContext, StreamProvider, StreamSource
from origin.jobs import Job, PermanentJobError, register_job
from origin.media.tracks import publish_captions
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store.db import Conn
from origin.store.streams import StreamRecord
from origin.streams.events import transition
from origin.streams.sources import get_provider, stream_context, stream_source, work_dir

STREAM_JOB = "stream.process"
log = logging.getLogger("mediaedge.streams")
BACKOFF = (5.0, 10.0, 20.0)
MAX_ATTEMPTS = 4
#: Progress is written at most this often, and only when it moved by a whole percent.
PROGRESS_INTERVAL = 1.0


class StreamGone(PermanentJobError):
    """The stream was deleted while it was being made."""


class _Reporter:
    """``StreamContext.report``: status changes with their webhook, throttled progress without."""

    def __init__(self, state: OriginState, stream: StreamRecord) -> None:
        self.state, self.stream_id, self.status = state, stream.id, stream.status
        self.progress, self.written_at = stream.progress, 0.0

    async def __call__(self, status: str, progress: float | None) -> None:
        if status != self.status:
            changes: dict[str, Any] = {} if progress is None else {"progress": round(progress, 1)}
            async with self.state.store.transaction() as tx:
                if await transition(self.state, tx, self.stream_id, status, **changes) is None:
                    raise StreamGone("the stream was deleted")
            self.status = status
        elif progress is not None and abs(progress - self.progress) >= 1 and self._due():
            async with self.state.store.transaction() as tx:
                if not await self.state.store.streams.update(tx, self.stream_id, progress=round(progress, 1)):
                    raise StreamGone("the stream was deleted")
            self.progress, self.written_at = progress, time.monotonic()

    def _due(self) -> bool:
        return time.monotonic() - self.written_at >= PROGRESS_INTERVAL


class _Publisher:
    """``StreamContext.publish``: save a stream's URLs and outputs as its renditions are published, and
    make the edges forget the manifests that changed (not the status: that moves with the job)."""

    def __init__(self, state: OriginState, stream: StreamRecord) -> None:
        self.state, self.stream = state, stream

    async def __call__(self, result: ProviderStream) -> None:
        await _save(
            self.state,
            self.stream.id,
            hls_url=result.hls_url,
            dash_url=result.dash_url,
            thumbnail=result.thumbnail,
            outputs=dict(result.outputs),
        )
        prefix = self.stream.output_prefix
        manifests = [url for url in (result.hls_url, result.dash_url) if url]
        if prefix and manifests:
            await purge_edges(self.state, [f"{prefix}{url.rsplit('/', 1)[1]}" for url in manifests])


async def run_stream(state: OriginState, job: Job) -> dict[str, Any]:
    stream = await state.store.streams.get(job.payload["stream_id"])
    if stream is None:
        raise StreamGone("the stream was deleted")
    if stream.status == "ready":  # an earlier attempt made it, then lost its job before marking it done
        return {"uid": stream.uid, "hls_url": stream.hls_url, "dash_url": stream.dash_url}
    try:
        provider = get_provider(state, stream.provider)
    except ValueError as exc:
        raise PermanentJobError(str(exc)) from None
    source = await stream_source(state, stream)
    root = work_dir(state, stream.id)
    await asyncio.to_thread(shutil.rmtree, root, True)  # an earlier attempt's leftovers, if its worker died
    scratch = root / f"attempt-{job.attempt}"
    await asyncio.to_thread(scratch.mkdir, parents=True)
    report = _Reporter(state, stream)
    ctx = stream_context(state, stream, scratch, report)
    ctx.previous = dict(stream.outputs)
    ctx.publish = _Publisher(state, stream)
    made: ProviderStream | None = None
    try:
        if not provider.remote and stream.uid != stream.id:  # a local provider's uid is the stream's id
            await _save(state, stream.id, uid=stream.id)
        await report("processing", 0.0)
        made = result = await _make(state, stream, provider, source, ctx)
        if result.state == "failed":
            raise PermanentJobError(result.error or f"{provider.name} could not make the stream")
        await report("downloading", None)
        if stream.output_prefix:  # captions the asset got while it was transcoding join its manifests
            try:
                await publish_captions(state, stream)
            except Exception:  # the stream is good without them; adding a caption publishes again
                log.exception("stream %s: publishing its captions failed", stream.id)
        async with state.store.transaction() as tx:
            done = await transition(
                state,
                tx,
                stream.id,
                "ready",
                uid=result.uid,
                progress=100.0,
                hls_url=result.hls_url,
                dash_url=result.dash_url,
                thumbnail=result.thumbnail,
                duration=result.duration,
                outputs=dict(result.outputs),
                error=None,
            )
        if done is None:
            raise StreamGone("the stream was deleted")
        if stream.output_prefix:  # a player polling master.m3u8 left a 404 the edges remember
            await purge_edges(state, [], [stream.output_prefix])
        return {"uid": result.uid, "hls_url": result.hls_url, "dash_url": result.dash_url}
    except ProviderRejected as exc:
        raise PermanentJobError(str(exc)) from exc
    except Exception as exc:
        # Deleted while it was being made or published: leave nothing behind. A delete removes the
        # outputs before the row, so what this attempt published in between would stay; and the
        # delete can make the attempt fail on its own (a manifest's rendition gone under it), which
        # must not be retried as if the stream were still wanted.
        if not isinstance(exc, StreamGone) and await state.store.streams.get(stream.id) is not None:
            raise
        uid = made.uid if made is not None else None if provider.remote else stream.id
        if uid:
            await provider.delete(uid, source, ctx)
        if isinstance(exc, StreamGone):
            raise
        raise StreamGone("the stream was deleted") from exc
    finally:
        await asyncio.to_thread(shutil.rmtree, root, True)


async def _make(
    state: OriginState, stream: StreamRecord, provider: StreamProvider, source: StreamSource, ctx: StreamContext
) -> ProviderStream:
    """Create the stream (or pick up a remote one an earlier attempt created) and wait for its end."""
    if provider.remote and stream.uid:
        result = await provider.status(stream.uid, source, ctx)
    else:
        qualities = parse_qualities(stream.qualities) if stream.qualities else None
        result = await provider.create(source, qualities, ctx)
        if provider.remote:
            try:
                await _save(state, stream.id, uid=result.uid)
            except StreamGone:  # deleted while the provider was creating it: do not leave it there
                await provider.delete(result.uid, source, ctx)
                raise
    deadline = time.monotonic() + state.settings.streams.timeout
    while result.state == "processing":
        await ctx.report("processing", result.progress)
        if time.monotonic() > deadline:
            raise PermanentJobError(f"{provider.name} did not finish within {state.settings.streams.timeout:g} s")
        await asyncio.sleep(state.settings.streams.poll_interval)
        result = await provider.status(result.uid, source, ctx)
    return result


async def _save(state: OriginState, stream_id: str, **changes: Any) -> None:
    async with state.store.transaction() as tx:
        if not await state.store.streams.update(tx, stream_id, **changes):
            raise StreamGone("the stream was deleted")


async def stream_failed(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    """Retries are exhausted (or the failure is permanent): the stream ends ``failed`` with the reason —
    unless some renditions were made and published: then it ends ``ready`` with those, the others
    (and a progressive MP4 not made) marked ``failed`` with the reason."""
    stream = await state.store.streams.get(job.payload["stream_id"], tx, for_update=True)
    if stream is None or stream.status in ("failed", "ready"):
        return
    outputs = ended_outputs(stream.outputs, error)
    if outputs is None or not (stream.hls_url or stream.dash_url):
        await transition(state, tx, stream.id, "failed", error=error)
    else:
        await transition(state, tx, stream.id, "ready", progress=100.0, outputs=outputs, error=error)


def ended_outputs(outputs: dict[str, Any], error: str) -> dict[str, Any] | None:
    """``outputs`` with every rendition not made marked ``failed``; ``None`` when none was made."""
    renditions = [r for r in outputs.get("renditions") or [] if isinstance(r, dict)]
    if not any(r.get("status") == "ready" for r in renditions):
        return None
    ended = {**outputs, "renditions": [_ended(r, error) for r in renditions]}
    if isinstance(outputs.get("mp4"), dict):
        ended["mp4"] = _ended(outputs["mp4"], error)
    return ended


def _ended(item: dict[str, Any], error: str) -> dict[str, Any]:
    return item if item.get("status") == "ready" else {**item, "status": "failed", "error": item.get("error") or error}


register_job(STREAM_JOB, run_stream, on_failed=stream_failed, backoff=BACKOFF, max_attempts=MAX_ATTEMPTS)
