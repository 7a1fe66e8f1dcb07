"""``/api/client/v1/uploads``: translation between the uploads API and the catalogue's video uploads.

Envelope ``{"message": ..., "data": ...}`` on the upload, ``{"data": ...}`` on reads; errors in the
common body. Statuses are the catalogue's, in this API's numbers (:mod:`origin.catalogue.status`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.uploads import schemas as s
from origin.auth import require_bearer
from origin.catalogue.status import UPLOAD_STATUS_TEXT, Status, shown_as
from origin.catalogue.uploads import (
    RECENT_LIMIT,
    SIZE_CODE,
    VideoUpload,
    accept_video_upload,
    recent_videos,
    tenant_video,
)
from origin.http import JSON, iso_time
from origin.ingest import max_file_size
from origin.multipart import read_form
from origin.openapi import describe
from origin.state import get_state
from origin.store import Asset

BASE = "/api/client/v1/uploads"
ACCEPTED = "Upload accepted and is now being processed."


def _status(asset: Asset) -> dict[str, Any]:
    code = int(shown_as("uploads", Status(asset.status)))
    return {"status": code, "status_text": UPLOAD_STATUS_TEXT[code]}


def upload_dict(asset: Asset) -> dict[str, Any]:
    """One upload as the list and the single-upload read show it."""
    return {
        "id": asset.id,
        "filename": asset.extra.get("filename") or asset.title,
        **_status(asset),
        "created_at": iso_time(asset.created_at),
        "updated_at": iso_time(asset.updated_at),
    }


@describe(
    request=s.UPLOAD_FORM,
    request_type="multipart/form-data",
    responses={202: s.UploadAcceptedAnswer},
    errors=(413, 415, 503),
)
async def create_upload(request: Request) -> JSON:
    """Upload a video (multipart ``video`` and ``folder``): accepted, then transcoded."""
    state = get_state(request)
    tenant = await require_bearer(request)
    limit = max_file_size(state, tenant)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise HTTPError(413, f"File exceeds the maximum size of {limit} bytes", SIZE_CODE)
    try:
        form = await read_form(
            request.headers.get("content-type", ""), request.stream(), state.settings.origin.spool_dir, limit
        )
    except HTTPError as exc:
        raise HTTPError(
            exc.status, exc.message, SIZE_CODE if exc.status == 413 else "validation.body.invalid"
        ) from None
    try:
        video = next((f for f in form.files if f.field_name == "video"), None)
        if video is None:
            raise HTTPError(
                400, "video is required: the video file, as a multipart file field", "validation.video.required"
            )
        folder = form.fields.get("folder")
        if not folder or not folder.strip():
            raise HTTPError(400, "folder is required, e.g. root/my-folder", "validation.folder.required")
        asset = await accept_video_upload(
            state, tenant, video.path, VideoUpload(video.filename, folder, video.content_type)
        )
    finally:
        form.discard()
    return JSON({"message": ACCEPTED, "data": {"id": asset.id, **_status(asset)}}, status_code=202)


@describe(responses={200: s.UploadList})
async def list_uploads(request: Request) -> JSON:
    """The tenant's 50 most recent uploads, with their statuses."""
    state = get_state(request)
    tenant = await require_bearer(request)
    return JSON({"data": [upload_dict(asset) for asset in await recent_videos(state, tenant, RECENT_LIMIT)]})


@describe(responses={200: s.UploadAnswer})
async def get_upload(request: Request) -> JSON:
    """One upload and its status."""
    state = get_state(request)
    tenant = await require_bearer(request)
    return JSON({"data": upload_dict(await tenant_video(state, tenant, request.path_params["upload_id"]))})


routes = [
    Route(BASE, create_upload, methods=["POST"]),
    Route(BASE, list_uploads, methods=["GET"]),
    Route(BASE + "/{upload_id}", get_upload, methods=["GET"]),
]
