"""Editing (render) tasks: ``POST /api/task/editing`` → the ``editor.render`` job → output media files.

Creating a task parses its XTL (400 on any mistake, naming the element and attribute), checks that
every clip's ``src`` is a ready media file of the tenant or an overlay image of the session, and
in one transaction records the task (``running``), makes one ``output`` media file per timeline
(status ``render``; the first one's id is the answer's ``fileId``), queues the job and the
``render_start`` callback.

The job (any worker) probes the sources, renders each timeline with :mod:`origin.editor.render`
while it writes the progress, uploads the result to the developer's ``outputS3Bucket`` when one is
configured (status ``uploading``), stores it as the media file's bytes (playable through the edge,
visible in every API), and ends the task ``completed`` with its ``outputUrls`` — the edge URL, then
the bucket's object URL — and the ``render_complete`` callback with the ``downloadUrl``. A failure
ends it ``error`` with an ``engine_error`` / ``download_error`` / ``upload_error`` object and
``render_complete`` with the ``error``; the output media files are marked failed.

``DELETE`` marks the task ``aborted`` and deletes its output media files; the job sees it at its
next progress write (at most half a second later), kills ffmpeg and removes its scratch files.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from mediaedge.errors import HTTPError
from mediaedge.net import NetError, NetPolicy
from origin.catalogue.ids import new_asset_id
from origin.catalogue.status import Status
from origin.editor import render
from origin.editor.callbacks import emit_callback
from origin.editor.developers import output_bucket
from origin.editor.media import delete_asset, editor_extra, set_editor_extra, signed_url
from origin.editor.sessions import Caller, user_id
from origin.editor.stats import RENDER_JOB
from origin.editor.thumbnails import media_source
from origin.editor.xtl import Timeline, Timelines, XtlError, parse_xtl
from origin.ingest import IngestRequest, ingest_file
from origin.jobs import Job, PermanentJobError, enqueue, register_job
from origin.state import OriginState
from origin.store import Tenant
from origin.store.assets import Asset
from origin.store.db import Conn
from origin.store.editor_work import FINAL, RenderTask

log = logging.getLogger("mediaedge.editor")

OVERLAY_PREFIX = "ov_"
MAX_ATTEMPTS = 2
BACKOFF = (5.0,)


class TaskError(PermanentJobError):
    """A render failed for good: ``kind`` is the engine error object's type."""

    def __init__(self, kind: str, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.kind, self.code = kind, code


def error_object(kind: str, message: str, code: int = 1) -> dict[str, Any]:
    """The seed's ``engine_error_description_object``."""
    return {"type": kind, "message": message, "code": code}


def _not_found() -> HTTPError:
    return HTTPError(404, "No such editing task", "not_found")


def _output_name(timeline: Timeline, index: int, task_id: str, extension: str) -> str:
    base = timeline.name or f"output_{task_id}" + (f"_{index + 1}" if index else "")
    return base if base.lower().endswith(f".{extension}") else f"{base}.{extension}"


async def _check_sources(state: OriginState, caller: Caller, timelines: Timelines) -> None:
    for src in timelines.sources():
        if src.startswith(OVERLAY_PREFIX):
            if await state.store.editor.overlay(caller.session.id, src) is None:
                raise XtlError("clip", "src", f"no overlay image {src!r} in this session")
            continue
        asset = await state.store.assets.get(caller.tenant.id, src)
        if asset is None or asset.status == Status.DELETED:
            raise XtlError("clip", "src", f"no media file {src!r}")
        if asset.status != Status.READY:
            raise XtlError("clip", "src", f"media file {src!r} is not ready ({asset.status})")
        if asset.kind not in ("video", "audio", "image"):
            raise XtlError("clip", "src", f"media file {src!r} is not video, audio or an image")


async def create_task(state: OriginState, caller: Caller, body: dict[str, Any]) -> tuple[RenderTask, str]:
    """Validate and queue a render; the task and its (first) output media file's id."""
    xtl = body.get("xtl_task")
    timelines = parse_xtl(xtl)
    assert isinstance(xtl, str)
    project_id = body.get("projectId")
    if project_id is not None and not isinstance(project_id, str):
        raise HTTPError(400, "projectId must be a string", "editor.task.invalid")
    longest = max(sum(_length(g) for g in t.groups) for t in timelines.timelines)
    if longest > state.settings.editor.render_max_seconds:
        raise XtlError("timeline", None, f"longer than {state.settings.editor.render_max_seconds:g} s")
    await _check_sources(state, caller, timelines)
    owner = user_id(caller.session)
    async with state.store.transaction() as tx:
        task = await state.store.editor_work.create_task(
            tx, tenant_id=caller.tenant.id, user_id=owner, session_id=caller.session.id, project_id=project_id, xtl=xtl
        )
        outputs = []
        for index, timeline in enumerate(timelines.timelines):
            extension = "mp4" if timeline.has_video else "m4a"
            asset = await state.store.assets.create(
                caller.tenant.id,
                kind="video" if timeline.has_video else "audio",
                title=_output_name(timeline, index, task.id, extension),
                asset_id=new_asset_id(),
                status=Status.PROCESSING.value,
                user_id=owner,
                source="render",
                dialect="editor",
                progress=0,
                extra={"editor": {"stage": "render", "taskId": task.id}},
                conn=tx,
            )
            outputs.append(asset.id)
        task = await state.store.editor_work.update_task(task.id, tx, outputs=outputs) or task
        await enqueue(tx, RENDER_JOB, caller.tenant.id, {"task_id": task.id})
        await emit_callback(state, tx, caller.session, "render_start", {"projectId": project_id or ""})
    return task, outputs[0]


def _length(group: Any) -> float:
    ends = [
        (clip.position or 0.0) + clip.duration if clip.position is not None else clip.duration
        for track in group.tracks
        for clip in track.clips
    ]
    main = group.main
    return sum(c.duration for c in main.clips) if main is not None else max(ends)


async def get_task(state: OriginState, caller: Caller, task_id: str | None) -> RenderTask:
    if not task_id:
        raise HTTPError(400, "id is required", "editor.param.invalid")
    task = await state.store.editor_work.task(task_id, caller.tenant.id)
    if task is None or task.user_id != user_id(caller.session):
        raise _not_found()
    return task


async def stop_task(state: OriginState, caller: Caller, task_id: str | None) -> RenderTask:
    """Abort a task that is still going and delete its outputs; an ended task stays as it is."""
    task = await get_task(state, caller, task_id)
    if task.status in FINAL:
        return task
    stopped = await state.store.editor_work.update_task(
        task.id, status="aborted", error=error_object("engine_error", "aborted by the user", 0)
    )
    if stopped is None:  # it ended meanwhile
        return await get_task(state, caller, task_id)
    await _drop_outputs(state, caller.tenant, stopped)
    return stopped


async def _drop_outputs(state: OriginState, tenant: Tenant, task: RenderTask, *, stored: bool = False) -> None:
    """Delete the task's output media files; ``stored``: also those already marked deleted (the job
    may have stored bytes for one after its user stopped the task)."""
    for asset_id in task.outputs:
        asset = await state.store.assets.get(tenant.id, asset_id)
        if asset is not None and (stored or asset.status != Status.DELETED):
            await delete_asset(state, tenant, asset)


# -- the job --------------------------------------------------------------------------------------


class _Progress:
    """Writes the task's progress (overall, across its timelines); ``False`` once it was aborted."""

    def __init__(self, state: OriginState, task: RenderTask, parts: int) -> None:
        self.state, self.task, self.parts, self.part = state, task, parts, 0

    async def __call__(self, percent: float) -> bool:
        overall = round((self.part * 100 + percent) / self.parts, 1)
        return await self.state.store.editor_work.update_task(self.task.id, progress=overall) is not None

    async def status(self, status: str) -> bool:
        return await self.state.store.editor_work.update_task(self.task.id, status=status) is not None


async def _sources(
    state: OriginState, task: RenderTask, timelines: Timelines, scratch: Path
) -> dict[str, render.Source]:
    found: dict[str, render.Source] = {}
    for src in timelines.sources():
        try:
            if src.startswith(OVERLAY_PREFIX):
                png = await state.store.editor.overlay(task.session_id or "", src)
                if png is None:
                    raise TaskError("download_error", f"the overlay image {src} is gone (its session ended)")
                path = scratch / f"{src}.png"
                await asyncio.to_thread(path.write_bytes, png)
                found[src] = await render.probe_source(str(path), "image")
                continue
            asset = await state.store.assets.get(task.tenant_id, src)
            if asset is None or asset.status != Status.READY:
                raise TaskError("download_error", f"the media file {src} is gone")
            kind = asset.kind if asset.kind in ("video", "audio", "image") else "video"
            found[src] = await render.probe_source(await media_source(state, asset), kind)  # type: ignore[arg-type]
        except HTTPError as exc:
            raise TaskError("download_error", f"{src}: {exc.message}") from exc
        except render.RenderFailed as exc:
            raise TaskError("download_error", f"{src}: {exc}") from exc
    return found


async def _upload_to_bucket(state: OriginState, bucket: dict[str, str], path: str, key: str, mime: str) -> str:
    """Put the output in the developer's bucket; the object's URL."""
    endpoint = bucket["awsEndPoint"]
    try:
        policy = NetPolicy(state.settings.net.allow)
        parsed = policy.check_url(endpoint)
        await policy.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except NetError as exc:
        raise TaskError("upload_error", f"the output bucket's endpoint is refused: {exc}") from exc
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3})
    try:
        async with get_session().create_client(
            "s3",
            endpoint_url=endpoint,
            region_name=bucket.get("awsRegion") or "us-east-1",
            aws_access_key_id=bucket["awsAccessKey"],
            aws_secret_access_key=bucket["awsSecreteKey"],
            config=config,
        ) as client:
            with open(path, "rb") as body:  # noqa: ASYNC230 - botocore reads it in chunks
                await client.put_object(Bucket=bucket["awsBucketName"], Key=key, Body=body, ContentType=mime)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise TaskError("upload_error", f"the output bucket refused the upload: {code or exc}") from exc
    except (BotoCoreError, OSError) as exc:
        raise TaskError("upload_error", f"the output could not be uploaded: {exc}") from exc
    return f"{endpoint.rstrip('/')}/{bucket['awsBucketName']}/{key}"


