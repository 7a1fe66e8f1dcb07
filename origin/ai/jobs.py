"""The AI job kinds a worker runs: ``ai.caption``, ``ai.speech``, ``ai.image``.

Each turns its generation ``processing``, calls the provider the request was accepted for, stores the
result in the catalogue, and — in one transaction — records it (``ready``, the actual charge) with
an ``ai`` webhook to the tenant:

- ``ai.caption``: the asset's media (the local file, or a copy from its bucket) → the provider's
  transcript → a WebVTT caption track stored like a manual one (:func:`origin.media.tracks.add_caption`:
  beside the asset's file, replacing an earlier generated track of the language, and — when approved —
  listed in the stream's HLS master playlist and DASH MPD), ``source: "generated"``, ``approved: false``
  when review was requested; and the transcript (text, cues, word times); charged the media's minutes.
- ``ai.speech``: the text spoken → an ``audio`` asset (``source: "generated"``); charged its seconds.
- ``ai.image``: the picture → an ``image`` asset (``source: "generated"``); charged one image.

A provider's refusal (:class:`~mediaedge.ai.AIRejected` and the other permanent AI errors) fails the
job at once; :class:`~mediaedge.ai.AIUnavailable` and other errors are retried with backoff. When the
job fails for good the generation turns ``failed`` with the reason and code (not charged), webhook
included. A retried attempt that finds its result already stored (ingest keys) does not store it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiofiles

from mediaedge.ai import AIError, AIProviders, ImageRequest, image_mime
from mediaedge.ai.providers import AudioFormat
from mediaedge.errors import HTTPError
from origin.ai.service import generation_event
from origin.catalogue.intake import NewMedia, create_media_asset, store_media
from origin.catalogue.status import Status
from origin.jobs import Job, PermanentJobError, RetryableJobError, register_job
from origin.media.tracks import add_caption
from origin.state import OriginState
from origin.store import Asset, Tenant
from origin.store.ai import Generation
from origin.store.db import Conn
from origin.webhooks import emit

BACKOFF = (5.0, 15.0, 45.0)
MAX_ATTEMPTS = 4
PROGRESS_INTERVAL = 1.0
IMAGE_SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


class GenerationGone(PermanentJobError):
    """The generation (or the asset it captions) was deleted."""


class _Progress:
    """The provider's ``report``: progress written at most once a second, by whole percents."""

    def __init__(self, state: OriginState, generation_id: str) -> None:
        self.state, self.generation_id, self.last, self.at = state, generation_id, 0.0, 0.0

    async def __call__(self, percent: float) -> None:
        if percent - self.last >= 1 and time.monotonic() - self.at >= PROGRESS_INTERVAL:
            await self.state.store.ai.update(self.generation_id, progress=round(min(percent, 99.0), 1))
            self.last, self.at = percent, time.monotonic()


async def _start(state: OriginState, job: Job) -> Generation:
    generation = await state.store.ai.get(job.payload["generation_id"])
    if generation is None:
        raise GenerationGone("the generation was deleted")
    if generation.status != "ready":
        await state.store.ai.update(generation.id, status="processing")
    return generation


def _work_dir(state: OriginState, job: Job) -> Path:
    return Path(state.settings.streams.work_dir) / "ai" / f"{job.id}-{job.attempt}"


@contextlib.asynccontextmanager
async def _scratch(state: OriginState, job: Job) -> AsyncIterator[Path]:
    root = _work_dir(state, job)
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    try:
        yield root
    finally:
        await asyncio.to_thread(shutil.rmtree, root, True)


def _job_error(exc: AIError) -> Exception:
    """A provider error as a job failure: retried when the provider may recover, else permanent.
    The reason starts with the error's code, which the failed generation keeps."""
    if exc.retryable:
        return RetryableJobError(f"{exc.code}: {exc}")
    return PermanentJobError(f"{exc.code}: {exc}")


async def _call(coroutine: Any) -> Any:
    """Await a provider call, sorting its errors into permanent and retryable job failures."""
    try:
        return await coroutine
    except AIError as exc:
        raise _job_error(exc) from exc


