"""The seed's file API: duration (of a file or a YouTube video), download URL, register, delete."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from mediaedge.errors import HTTPError
from mediaedge.keys import InvalidKey, validate_key
from mediaedge.storage import ObjectNotFound
from origin.api.aauti.shapes import Done, DownloadLink, FileDuration, FileRef, RegisteredFile, RegisterRequest
from origin.auth import require_tenant
from origin.catalogue.assets import file_stored
from origin.http import JSON, json_body, str_field
from origin.ingest import parse_bool
from origin.lookup import file_from_url
from origin.openapi import describe
from origin.probe import ProbeResult, guess_mime, is_media, probe
from origin.purge import purge_edges
from origin.signing import check_link, link_signature
from origin.state import get_state
from origin.store import FileMeta
from origin.videos.delete import delete_video
from origin.videos.objects import MEDIA_KINDS
from origin.youtube import youtube_duration, youtube_video_id

DOWNLOAD_TTL = 900
DOWNLOAD_LINK = "download-url"
#: The ``file`` query parameter of duration and download.
FILE_QUERY: dict[str, Any] = {"file": {"type": "string", "description": "The file's access URL (or a YouTube URL)"}}


@describe(query=FILE_QUERY, required_query=("file",), responses={200: FileDuration})
async def duration(request: Request) -> JSON:
    """Seconds of a tenant's media file, or of a YouTube video (``file`` a YouTube URL, see :mod:`origin.youtube`)."""
    state = get_state(request)
    tenant = await require_tenant(request)
    url = request.query_params.get("file")
    video_id = youtube_video_id(url or "")
    if video_id is not None:
        return JSON({"status": 200, "duration": await youtube_duration(state.settings, video_id)})
    record = await file_from_url(state, tenant, url)
    return JSON({"status": 200, "duration": record.duration})


@describe(query=FILE_QUERY, required_query=("file",), responses={200: DownloadLink})
async def download(request: Request) -> JSON:
    """A time-limited download URL for one of the tenant's files."""
    state = get_state(request)
    tenant = await require_tenant(request)
    record = await file_from_url(state, tenant, request.query_params.get("file"))
    bucket = await state.store.buckets.get(tenant.id, record.bucket)
    if bucket is None:
        raise HTTPError(404, "Bucket not found", "BUCKET_NOT_FOUND")
    url = await state.backend(bucket).presign_get(record.key, DOWNLOAD_TTL, record.filename)
    if url is None:  # disk: a short-lived URL signed by the origin itself
        expires = int(time.time()) + DOWNLOAD_TTL
        query = urlencode({"expires": expires, "signature": link_signature(state, DOWNLOAD_LINK, record.id, expires)})
        url = f"{state.settings.origin.url}/files/raw/{record.id}?{query}"
    return JSON({"url": url, "filename": record.filename, "file_size": record.size})


@describe(security=(), responses={200: "The file", 206: "A range of the file"}, errors=(403, 404, 416))
async def raw_download(request: Request) -> StreamingResponse:
    """The target of a disk download URL: checks the signature, streams the file as an attachment."""
    state = get_state(request)
    file_id = request.path_params["file_id"]
    check_link(
        state,
        DOWNLOAD_LINK,
        file_id,
        request.query_params.get("expires"),
        request.query_params.get("signature"),
        what="download link",
        code="DOWNLOAD_LINK",
    )
    record = await state.store.files.get(file_id)
    bucket = await state.store.buckets.get(record.tenant_id, record.bucket) if record else None
    if record is None or bucket is None:
        raise HTTPError(404, "File not found", "FILE_NOT_FOUND")
    return StreamingResponse(
        state.backend(bucket).open_range(record.key),
        media_type=record.mime,
        headers={
            "Content-Length": str(record.size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(record.filename)}",
        },
    )


@describe(request=RegisterRequest, responses={201: RegisteredFile}, errors=(403,))
async def register(request: Request) -> JSON:
    """Register an object already in one of the tenant's buckets as a file."""
    state = get_state(request)
    tenant = await require_tenant(request)
    body = await json_body(request)
    file_path = str_field(body, "filePath", required=True) or ""
    try:
        key = validate_key(file_path.strip("/"))
    except InvalidKey as exc:
        raise HTTPError(400, f"Invalid filePath: {exc}") from None
    if not key.startswith(f"{tenant.id}/"):
        raise HTTPError(403, "filePath must lie under the tenant's own prefix", "FORBIDDEN_PATH")
    bucket = await state.store.buckets.get(tenant.id, str_field(body, "bucket"))
    if bucket is None:
        raise HTTPError(404, "Bucket not found", "BUCKET_NOT_FOUND")
    backend = state.backend(bucket)
    try:
        info = await backend.stat(key)
    except ObjectNotFound:
        raise HTTPError(404, "No object at filePath in that bucket", "OBJECT_NOT_FOUND") from None
    filename = key.rsplit("/", 1)[-1]
    mime = guess_mime(filename, info.content_type)
    found = ProbeResult()
    if is_media(mime):
        source = backend.local_path(key) or await backend.presign_get(key, 600)
        found = await probe(source) if source else found
    user_id = str_field(body, "userId") or key.split("/")[1]
    meta = FileMeta(
        info.size, info.etag, mime, found.duration, found.width, found.height, found.video_codec, found.audio_codec
    )
    async with state.store.transaction() as tx:
        record, _ = await state.store.files.register(
            tenant.id, bucket.name, key, filename, user_id, parse_bool(body.get("requireSignedUrl")), meta, tx
        )
        await file_stored(state.store, record, tx)
    await purge_edges(state, [record.key])  # a replaced object, or a 404 the edges remember
    return JSON(
        {
            "key": record.id,
            "url": state.access_url(record),
            "filename": record.filename,
            "file_type": record.mime,
            "file_size": record.size,
            "duration": record.duration,
        },
        status_code=201,
    )


@describe(request=FileRef, responses={200: Done})
async def delete(request: Request) -> JSON:
    """Delete a file (and purge it from the edges)."""
    state = get_state(request)
    tenant = await require_tenant(request)
    body = await json_body(request)
    record = await file_from_url(state, tenant, str_field(body, "file", required=True))
    asset = await state.store.assets.by_file(record.id)
    if asset is not None and asset.kind in MEDIA_KINDS:  # its stream and thumbnails go too; deleted everywhere
        await delete_video(state, tenant, asset.id)
        return JSON({"success": True, "message": "File deleted successfully"})
    bucket = await state.store.buckets.get(tenant.id, record.bucket)
    if bucket is not None:
        await state.backend(bucket).delete(record.key)
    await state.store.files.delete(record.id)
    await purge_edges(state, [record.key])
    return JSON({"success": True, "message": "File deleted successfully"})


routes = [
    Route("/files/duration", duration, methods=["GET"]),
    Route("/files/download", download, methods=["GET"]),
    Route("/files/raw/{file_id}", raw_download, methods=["GET"]),
    Route("/files/register", register, methods=["POST"]),
    Route("/files/delete", delete, methods=["DELETE"]),
]
