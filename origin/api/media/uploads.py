"""``POST /api/v1/media/upload-url``, the origin's own upload form, and ``POST /api/v1/media/{id}/finalize``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.media import schemas as s
from origin.api.media.envelope import authenticate, body, data, iso_time
from origin.api.media.schemas import media_operation
from origin.api.media.shapes import asset_json, status_word
from origin.media import uploads
from origin.media.assets import asset_view
from origin.media.limits import Limit
from origin.media.policy import FORM_PATH
from origin.multipart import read_form
from origin.openapi import describe
from origin.state import get_state


@media_operation(
    request=s.MediaUploadRequest,
    responses={201: s.MediaUploadTicketAnswer, 200: s.MediaUploadTicketAnswer},
    errors=(409, 413, 415, 429, 503),
)
async def upload_url(request: Request) -> Response:
    """Declare a file: its asset and a form to post it to storage with (201; bytes already in: 200)."""
    caller = await authenticate(request)
    req = uploads.parse_upload_request(await body(request), caller.user_header)
    limit = Limit("upload-url", caller.tenant.id, caller.user, caller.state.settings.media.upload_url_rate)
    ticket = await uploads.create_upload(caller.state, caller.tenant, req, limit)
    return data(
        {
            "assetId": ticket.asset.id,
            "uploadUrl": ticket.url,
            "uploadFields": ticket.fields,
            "expiresAt": iso_time(ticket.expires_at),
            "status": status_word(ticket.asset.status),
        },
        status=201 if ticket.url else 200,
        headers=ticket.headers,
    )


@describe(
    security=(),
    request=s.DIRECT_UPLOAD_FORM,
    request_type="multipart/form-data",
    responses={204: "Stored (ETag header)"},
    errors=(403, 413, 503),
)
async def direct_upload(request: Request) -> Response:
    """The form target for backends that cannot presign (local disk): S3's POST-object semantics."""
    state = get_state(request)
    form = await read_form(
        request.headers.get("content-type", ""),
        request.stream(),
        state.settings.origin.spool_dir,
        state.settings.origin.max_file_size,
    )
    try:
        upload = next((f for f in form.files if f.field_name == "file"), None)
        if upload is None:
            raise HTTPError(400, "The form has no file field", "upload.file_missing")
        etag = await uploads.receive_form(state, form.fields, upload.path, upload.size)
    finally:
        form.discard()
    return Response(status_code=204, headers={"ETag": f'"{etag}"', "Access-Control-Expose-Headers": "ETag"})


@media_operation(
    request=s.MediaFinalizeRequest,
    request_required=False,
    responses={200: s.MediaAssetAnswer},
    errors=(409, 415, 422, 451, 503),
)
async def finalize(request: Request) -> Response:
    """Finalize an uploaded asset: its bytes checked against the declaration, then processed."""
    caller = await authenticate(request)
    raw = await request.body()
    etag = None
    if raw.strip():
        payload = await body(request)
        value = payload.get("etag")
        if value is not None and not isinstance(value, str):
            raise HTTPError(400, "etag must be a string", "validation.etag.invalid")
        etag = value or None
    asset = await uploads.finalize(caller.state, caller.tenant, request.path_params["id"], etag)
    return data(asset_json(caller.state, await asset_view(caller.state, asset)))


routes = [
    Route("/api/v1/media/upload-url", upload_url, methods=["POST"]),
    Route(FORM_PATH, direct_upload, methods=["POST"]),
    Route("/api/v1/media/{id}/finalize", finalize, methods=["POST"]),
]