def _registry(state: OriginState) -> AIProviders:
    return AIProviders(state.settings, state.pm)


async def _finish(state: OriginState, tx: Conn, generation: Generation, **changes: Any) -> dict[str, Any]:
    await state.store.ai.update(
        generation.id, tx, status="ready", progress=100.0, error=None, error_code=None, **changes
    )
    done = await state.store.ai.get(generation.id, tx)
    assert done is not None
    event = generation_event(done)
    await emit(tx, generation.tenant_id, event)
    return dict(event["data"])


# -- captions --------------------------------------------------------------------------------------


async def run_caption(state: OriginState, job: Job) -> dict[str, Any]:
    generation = await _start(state, job)
    if generation.status == "ready":
        return generation_event(generation)["data"]
    request = generation.request
    asset = await state.store.assets.get(generation.tenant_id, request["assetId"])
    if asset is None or asset.status == Status.DELETED or not asset.file_id:
        raise GenerationGone("the asset was deleted")
    file = await state.store.files.get(asset.file_id)
    bucket = await state.store.buckets.get(asset.tenant_id, file.bucket) if file else None
    if file is None or bucket is None:
        raise GenerationGone("the asset's media was deleted")
    backend = state.backend(bucket)
    try:
        provider = _registry(state).caption(request["language"])
    except AIError as exc:
        raise _job_error(exc) from exc
    async with _scratch(state, job) as work:
        media = backend.local_path(file.key)
        if not media or not await asyncio.to_thread(Path(media).exists):
            copy = work / "source"
            async with aiofiles.open(copy, "wb") as out:
                async for chunk in backend.open_range(file.key):
                    await out.write(chunk)
            media = str(copy)
        transcript = await _call(
            provider.transcribe(Path(media), request["language"], work_dir=work, report=_Progress(state, generation.id))
        )
    if not transcript.cues:
        raise PermanentJobError(f"ai.rejected: {provider.name} recognised no speech in the media")
    minutes = (asset.duration or max(c.end for c in transcript.cues)) / 60
    cues = [
        {
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "words": [{"text": w.text, "start": w.start, "end": w.end, "confidence": w.confidence} for w in c.words],
        }
        for c in transcript.cues
    ]
    language = request["language"]
    tenant = await state.store.tenants.get(generation.tenant_id)
    if tenant is None:
        raise GenerationGone("the tenant was deleted")
    try:  # stored like a manual caption (replacing the earlier generated one), and put in the manifests
        caption = await add_caption(
            state,
            tenant,
            asset,
            language,
            transcript.to_webvtt(),
            approved=not request.get("reviewRequired", False),
            source="generated",
        )
    except HTTPError as exc:
        error = PermanentJobError if exc.status < 500 else RetryableJobError
        raise error(f"{exc.code or 'ai.error'}: {exc.message}") from exc
    async with state.store.transaction() as tx:
        await state.store.transcripts.put(asset.id, language, transcript.text, cues, caption_id=caption.id, conn=tx)
        return await _finish(
            state,
            tx,
            generation,
            caption_id=caption.id,
            units=minutes,
            result={
                "cues": len(cues),
                "words": len(transcript.words),
                "key": caption.key,
                "provider": transcript.provider or provider.name,
            },
        )


# -- speech ----------------------------------------------------------------------------------------


async def run_speech(state: OriginState, job: Job) -> dict[str, Any]:
    generation = await _start(state, job)
    if generation.status == "ready":
        return generation_event(generation)["data"]
    request = generation.request
    tenant = await state.store.tenants.get(generation.tenant_id)
    if tenant is None:
        raise GenerationGone("the tenant was deleted")
    provider = await _call(_registry(state).speech(request["language"]))
    fmt: AudioFormat = request["format"]
    async with _scratch(state, job) as work:
        audio = await _call(
            provider.speak(
                request["text"], voice=request["voice"], language=request["language"], format=fmt, work_dir=work
            )
        )
        extra = {
            "voice": request["voice"],
            "language": request["language"],
            "provider": provider.name,
            "generationId": generation.id,
        }
        asset = await _store_generated(
            state,
            tenant,
            generation,
            audio.path,
            NewMedia(
                kind="audio",
                filename=f"speech.{audio.format}",
                dialect="media",
                title=_title(request["text"]),
                destination="generated",
                source="generated",
                declared_type=audio.mime,
                extra=extra,
            ),
        )
    async with state.store.transaction() as tx:
        return await _finish(
            state,
            tx,
            generation,
            asset_id=asset.id,
            units=round(audio.duration, 3),
            result={"format": audio.format, "durationSeconds": round(audio.duration, 3)},
        )


