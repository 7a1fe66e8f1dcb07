"""Projects: ``/api/projects`` (create, list) and ``/api/projects/<id>`` (get, change, delete)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from origin.api.editor import schemas as s
from origin.api.editor.common import DEFAULT_COUNT, MAX_COUNT, caller, flag, int_param
from origin.editor import projects
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state


@describe(request=s.EditorProjectRequest, responses={200: s.EditorId})
async def create(request: Request) -> JSON:
    """Create a project."""
    who = await caller(request)
    project = await projects.create_project(get_state(request), who, await json_body(request))
    return JSON({"id": project.id})


@describe(request=s.EditorProjectChange, responses={200: s.EditorEmpty})
async def update(request: Request) -> JSON:
    """Change a project's name, data or thumbnail."""
    who = await caller(request)
    await projects.update_project(get_state(request), who, request.path_params["id"], await json_body(request))
    return JSON({})


@describe(responses={200: s.EditorProject})
async def show(request: Request) -> JSON:
    """One project, with its data."""
    who = await caller(request)
    project = await projects.get_project(get_state(request), who, request.path_params["id"])
    return JSON(projects.project_object(project))


@describe(
    query={**s.PAGE_QUERY, "data": {"type": "string", "enum": ["0", "1"], "description": "0: without data"}},
    responses={200: s.EditorProjects},
)
async def listing(request: Request) -> JSON:
    """The user's projects (search by name, paging)."""
    who = await caller(request)
    start = int_param(request, "start_number", 0)
    count = int_param(request, "count", DEFAULT_COUNT, low=1, high=MAX_COUNT)
    with_data = flag(request, "data", True)
    found, total = await projects.list_projects(
        get_state(request), who, start=start, count=count, search=request.query_params.get("search")
    )
    entries = [projects.project_object(p, with_data=with_data) for p in found]
    return JSON({"total_count": total, "entries": entries})


@describe(responses={200: s.EditorEmpty})
async def delete(request: Request) -> JSON:
    """Delete a project and its action history."""
    who = await caller(request)
    await projects.delete_project(get_state(request), who, request.path_params["id"])
    return JSON({})


routes: list[BaseRoute] = [
    Route("/api/projects", create, methods=["POST"]),
    Route("/api/projects", listing, methods=["GET"]),
    Route("/api/projects/{id}", show, methods=["GET"]),
    Route("/api/projects/{id}", update, methods=["PATCH"]),
    Route("/api/projects/{id}", delete, methods=["DELETE"]),
]
