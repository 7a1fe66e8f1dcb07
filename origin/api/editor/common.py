"""What the editor dialect's handlers share: authentication, paging parameters, error objects."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mediaedge.errors import HTTPError
from origin.editor.sessions import Caller, authenticate, bearer
from origin.state import get_state

MAX_COUNT = 500
DEFAULT_COUNT = 20


async def caller(request: Request) -> Caller:
    """The session of the request's ``Authorization`` token (or ``auth_token`` query parameter)."""
    token = bearer(request.headers.get("authorization")) or request.query_params.get("auth_token")
    return await authenticate(get_state(request), token)


def int_param(request: Request, name: str, default: int | None = None, *, low: int = 0, high: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if default is None:
            raise HTTPError(400, f"{name} is required", "editor.param.invalid")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPError(400, f"{name} must be an integer", "editor.param.invalid") from None
    if value < low or (high is not None and value > high):
        raise HTTPError(
            400, f"{name} must be between {low} and {high if high is not None else 'any'}", "editor.param.invalid"
        )
    return value


def flag(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def media_error(kind: str, message: str, title: str | None = None) -> dict[str, Any]:
    """The seed's ``media_error_description_object``."""
    return {"type": kind, "message": message, "title": title or kind.replace("_", " ").capitalize()}
