"""Editing (render) tasks: ``/api/task/editing`` (create, status, stop)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from origin.api.editor import schemas as s
from origin.api.editor.common import caller
from origin.editor import render_tasks
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state
from origin.store.editor_work import RenderTask


def task_object(task: RenderTask) -> dict[str, Any]:
    """The task as ``GET /api/task/editing`` shows it."""
    body: dict[str, Any] = {
        "id": task.id,
        "progress": round(task.progress),
        "status": task.status,
        "outputUrls": task.output_urls,
        "fileIds": task.outputs,
    }
    if task.error:
        body["error"] = task.error
    return body


@describe(request=s.EditorRenderRequest, responses={200: s.EditorRenderQueued})
async def create(request: Request) -> JSON:
    """Render an XTL timeline into output media files (on a worker)."""
    who = await caller(request)
    task, file_id = await render_tasks.create_task(get_state(request), who, await json_body(request))
    return JSON({"taskId": task.id, "fileId": file_id})


@describe(query=s.ID_QUERY, required_query=("id",), responses={200: s.EditorRenderTask})
async def show(request: Request) -> JSON:
    """A render task's status, progress and outputs."""
    who = await caller(request)
    task = await render_tasks.get_task(get_state(request), who, request.query_params.get("id"))
    return JSON(task_object(task))


@describe(query=s.ID_QUERY, required_query=("id",), responses={200: s.EditorRenderStopped})
async def stop(request: Request) -> JSON:
    """Stop a render task still going (its outputs are deleted)."""
    who = await caller(request)
    task = await render_tasks.stop_task(get_state(request), who, request.query_params.get("id"))
    return JSON({"status": "" if task.status == "aborted" else f"the task had ended: {task.status}"})


routes: list[BaseRoute] = [
    Route("/api/task/editing", create, methods=["POST"]),
    Route("/api/task/editing", show, methods=["GET"]),
    Route("/api/task/editing", stop, methods=["DELETE"]),
]
