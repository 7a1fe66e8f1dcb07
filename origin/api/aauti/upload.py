"""``POST /upload/direct-upload``: one multipart request, streamed to disk, then into the bucket."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.aauti.shapes import DIRECT_UPLOAD_FORM, UploadedFile
from origin.auth import require_tenant
from origin.http import JSON
from origin.ingest import IngestRequest, ingest_file, max_file_size, parse_bool
from origin.multipart import read_form
from origin.openapi import describe
from origin.state import get_state


@describe(request=DIRECT_UPLOAD_FORM, request_type="multipart/form-data", responses={201: UploadedFile}, errors=(413,))
async def direct_upload(request: Request) -> JSON:
    """Upload a file (multipart); answers its key, access URL and probed facts."""
    state = get_state(request)
    tenant = await require_tenant(request, invalid_status=404)
    limit = max_file_size(state, tenant)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise HTTPError(413, f"File exceeds the maximum size of {limit} bytes")
    form = await read_form(
        request.headers.get("content-type", ""), request.stream(), state.settings.origin.spool_dir, limit
    )
    try:
        upload = next((f for f in form.files if f.field_name == "file"), None)
        if upload is None:
            raise HTTPError(400, "Missing file", "FILE_REQUIRED")
        fields = form.fields
        record = await ingest_file(
            state,
            tenant,
            upload.path,
            IngestRequest(
                filename=upload.filename,
                user_id=fields.get("userId"),
                destination=fields.get("destination"),
                bucket=fields.get("bucket") or None,
                require_signed=parse_bool(fields.get("requireSignedUrl")),
                declared_type=upload.content_type,
                source="direct",
            ),
        )
    finally:
        form.discard()
    return JSON(
        {
            "key": record.key,
            "url": state.access_url(record),
            "duration": record.duration,
            "id": record.id,
            "filename": record.filename,
            "file_type": record.mime,
            "file_size": record.size,
        },
        status_code=201,
    )


routes = [Route("/upload/direct-upload", direct_upload, methods=["POST"])]
