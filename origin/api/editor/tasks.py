"""Media-info tasks (``/api/task/mediainfo``), authorised by the developer's ``apiKey``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from mediaedge.errors import HTTPError
from origin.api.editor import schemas as s
from origin.editor import mediainfo
from origin.editor.sessions import bearer, tenant_of_key
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state


@describe(request=s.EditorMediaInfoRequest, responses={200: s.EditorId})
async def create(request: Request) -> JSON:
    """Fetch a file you serve and describe it for the editor (a task; the same source: the same task)."""
    state = get_state(request)
    tenant = await tenant_of_key(state, bearer(request.headers.get("authorization")))
    task = await mediainfo.create_task(state, tenant, await json_body(request))
    return JSON({"id": task.id})


@describe(responses={200: s.EditorMediaInfoResult, 202: s.EditorRunning}, errors=(422,))
async def show(request: Request) -> JSON:
    """A media-info task: 202 while it runs, then the file's facts and thumbnail strip."""
    state = get_state(request)
    tenant = await tenant_of_key(state, bearer(request.headers.get("authorization")))
    task = await mediainfo.get_task(state, tenant, request.path_params["id"])
    if task.status == "running":
        return JSON({"id": task.id, "status": "running"}, 202)
    if task.status == "failed":
        raise HTTPError(422, task.error or "The media file could not be processed", "editor.mediainfo.failed")
    return JSON({"info": task.info, "thumbnails": task.thumbnails or []})


routes: list[BaseRoute] = [
    Route("/api/task/mediainfo", create, methods=["POST"]),
    Route("/api/task/mediainfo/{id}", show, methods=["GET"]),
]
