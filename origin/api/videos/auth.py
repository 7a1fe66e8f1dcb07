"""Who calls: ``Authorization: Bearer <key>``, or the ``stream-public-key`` + ``stream-secret-key`` pair."""

from __future__ import annotations

from starlette.requests import Request

from origin.auth import require_video_key
from origin.store import Tenant


async def video_tenant(request: Request) -> Tenant:
    """The tenant whose key (or key pair) the request carries; 401 ``auth.missing`` / ``auth.invalid``."""
    return await require_video_key(request)