async def _store_generated(
    state: OriginState, tenant: Tenant, generation: Generation, path: Path, new: NewMedia
) -> Asset:
    """The generated file as a ``ready`` asset. The asset's id is recorded on the generation before its
    bytes are stored, so a retried attempt finds a result an earlier one finished (and replaces one it
    left half-made)."""
    if generation.asset_id:
        prior = await state.store.assets.get(tenant.id, generation.asset_id)
        if prior is not None and prior.status == Status.READY:
            return prior
        if prior is not None:
            await state.store.assets.advance(prior.id, Status.DELETED)
    async with state.store.transaction() as tx:
        asset = await create_media_asset(state, tenant, new, tx)
        await state.store.ai.update(generation.id, tx, asset_id=asset.id)
    await store_media(state, tenant, asset, str(path), new)
    await state.store.assets.advance(asset.id, Status.READY)
    return asset


def _title(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- images ----------------------------------------------------------------------------------------


async def run_image(state: OriginState, job: Job) -> dict[str, Any]:
    generation = await _start(state, job)
    if generation.status == "ready":
        return generation_event(generation)["data"]
    request = generation.request
    tenant = await state.store.tenants.get(generation.tenant_id)
    if tenant is None:
        raise GenerationGone("the tenant was deleted")
    try:
        provider = _registry(state).image()
        wanted = ImageRequest(request["prompt"], request["size"], request.get("style"), request.get("aspectRatio"))
    except AIError as exc:
        raise _job_error(exc) from exc
    picture = await _call(provider.generate(wanted))
    mime = image_mime(picture.data)
    if mime is None:  # never store what is not a picture
        raise PermanentJobError(f"ai.rejected: {provider.name} answered bytes that are not an image")
    async with _scratch(state, job) as work:
        path = work / f"image{IMAGE_SUFFIX[mime]}"
        await asyncio.to_thread(path.write_bytes, picture.data)
        extra: dict[str, Any] = {
            "prompt": request["prompt"],
            "provider": provider.name,
            "model": provider.model,
            "generationId": generation.id,
        }
        if picture.revised_prompt:
            extra["revisedPrompt"] = picture.revised_prompt
        asset = await _store_generated(
            state,
            tenant,
            generation,
            path,
            NewMedia(
                kind="image",
                filename=path.name,
                dialect="media",
                title=_title(request["prompt"]),
                destination="generated",
                source="generated",
                declared_type=mime,
                extra=extra,
            ),
        )
    async with state.store.transaction() as tx:
        return await _finish(
            state,
            tx,
            generation,
            asset_id=asset.id,
            units=1.0,
            result={"mime": mime, "width": wanted.width, "height": wanted.height},
        )


# -- failure ---------------------------------------------------------------------------------------


async def generation_failed(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    """Retries are spent or the failure is permanent: the generation turns ``failed`` (not charged)."""
    generation = await state.store.ai.get(job.payload["generation_id"], tx, for_update=True)
    if generation is None or generation.status in ("ready", "failed"):
        return
    code, _, message = error.partition(": ") if error.startswith("ai.") else ("ai.error", "", error)
    await state.store.ai.update(generation.id, tx, status="failed", error=message or error, error_code=code)
    failed = await state.store.ai.get(generation.id, tx)
    assert failed is not None
    await emit(tx, generation.tenant_id, generation_event(failed))


for _kind, _run in (("ai.caption", run_caption), ("ai.speech", run_speech), ("ai.image", run_image)):
    register_job(_kind, _run, on_failed=generation_failed, backoff=BACKOFF, max_attempts=MAX_ATTEMPTS)