async def run_render_task(state: OriginState, job: Job) -> dict[str, Any]:
    task = await state.store.editor_work.task(job.payload["task_id"])
    tenant = await state.store.tenants.get(job.tenant_id)
    if task is None or tenant is None or task.status in FINAL:
        return {"status": task.status if task else "gone"}
    timelines = parse_xtl(task.xtl)
    root = Path(_work_root(state))
    leftovers = await asyncio.to_thread(lambda: list(root.glob(f"render-{task.id}-*")))
    for leftover in leftovers:  # an earlier attempt's, if its worker died
        await asyncio.to_thread(shutil.rmtree, leftover, True)
    scratch = Path(tempfile.mkdtemp(prefix=f"render-{task.id}-", dir=root))
    progress = _Progress(state, task, len(timelines.timelines))
    bucket = None
    developer = await state.store.editor.developer(task.tenant_id)
    if developer is not None:
        bucket = output_bucket(state.settings, developer)
    try:
        sources = await _sources(state, task, timelines, scratch)
        urls: list[str] = []
        for index, timeline in enumerate(timelines.timelines):
            progress.part = index
            asset = await state.store.assets.get(task.tenant_id, task.outputs[index])
            if asset is None or asset.status == Status.DELETED:
                return {"status": "aborted"}
            command = render.build_command(
                timeline, sources, str(scratch / f"out{index}.{'mp4' if timeline.has_video else 'm4a'}"),
                preset=state.settings.editor.render_preset,
            )  # fmt: skip
            output = command.args[-1]
            try:
                await render.run_render(command, progress, max_seconds=state.settings.editor.render_timeout)
            except render.RenderFailed as exc:
                raise TaskError("engine_error", str(exc), 2) from exc
            mime = "video/mp4" if command.extension == "mp4" else "audio/mp4"
            kept = f"{output}.kept"  # ingest moves its file: keep a link for the bucket upload
            await asyncio.to_thread(os.link, output, kept)
            stored = await _store_output(state, tenant, task, asset, output)
            urls.append(stored)
            if await state.store.editor_work.update_task(task.id, output_urls=urls) is None:
                raise render.Aborted()  # stopped while the output was being stored
            if bucket is not None:
                if not await progress.status("uploading"):
                    raise render.Aborted()
                bucket_url = await _upload_to_bucket(state, bucket, kept, f"{task.id}/{asset.title}", mime)
                urls.append(bucket_url)
                fresh = await state.store.assets.get(task.tenant_id, asset.id)
                if fresh is not None:
                    await set_editor_extra(state, fresh, bucketUrl=bucket_url)
                if not await progress.status("running"):
                    raise render.Aborted()
        done = await state.store.editor_work.update_task(task.id, status="completed", progress=100.0, output_urls=urls)
        if done is None:
            raise render.Aborted()
        await _announce(state, done, urls[0] if urls else "", None)
        return {"status": "completed", "outputUrls": urls}
    except render.Aborted:
        ended = await state.store.editor_work.task(task.id)
        if ended is not None:
            await _drop_outputs(state, tenant, ended, stored=True)
        return {"status": "aborted"}
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def _store_output(state: OriginState, tenant: Tenant, task: RenderTask, asset: Asset, output: str) -> str:
    """The rendered file becomes the output media file's bytes; its edge URL."""
    from origin.editor.imports import adopt_file

    request = IngestRequest(
        filename=asset.title, user_id=asset.user_id, source="render", ingest_key=f"render:{asset.id}", asset_id=asset.id
    )
    try:
        record = await ingest_file(state, tenant, output, request)
    except HTTPError as exc:
        raise TaskError("engine_error", f"the output could not be stored: {exc.message}", 3) from exc
    adopted = await adopt_file(state, asset, record, task.session_id)
    await set_editor_extra(state, adopted, taskId=task.id)
    return await signed_url(state, record, record.duration)


