"""Part upload (multipart ``file``, ``index``, ``hash`` with ``Content-Range``), completion, thumbnail."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.videos import schemas as s
from origin.api.videos.auth import video_tenant
from origin.api.videos.shape import message
from origin.http import JSON
from origin.multipart import Form, SpooledFile, read_form
from origin.openapi import describe
from origin.state import get_state
from origin.videos.parts import complete_upload, parse_content_range, put_part
from origin.videos.thumbnails import MAX_THUMBNAIL_BYTES, set_thumbnail

#: Room for the form's other fields and boundaries around a part's bytes.
FORM_OVERHEAD = 64 * 1024


def _file(form: Form) -> SpooledFile:
    upload = next((f for f in form.files if f.field_name == "file"), None)
    if upload is None:
        raise HTTPError(400, "file is required", "FILE_REQUIRED")
    return upload


async def _form(request: Request, limit: int) -> Form:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise HTTPError(413, f"The body exceeds {limit} bytes", "PART_TOO_LARGE")
    state = get_state(request)
    try:
        return await read_form(
            request.headers.get("content-type", ""), request.stream(), state.settings.origin.spool_dir, limit
        )
    except HTTPError as exc:
        if exc.code is None:  # the form reader's own errors: give them this API's codes
            exc.code = "PART_TOO_LARGE" if exc.status == 413 else "FORM_INVALID"
        raise


@describe(
    request=s.PART_FORM,
    request_type="multipart/form-data",
    headers=s.CONTENT_RANGE,
    responses={200: s.VideoMessage},
    errors=(409, 413, 503),
)
async def part(request: Request) -> JSON:
    """Upload one part of the video's file (multipart, with its Content-Range and MD5)."""
    state = get_state(request)
    tenant = await video_tenant(request)
    byte_range = parse_content_range(request.headers.get("content-range"))
    form = await _form(request, state.settings.videos.max_part_bytes)
    try:
        upload = _file(form)
        index = form.fields.get("index", "").strip()
        if not index.isdigit():
            raise HTTPError(400, "index must be a non-negative integer", "PART_INDEX_INVALID")
        await put_part(
            state,
            tenant,
            request.path_params["video_id"],
            index=int(index),
            md5=form.fields.get("hash", "").strip(),
            byte_range=byte_range,
            spool_path=upload.path,
            filename=upload.filename,
        )
    finally:
        form.discard()
    return message("Upload part successfully.")


@describe(responses={200: s.VideoMessage}, errors=(409, 503))
async def complete(request: Request) -> JSON:
    """Join the uploaded parts and start transcoding (the same again answers as the first)."""
    state = get_state(request)
    tenant = await video_tenant(request)
    await complete_upload(state, tenant, request.path_params["video_id"])
    return message("Upload video complete successfully.")


@describe(
    request=s.THUMBNAIL_FORM,
    request_type="multipart/form-data",
    responses={200: s.VideoMessage},
    errors=(409, 413, 502, 503),
)
async def thumbnail(request: Request) -> JSON:
    """Set the video's thumbnail from a PNG or JPEG image."""
    state = get_state(request)
    tenant = await video_tenant(request)
    form = await _form(request, MAX_THUMBNAIL_BYTES)
    try:
        await set_thumbnail(state, tenant, request.path_params["video_id"], _file(form).path)
    finally:
        form.discard()
    return message("Upload thumbnail successfully.")


routes = [
    Route("/api/videos/{video_id}/part", part, methods=["POST"]),
    Route("/api/videos/{video_id}/complete", complete, methods=["GET", "POST"]),
    Route("/api/videos/{video_id}/thumbnail", thumbnail, methods=["POST"]),
]
