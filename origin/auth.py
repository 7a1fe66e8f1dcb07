"""Tenant authentication by the seed's ``API-Key`` header."""

from __future__ import annotations

from starlette.requests import Request

from mediaedge.errors import HTTPError
from origin.state import get_state
from origin.store import Tenant

API_KEY_HEADER = "api-key"
#: ASGI scope key under which a wrapping route (the dashboard's TUS mount) puts the tenant it already
#: authenticated; clients cannot set scope keys.
SCOPED_TENANT = "mediaedge.tenant"


async def require_tenant(request: Request, invalid_status: int = 401, api_key: str | None = None) -> Tenant:
    """The tenant whose key the request carries.

    Missing key → 400 (seed). Unknown or revoked key → 401, or 404 on the upload service whose
    table in the seed says "404 Invalid API key".
    """
    scoped = request.scope.get(SCOPED_TENANT)
    if isinstance(scoped, Tenant):
        return scoped
    api_key = api_key or request.headers.get(API_KEY_HEADER)
    if not api_key:
        raise HTTPError(400, "Missing API-Key header", "API_KEY_REQUIRED")
    tenant = await get_state(request).store.tenants.by_api_key(api_key)
    if tenant is None or not tenant.active:
        raise HTTPError(invalid_status, "Invalid API key", "API_KEY_INVALID")
    return tenant
