"""Folders: create (nested), rename, delete (recursively with ``force``), move entries."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from mediaedge.errors import HTTPError
from origin.api.editor import schemas as s
from origin.api.editor.common import caller, flag, media_error
from origin.editor import media
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state


@describe(request=s.EditorFolderRequest, responses={200: s.EditorId}, errors=(409,))
async def create(request: Request) -> JSON:
    """Create a folder (in another with ``folder``)."""
    who = await caller(request)
    body = await json_body(request)
    folder = await media.create_folder(get_state(request), who.tenant, body.get("name"), body.get("folder"))
    return JSON({"id": folder.id})


@describe(request=s.EditorFolderChange, responses={200: s.EditorEmpty}, errors=(409,))
async def rename(request: Request) -> JSON:
    """Rename a folder."""
    who = await caller(request)
    body = await json_body(request)
    if "name" in body:
        await media.rename_folder(get_state(request), who.tenant, request.path_params["id"], body["name"])
    return JSON({})


@describe(
    query=s.FORCE_QUERY,
    responses={200: s.EditorErrorAnswer, 404: s.EditorErrorAnswer, 409: s.EditorErrorAnswer},
)
async def delete(request: Request) -> JSON:
    """Delete a folder (with ``force``: everything in it too); 404 and 409 answer the editor's error object."""
    who = await caller(request)
    try:
        await media.delete_folder(
            get_state(request), who.tenant, request.path_params["id"], force=flag(request, "force")
        )
    except HTTPError as exc:
        if exc.code not in ("not_found", "not_empty"):
            raise
        return JSON({"error": media_error(exc.code or "not_found", exc.message)}, exc.status)
    return JSON({"error": None})


def _ids(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HTTPError(400, f"{name} must be a list of ids", "editor.folder.invalid")
    return value


@describe(request=s.EditorMove, responses={200: s.EditorEmpty}, errors=(409,))
async def move(request: Request) -> JSON:
    """Move media files and folders into a folder."""
    who = await caller(request)
    body = await json_body(request)
    await media.move_entries(
        get_state(request), who.tenant, request.path_params["id"], _ids(body, "files"), _ids(body, "folders")
    )
    return JSON({})


routes: list[BaseRoute] = [
    Route("/api/folders", create, methods=["POST"]),
    Route("/api/folders/{id}", rename, methods=["PATCH"]),
    Route("/api/folders/{id}", delete, methods=["DELETE"]),
    Route("/api/folders/{id}/entries", move, methods=["PUT"]),
]
