"""The action history: ``/api/actions`` (post, list by project) and ``/api/actions/<id>`` (undo/redo)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from origin.api.editor import schemas as s
from origin.api.editor.common import caller
from origin.editor import projects
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state


@describe(request=s.EditorActionRequest, responses={200: s.EditorId})
async def create(request: Request) -> JSON:
    """Record an action of a project's history (a new one ends the redo branch)."""
    who = await caller(request)
    action = await projects.add_action(get_state(request), who, await json_body(request))
    return JSON({"id": action.id})


@describe(request=s.EditorActionChange, responses={200: s.EditorEmpty})
async def update(request: Request) -> JSON:
    """Undo (``canceled: true``) or redo (``false``) an action."""
    who = await caller(request)
    await projects.set_canceled(get_state(request), who, request.path_params["id"], await json_body(request))
    return JSON({})


@describe(query={"project": {"type": "string"}}, required_query=("project",), responses={200: s.EditorActions})
async def listing(request: Request) -> JSON:
    """A project's action history, oldest first."""
    who = await caller(request)
    found = await projects.list_actions(get_state(request), who, request.query_params.get("project"))
    return JSON({"entries": [projects.action_object(a) for a in found]})


routes: list[BaseRoute] = [
    Route("/api/actions", create, methods=["POST"]),
    Route("/api/actions", listing, methods=["GET"]),
    Route("/api/actions/{id}", update, methods=["PATCH"]),
]
