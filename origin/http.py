"""Small request/response helpers shared by the origin's routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from mediaedge.errors import HTTPError

M = TypeVar("M", bound=BaseModel)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 in the seed's format."""
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise HTTPError(400, "Body must be valid JSON") from None
    if not isinstance(body, dict):
        raise HTTPError(400, "Body must be a JSON object")
    return body


async def model_body(request: Request, model: type[M]) -> M:
    """The request's JSON object as ``model`` (the schema the route declares), or a 400 ``BODY_INVALID``
    naming the first field that does not fit."""
    body = await json_body(request)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise HTTPError(400, f"{where}: {error['msg']}", "BODY_INVALID") from None


def str_field(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise HTTPError(400, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise HTTPError(400, f"{name} must be a string")
    return value


def iso_time(ts: float | None) -> str | None:
    """A POSIX timestamp as ISO 8601 UTC with milliseconds (``2024-05-01T12:00:00.000Z``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
