"""The media API's envelope, caller and error helpers, shared by every module of the dialect.

- Answers are ``{"data": ...}`` (lists add ``links`` and ``meta``); errors keep the common body
  ``{"statusCode", "message", "error", "code"}`` with the media API's codes (``validation.*``,
  ``media.*``, ``rate.limited``, ``auth.*``).
- The caller authenticates with ``Authorization: Bearer <API key>``; the *user* (rate limits, stream
  tokens, upload keys) is ``X-User-Id`` when given, else the API key's id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from mediaedge.errors import HTTPError
from origin.auth import require_bearer_key
from origin.http import JSON, iso_time, json_body
from origin.media import limits
from origin.state import OriginState, get_state
from origin.store import Tenant

__all__ = ["Caller", "authenticate", "body", "data", "iso_time", "page", "rate_limit"]

USER_HEADER = "x-user-id"
_USER = re.compile(r"^[A-Za-z0-9._@:+-]{1,128}$")


@dataclass(frozen=True)
class Caller:
    state: OriginState
    tenant: Tenant
    key_id: str
    #: ``X-User-Id``, else ``key:<api key id>``.
    user: str
    #: The ``X-User-Id`` header as given (None without one).
    user_header: str | None


async def authenticate(request: Request) -> Caller:
    """The tenant, key and user of a request; 401 ``auth.missing`` / ``auth.invalid``, 400 for a bad user id."""
    state = get_state(request)
    tenant, key = await require_bearer_key(request)
    user_header = request.headers.get(USER_HEADER)
    if user_header is not None and not _USER.match(user_header):
        raise HTTPError(400, "X-User-Id must be 1-128 letters, digits or ._@:+-", "validation.user.invalid")
    return Caller(state, tenant, key.id, user_header or f"key:{key.id}", user_header)


async def rate_limit(caller: Caller, action: str, limit: int) -> dict[str, str]:
    """Count ``action`` against the caller's user: ``RateLimit-*`` headers, or 429 ``rate.limited``."""
    return await limits.enforce(caller.state, action, caller.tenant.id, caller.user, limit)


async def body(request: Request) -> dict[str, Any]:
    return await json_body(request)


def data(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSON:
    """``{"data": payload}``."""
    return JSON({"data": payload}, status_code=status, headers=headers)


def page(
    items: list[Any], next_url: str | None, self_url: str, size: int, headers: dict[str, str] | None = None
) -> JSON:
    """A list: ``{"data": [...], "links": {"self", "next"}, "meta": {"pageSize"}}``."""
    return JSON(
        {"data": items, "links": {"self": self_url, "next": next_url}, "meta": {"pageSize": size}}, headers=headers
    )
