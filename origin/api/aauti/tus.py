"""TUS 1.0.0 at ``/files`` (seed: "TUS Resumable Upload"; client and operator notes in docs/tus.md).

Every request carries the tenant's ``API-Key`` (missing → 400, unknown → 401) and, but for OPTIONS and
GET, ``Tus-Resumable: 1.0.0`` (else 412). A tenant only ever sees its own uploads (404 otherwise).
The request that completes an upload answers with ``X-Mediaedge-File-Id``, ``X-Mediaedge-Key`` and
``X-Mediaedge-Url`` (percent-encoded), as does HEAD on a finished upload.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.auth import require_tenant
from origin.openapi import describe
from origin.state import OriginState, get_state
from origin.store import FileRecord, Tenant, TusUpload
from origin.tus import uploads
from origin.tus.checksum import ALGORITHMS, Checksum, parse_checksum
from origin.tus.metadata import Metadata, encode_metadata, metadata_text, parse_metadata
from origin.tus.protocol import (
    BASE_PATH,
    EXTENSIONS,
    OFFSET_OCTET_STREAM,
    TUS_VERSION,
    byte_range,
    check_version,
    errors_carry,
    http_date,
    int_header,
    media_type,
    tus_endpoint,
    upload_id_from_url,
    upload_url,
)

TUS_HEADERS_IN = {"Tus-Resumable": {"type": "string", "const": "1.0.0"}}


async def _tenant(request: Request) -> tuple[OriginState, Tenant]:
    return get_state(request), await require_tenant(request)


def _progress(upload: TusUpload) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset)}
    if not upload.complete:
        headers["Upload-Expires"] = http_date(upload.expires_at)
    return headers


def _file_headers(state: OriginState, record: FileRecord | None) -> dict[str, str]:
    if record is None:
        return {}
    return {
        "X-Mediaedge-File-Id": record.id,
        "X-Mediaedge-Key": quote(record.key),
        "X-Mediaedge-Url": quote(state.access_url(record), safe=":/"),
    }


def _check_not_expired(upload: TusUpload) -> None:
    if upload.expires_at < time.time() and not upload.needs_ingest:
        raise HTTPError(410, "Upload expired", "UPLOAD_EXPIRED")


@describe(
    summary="TUS capabilities (Tus-Version, Tus-Extension, Tus-Max-Size)", responses={204: "Capabilities in headers"}
)
@tus_endpoint
async def options(request: Request) -> Response:
    state, tenant = await _tenant(request)
    return Response(
        status_code=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(uploads.max_size(state, tenant)),
            "Tus-Checksum-Algorithm": ",".join(ALGORITHMS),
        },
    )


@describe(
    summary="Create a TUS upload (creation, creation-with-upload, concatenation)",
    headers=TUS_HEADERS_IN,
    responses={201: "Created: Location, Upload-Offset"},
    errors=(409, 412, 413, 415, 460),
)
@tus_endpoint
async def create(request: Request) -> Response:
    check_version(request)
    state, tenant = await _tenant(request)
    metadata = parse_metadata(request.headers.get("upload-metadata"))
    bucket = metadata_text(metadata, "bucket") or request.headers.get("bucket") or None
    if await state.store.buckets.get(tenant.id, bucket) is None:
        raise HTTPError(404, f"Bucket not found: {bucket}", "BUCKET_NOT_FOUND")
    concat = request.headers.get("upload-concat")
    if concat is not None and concat.startswith("final;"):
        return await _create_final(request, state, tenant, concat, metadata, bucket)
    if concat not in (None, "partial"):
        raise HTTPError(400, "Upload-Concat must be 'partial' or 'final;<urls>'", "TUS_CONCAT_INVALID")
    length = int_header(request, "upload-length")
    deferred = request.headers.get("upload-defer-length")
    if (length is None) == (deferred is None) or deferred not in (None, "1"):
        raise HTTPError(400, "Send Upload-Length, or Upload-Defer-Length: 1", "TUS_LENGTH_INVALID")
    if length is not None and length > (limit := uploads.max_size(state, tenant)):
        raise uploads.too_large(limit)
    checksum = parse_checksum(request.headers.get("upload-checksum"))
    upload = await uploads.create(
        state, tenant, length=length, metadata=metadata, bucket=bucket, is_partial=concat == "partial"
    )
    location = {"Location": upload_url(request, state.settings, upload.id)}
    with errors_carry(location):  # the client learns where to resume even if the first chunk failed
        upload, record = await _initial_body(request, state, tenant, upload, checksum)
    return Response(status_code=201, headers={**location, **_progress(upload), **_file_headers(state, record)})


async def _initial_body(
    request: Request, state: OriginState, tenant: Tenant, upload: TusUpload, checksum: Checksum | None
) -> tuple[TusUpload, FileRecord | None]:
    """creation-with-upload: a POST body is the first chunk; an empty upload is finished at once."""
    with_body = media_type(request) == OFFSET_OCTET_STREAM
    if not (with_body or upload.complete):
        return upload, None
    async with uploads.locked(state, upload.id, tenant.id) as (upload, held):
        if with_body:
            return await uploads.append(state, tenant, upload, held, request.stream(), checksum)
        return await uploads.settle(state, tenant, upload)


async def _create_final(
    request: Request, state: OriginState, tenant: Tenant, concat: str, metadata: Metadata, bucket: str | None
) -> Response:
    """concatenation: ``Upload-Concat: final;<url> <url>…`` joins finished partial uploads."""
    if "upload-length" in request.headers:
        raise HTTPError(400, "A final upload takes its length from its parts", "TUS_CONCAT_INVALID")
    urls = concat.removeprefix("final;").split()
    part_ids = [part for part in map(upload_id_from_url, urls) if part is not None]
    if not part_ids or len(part_ids) != len(urls):
        raise HTTPError(400, "Upload-Concat lists no valid upload URLs", "TUS_CONCAT_INVALID")
    upload = await uploads.create_final(state, tenant, part_ids, metadata=metadata, bucket=bucket)
    location = {"Location": upload_url(request, state.settings, upload.id)}
    with errors_carry(location):
        async with uploads.locked(state, upload.id, tenant.id) as (upload, _held):
            upload, record = await uploads.settle(state, tenant, upload)
    return Response(status_code=201, headers={**location, **_progress(upload), **_file_headers(state, record)})


@describe(
    summary="An upload's offset (Upload-Offset, Upload-Length)",
    headers=TUS_HEADERS_IN,
    responses={200: "The offset in headers"},
    errors=(410, 412),
)
@tus_endpoint
async def head(request: Request) -> Response:
    check_version(request)
    state, tenant = await _tenant(request)
    async with uploads.locked(state, request.path_params["upload_id"], tenant.id) as (upload, _held):
        _check_not_expired(upload)
        upload, record = await uploads.settle(state, tenant, upload)
    headers = {**_progress(upload), "Cache-Control": "no-store"}
    if upload.length is None:
        headers["Upload-Defer-Length"] = "1"
    else:
        headers["Upload-Length"] = str(upload.length)
    if upload.metadata:
        headers["Upload-Metadata"] = encode_metadata(upload.metadata)
    if upload.is_partial:
        headers["Upload-Concat"] = "partial"
    elif upload.is_final:
        urls = " ".join(upload_url(request, state.settings, part) for part in upload.parts)
        headers["Upload-Concat"] = f"final;{urls}"
    return Response(status_code=200, headers={**headers, **_file_headers(state, record)})


@describe(
    summary="Append a chunk at Upload-Offset",
    headers=TUS_HEADERS_IN,
    request={"type": "string", "format": "binary"},
    request_type="application/offset+octet-stream",
    responses={204: "Appended: the new Upload-Offset"},
    errors=(409, 410, 412, 413, 415, 423, 460),
)
@tus_endpoint
async def patch(request: Request) -> Response:
    check_version(request)
    state, tenant = await _tenant(request)
    if media_type(request) != OFFSET_OCTET_STREAM:
        raise HTTPError(415, f"Content-Type must be {OFFSET_OCTET_STREAM}")
    offset = int_header(request, "upload-offset")
    if offset is None:
        raise HTTPError(400, "Upload-Offset is required", "TUS_OFFSET_REQUIRED")
    length = int_header(request, "upload-length")
    checksum = parse_checksum(request.headers.get("upload-checksum"))
    async with uploads.locked(state, request.path_params["upload_id"], tenant.id) as (upload, held):
        _check_not_expired(upload)
        if upload.is_final:
            raise HTTPError(403, "A final upload cannot be patched", "TUS_FINAL_UPLOAD")
        if offset != upload.offset:
            message = f"Upload-Offset {offset} does not match the upload's offset {upload.offset}"
            raise HTTPError(409, message, "TUS_OFFSET_MISMATCH", {"Upload-Offset": str(upload.offset)})
        if length is not None:
            upload = await uploads.set_length(state, tenant, upload, length)
        upload, record = await uploads.append(state, tenant, upload, held, request.stream(), checksum)
    return Response(status_code=204, headers={**_progress(upload), **_file_headers(state, record)})


@describe(summary="Terminate an upload", headers=TUS_HEADERS_IN, responses={204: "Terminated"}, errors=(412, 423))
@tus_endpoint
async def terminate(request: Request) -> Response:
    check_version(request)
    state, tenant = await _tenant(request)
    async with uploads.locked(state, request.path_params["upload_id"], tenant.id) as (upload, _held):
        await uploads.remove(state, upload)
    return Response(status_code=204)


@describe(responses={200: "The bytes", 206: "A range of the bytes"}, errors=(409, 416))
@tus_endpoint
async def download(request: Request) -> Response:
    """The bytes of a finished upload (from its bucket), with single-range support."""
    state, tenant = await _tenant(request)
    upload = await state.store.uploads.get(request.path_params["upload_id"], tenant.id)
    if upload is None:
        raise uploads.not_found()
    if upload.file_id is None:
        raise HTTPError(409, "The upload is not finished", "UPLOAD_INCOMPLETE")
    record = await state.store.files.get(upload.file_id)
    bucket = await state.store.buckets.get(tenant.id, record.bucket) if record else None
    if record is None or bucket is None or record.status != "ready":
        raise HTTPError(404, "The uploaded file no longer exists", "FILE_NOT_FOUND")
    headers = {"Content-Type": record.mime, "Accept-Ranges": "bytes", "ETag": f'"{record.etag}"'}
    start, end, status = 0, record.size - 1, 200
    if (wanted := byte_range(request.headers.get("range"), record.size)) is not None:
        (start, end), status = wanted, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{record.size}"
    headers["Content-Length"] = str(end - start + 1)
    if not record.size:
        return Response(status_code=status, headers=headers)
    body = state.backend(bucket).open_range(record.key, start, end)
    return StreamingResponse(body, status_code=status, headers=headers)


_UPLOAD = BASE_PATH + "/{upload_id}"

routes = [
    Route(BASE_PATH, create, methods=["POST"]),
    Route(BASE_PATH, options, methods=["OPTIONS"]),
    Route(_UPLOAD, head, methods=["HEAD"]),  # before GET, which would also answer HEAD
    Route(_UPLOAD, patch, methods=["PATCH"]),
    Route(_UPLOAD, terminate, methods=["DELETE"]),
    Route(_UPLOAD, download, methods=["GET"]),
    Route(_UPLOAD, options, methods=["OPTIONS"]),
]
