"""Project import sessions: ``/api/upload/project`` (create, chunks, progress, cancel)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from origin.api.editor import schemas as s
from origin.api.editor.common import caller
from origin.editor import project_import
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state


@describe(request=s.EditorProjectImportRequest, responses={200: s.EditorId}, errors=(507,))
async def create(request: Request) -> JSON:
    """Start a project import: the zip is sent next, in chunks."""
    who = await caller(request)
    record = await project_import.create_session(get_state(request), who, await json_body(request))
    return JSON({"id": record.id})


@describe(**s.chunk_upload(s.EditorProjectChunk))
async def put_chunk(request: Request) -> JSON:
    """A chunk of the project's zip: 200 once the whole zip is here, else 206.

    `Range` says what the server holds."""
    who = await caller(request)
    held, total = await project_import.put_chunk(
        get_state(request), who, request.query_params.get("id"), request.headers.get("content-range"),
        request.stream(),
    )  # fmt: skip
    headers = {"Range": f"bytes=0-{held - 1}"} if held else {}
    return JSON({"size": total, "received": held}, 200 if held >= total else 206, headers=headers)


@describe(query=s.ID_QUERY, required_query=("id",), responses={200: s.EditorProjectImport})
async def progress(request: Request) -> JSON:
    """A project import's stage and progress."""
    who = await caller(request)
    record = await project_import.get_session(get_state(request), who, request.query_params.get("id"))
    return JSON(project_import.status_object(record))


@describe(query=s.ID_QUERY, required_query=("id",), responses={200: s.EditorEmpty})
async def cancel(request: Request) -> JSON:
    """Cancel a project import."""
    who = await caller(request)
    await project_import.cancel(get_state(request), who, request.query_params.get("id"))
    return JSON({})


routes: list[BaseRoute] = [
    Route("/api/upload/project", create, methods=["POST"]),
    Route("/api/upload/project", put_chunk, methods=["PUT"]),
    Route("/api/upload/project", progress, methods=["GET"]),
    Route("/api/upload/project", cancel, methods=["DELETE"]),
]
