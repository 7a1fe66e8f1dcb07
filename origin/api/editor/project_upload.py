"""Project import sessions: ``/api/upload/project`` (create, chunks, progress, cancel)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from origin.api.editor.common import caller
from origin.editor import project_import
from origin.http import JSON, json_body
from origin.state import get_state


async def create(request: Request) -> JSON:
    who = await caller(request)
    record = await project_import.create_session(get_state(request), who, await json_body(request))
    return JSON({"id": record.id})


async def put_chunk(request: Request) -> JSON:
    """200 once the whole zip is here, else 206; ``Range`` says what the server holds."""
    who = await caller(request)
    held, total = await project_import.put_chunk(
        get_state(request), who, request.query_params.get("id"), request.headers.get("content-range"),
        request.stream(),
    )  # fmt: skip
    headers = {"Range": f"bytes=0-{held - 1}"} if held else {}
    return JSON({"size": total, "received": held}, 200 if held >= total else 206, headers=headers)


async def progress(request: Request) -> JSON:
    who = await caller(request)
    record = await project_import.get_session(get_state(request), who, request.query_params.get("id"))
    return JSON(project_import.status_object(record))


async def cancel(request: Request) -> JSON:
    who = await caller(request)
    await project_import.cancel(get_state(request), who, request.query_params.get("id"))
    return JSON({})


routes: list[BaseRoute] = [
    Route("/api/upload/project", create, methods=["POST"]),
    Route("/api/upload/project", put_chunk, methods=["PUT"]),
    Route("/api/upload/project", progress, methods=["GET"]),
    Route("/api/upload/project", cancel, methods=["DELETE"]),
]
