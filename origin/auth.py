"""Tenant authentication, one key store behind every API's way of presenting a key.

- seed 000 (``/upload``, ``/files``, ``/streams``…): the ``API-Key`` header;
- the video objects, media and uploads APIs: ``Authorization: Bearer <key>``;
- the video objects API also takes its ``stream-public-key`` + ``stream-secret-key`` pair.

Every key is one of the tenant's API keys (:mod:`origin.store.api_keys`): named, revocable, its last
use recorded. Lookups go by the key's SHA-256 and compare in constant time.
"""

from __future__ import annotations

from starlette.requests import Request

from mediaedge.errors import HTTPError
from origin.state import get_state
from origin.store import ApiKey, Tenant

API_KEY_HEADER = "api-key"
PUBLIC_KEY_HEADER = "stream-public-key"
SECRET_KEY_HEADER = "stream-secret-key"  # noqa: S105 - a header name
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


def bearer_token(request: Request) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header (scheme case-insensitive), else None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def require_bearer(request: Request) -> Tenant:
    """The tenant of the request's Bearer key: 401 ``auth.missing`` without one, ``auth.invalid`` if unknown."""
    return (await require_bearer_key(request))[0]


async def require_bearer_key(request: Request) -> tuple[Tenant, ApiKey]:
    """:func:`require_bearer`, with the key itself (APIs that tell callers apart by key)."""
    token = bearer_token(request)
    if token is None:
        raise HTTPError(401, "Missing Authorization: Bearer <API key>", "auth.missing")
    found = await get_state(request).store.api_keys.authenticate(token)
    if found is None:
        raise HTTPError(401, "Invalid or revoked API key", "auth.invalid")
    return found


async def require_video_key(request: Request) -> Tenant:
    """A Bearer key, or the ``stream-public-key`` + ``stream-secret-key`` pair (both halves of one key)."""
    public, secret = request.headers.get(PUBLIC_KEY_HEADER), request.headers.get(SECRET_KEY_HEADER)
    if bearer_token(request) is not None or not (public or secret):
        return await require_bearer(request)
    if not (public and secret):
        raise HTTPError(401, "Send both stream-public-key and stream-secret-key", "auth.missing")
    found = await get_state(request).store.api_keys.authenticate_pair(public, secret)
    if found is None:
        raise HTTPError(401, "Invalid or revoked key pair", "auth.invalid")
    return found[0]
