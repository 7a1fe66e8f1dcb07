"""Projects and their action history (``/api/projects``, ``/api/actions``).

A project belongs to the editor user whose session made it (other users get 404). Its ``data`` is
whatever JSON the editor saves; ``thumbnail`` a base64 image. Creating and changing one emits the
``project_create`` / ``project_update`` callback with the thumbnail, in the same transaction.

The action history keeps the changes made between autosaves: actions are listed in the order they
were posted. Undo sets an action's ``canceled`` to true, redo back to false; posting a new action
first removes every canceled one (the redo branch is gone once the user does something new). At
most ``editor.action_history_depth`` actions are kept per project, the oldest dropped first.
Deleting a project deletes its actions.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from mediaedge.errors import HTTPError
from origin.editor.callbacks import emit_callback
from origin.editor.sessions import Caller, user_id
from origin.state import OriginState
from origin.store.editor_work import Action, DuplicateAction, Project

MAX_THUMBNAIL = 4 * 1024 * 1024
MAX_NAME = 500
MAX_ID = 200


def invalid(message: str) -> HTTPError:
    return HTTPError(400, message, "editor.project.invalid")


def not_found(what: str = "project") -> HTTPError:
    return HTTPError(404, f"No such {what}", "not_found")


def now_ms() -> int:
    return int(time.time() * 1000)


def _time(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise invalid(f"{name} must be a unix time in milliseconds")
    return int(value)


def _text(body: dict[str, Any], name: str, limit: int = MAX_NAME) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise invalid(f"{name} must be a string of at most {limit} characters")
    return value


def _thumbnail(body: dict[str, Any]) -> str | None:
    value = _text(body, "thumbnail", MAX_THUMBNAIL)
    if value:
        payload = value.split(",", 1)[1] if value.startswith("data:") and "," in value else value
        try:
            base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise invalid("thumbnail must be a base64 image") from None
    return value


def project_object(project: Project, *, with_data: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": project.id,
        "name": project.name,
        "createTime": project.create_time,
        "modifTime": project.modif_time,
        "thumbnail": project.thumbnail,
    }
    if with_data:
        body["data"] = project.data
    return body


async def create_project(state: OriginState, caller: Caller, body: dict[str, Any]) -> Project:
    name = _text(body, "name")
    if name is None:
        raise invalid("name is required")
    thumbnail = _thumbnail(body) or ""
    created = _time(body, "createTime") or now_ms()
    async with state.store.transaction() as tx:
        project = await state.store.editor_work.create_project(
            caller.tenant.id,
            user_id(caller.session),
            conn=tx,
            name=name,
            data=body.get("data"),
            thumbnail=thumbnail,
            create_time=created,
            modif_time=created,
        )
        await emit_callback(
            state, tx, caller.session, "project_create", {"projectId": project.id, "thumbnail": thumbnail}
        )
    return project


async def update_project(state: OriginState, caller: Caller, project_id: str, body: dict[str, Any]) -> Project:
    fields: dict[str, Any] = {}
    if (name := _text(body, "name")) is not None:
        fields["name"] = name
    if "data" in body:
        fields["data"] = body["data"]
    if (thumbnail := _thumbnail(body)) is not None:
        fields["thumbnail"] = thumbnail
    fields["modif_time"] = _time(body, "modifTime") or now_ms()
    async with state.store.transaction() as tx:
        project = await state.store.editor_work.update_project(
            caller.tenant.id, user_id(caller.session), project_id, tx, **fields
        )
        if project is None:
            raise not_found()
        payload = {"projectId": project.id, "thumbnail": project.thumbnail}
        await emit_callback(state, tx, caller.session, "project_update", payload)
    return project


async def get_project(state: OriginState, caller: Caller, project_id: str) -> Project:
    project = await state.store.editor_work.project(caller.tenant.id, user_id(caller.session), project_id)
    if project is None:
        raise not_found()
    return project


async def list_projects(
    state: OriginState, caller: Caller, *, start: int, count: int, search: str | None
) -> tuple[list[Project], int]:
    return await state.store.editor_work.projects(
        caller.tenant.id, user_id(caller.session), search=search or None, offset=start, limit=count
    )


async def delete_project(state: OriginState, caller: Caller, project_id: str) -> None:
    if not await state.store.editor_work.delete_project(caller.tenant.id, user_id(caller.session), project_id):
        raise not_found()


async def used_in_projects(state: OriginState, tenant_id: str, asset_id: str) -> list[str]:
    """The tenant's projects (any user's) whose data refers to the media file ``asset_id``."""
    return await state.store.editor_work.projects_using(tenant_id, asset_id)


# -- actions --------------------------------------------------------------------------------------


def action_object(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "name": action.name,
        "data": action.data,
        "canceled": action.canceled,
        "createTime": action.create_time,
        "modifTime": action.modif_time,
    }


async def add_action(state: OriginState, caller: Caller, body: dict[str, Any]) -> Action:
    project_id = body.get("project", body.get("projectId"))
    if not isinstance(project_id, str) or not project_id:
        raise invalid("project is required")
    action_id = body.get("id")
    if action_id is not None:
        if isinstance(action_id, int) and not isinstance(action_id, bool):
            action_id = str(action_id)
        if not isinstance(action_id, str) or not action_id or len(action_id) > MAX_ID:
            raise invalid(f"id must be a string of at most {MAX_ID} characters")
    created = _time(body, "createTime") or now_ms()
    try:
        action = await state.store.editor_work.add_action(
            caller.tenant.id,
            user_id(caller.session),
            project_id,
            state.settings.editor.action_history_depth,
            action_id=action_id,
            name=_text(body, "name") or "",
            data=body.get("data"),
            create_time=created,
            modif_time=created,
        )
    except DuplicateAction:
        raise invalid(f"the project already has an action {action_id!r}") from None
    if action is None:
        raise not_found()
    return action


async def set_canceled(state: OriginState, caller: Caller, action_id: str, body: dict[str, Any]) -> Action:
    """Undo (``canceled: true``) or redo (``false``) an action."""
    canceled = body.get("canceled")
    if not isinstance(canceled, bool):
        raise invalid("canceled must be true or false")
    modified = _time(body, "modifTime") or now_ms()
    action = await state.store.editor_work.action(caller.tenant.id, user_id(caller.session), action_id)
    if action is None:
        raise not_found("action")
    updated = await state.store.editor_work.update_action(action, canceled=canceled, modif_time=modified)
    if updated is None:  # removed meanwhile (a new action ended its redo branch)
        raise not_found("action")
    return updated


async def list_actions(state: OriginState, caller: Caller, project_id: str | None) -> list[Action]:
    if not project_id:
        raise invalid("project is required")
    project = await get_project(state, caller, project_id)
    return await state.store.editor_work.actions(project.id)