async def _announce(state: OriginState, task: RenderTask, download_url: str, error: str | None) -> None:
    session = await state.store.editor.session(task.session_id) if task.session_id else None
    if session is None:
        return
    payload: dict[str, Any] = {"projectId": task.project_id or "", "downloadUrl": download_url}
    if error is not None:
        payload["error"] = error
    async with state.store.transaction() as tx:
        await emit_callback(state, tx, session, "render_complete", payload)


def _work_root(state: OriginState) -> str:
    root = state.settings.data_path / "render"
    root.mkdir(parents=True, exist_ok=True)
    return str(root)


async def render_failed(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    """The render failed for good: the task ends ``error``, its outputs failed, ``render_complete``
    carries the error."""
    task = await state.store.editor_work.task(job.payload["task_id"])
    if task is None:
        return
    kind = next((k for k in ("download_error", "upload_error") if error.startswith(f"[{k}]")), "engine_error")
    message = error.split("] ", 1)[1] if error.startswith("[") and "] " in error else error
    failed = await state.store.editor_work.update_task(
        task.id, tx, status="error", error=error_object(kind, message, 2 if kind == "engine_error" else 4)
    )
    if failed is None:
        return
    stored = failed.output_urls[0] if failed.output_urls else ""
    for asset_id in task.outputs if kind != "upload_error" else ():  # an upload error keeps what was made
        asset = await state.store.assets.get(task.tenant_id, asset_id, tx)
        if asset is not None:
            extra = {
                **asset.extra,
                "editor": {**editor_extra(asset), "stage": None, "errorType": "internal_server_error"},
            }
            extra["editor"] = {k: v for k, v in extra["editor"].items() if v is not None}
            await state.store.assets.update(task.tenant_id, asset_id, conn=tx, error=message, extra=extra)
            await state.store.assets.advance(asset_id, Status.FAILED, conn=tx)
    session = await state.store.editor.session(task.session_id) if task.session_id else None
    if session is not None:
        payload = {"projectId": task.project_id or "", "downloadUrl": stored, "error": message}
        await emit_callback(state, tx, session, "render_complete", payload)


def _reason(exc: TaskError) -> str:
    return f"[{exc.kind}] {exc}"


async def _run(state: OriginState, job: Job) -> dict[str, Any]:
    try:
        return await run_render_task(state, job)
    except TaskError as exc:
        raise PermanentJobError(_reason(exc)) from exc


register_job(RENDER_JOB, _run, on_failed=render_failed, backoff=BACKOFF, max_attempts=MAX_ATTEMPTS)
