"""Chunked upload sessions (``/api/upload/media``) and imports (``/api/import/media/...``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from mediaedge.errors import HTTPError
from origin.api.editor import schemas as s
from origin.api.editor.common import caller
from origin.editor import imports, uploads
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state


@describe(request=s.EditorUploadRequest, responses={200: s.EditorId}, errors=(507, 514))
async def create_session(request: Request) -> JSON:
    """Start a chunked upload: a media file in stage ``upload``."""
    who = await caller(request)
    asset = await uploads.create_session(get_state(request), who, await json_body(request))
    return JSON({"id": asset.id})


def _held(held: uploads.Held) -> JSON:
    """200 when complete, else 206; ``Range`` says what the server holds (absent: nothing yet)."""
    headers = {"Range": f"bytes=0-{held.offset - 1}"} if held.offset else {}
    body = {"id": held.asset.id, "size": held.total, "received": held.offset}
    return JSON(body, 200 if held.complete else 206, headers=headers)


@describe(**s.chunk_upload(s.EditorHeld))
async def put_chunk(request: Request) -> JSON:
    """A chunk of the file: 200 once complete, else 206 with the ``Range`` the server holds."""
    who = await caller(request)
    asset_id = request.query_params.get("id")
    if not asset_id:
        raise HTTPError(400, "id is required", "editor.param.invalid")
    held = await uploads.put_chunk(
        get_state(request), who, asset_id, request.headers.get("content-range"), request.stream()
    )
    return _held(held)


@describe(query=s.ID_QUERY, required_query=("id",), responses={200: s.EditorHeld, 206: s.EditorHeld})
async def session_status(request: Request) -> JSON:
    """What the server holds of an upload: 200 complete, else 206 with ``Range``."""
    who = await caller(request)
    asset_id = request.query_params.get("id")
    if not asset_id:
        raise HTTPError(400, "id is required", "editor.param.invalid")
    return _held(await uploads.status(get_state(request), who, asset_id))


@describe(request=s.EditorImportUrl, responses={200: s.EditorId})
async def import_url(request: Request) -> JSON:
    """Import a media file from a URL (fetched on a worker)."""
    who = await caller(request)
    asset = await imports.import_url(get_state(request), who, await json_body(request))
    return JSON({"id": asset.id})


@describe(request=s.EditorImportBucket, responses={200: s.EditorImportQueued})
async def import_bucket(request: Request) -> JSON:
    """Import the media files of an S3 bucket (on a worker)."""
    who = await caller(request)
    job_id = await imports.import_bucket(get_state(request), who, await json_body(request))
    return JSON({"id": job_id, "error": ""})


routes: list[BaseRoute] = [
    Route("/api/upload/media", create_session, methods=["POST"]),
    Route("/api/upload/media", put_chunk, methods=["PUT"]),
    Route("/api/upload/media", session_status, methods=["GET"]),
    Route("/api/import/media/url", import_url, methods=["POST"]),
    Route("/api/import/media/awsbucket", import_bucket, methods=["POST"]),
]
