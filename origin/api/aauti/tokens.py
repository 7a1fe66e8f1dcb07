"""``POST /auth/url-token`` (seed 000) and the JWKS edges verify tokens with (DESIGN §3)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from mediaedge.tokens import jwks
from origin.api.aauti.shapes import JWKS, UrlToken, UrlTokenRequest
from origin.auth import require_tenant
from origin.http import JSON, json_body, str_field
from origin.lookup import split_access_url
from origin.openapi import describe
from origin.signing import sign_edge_url
from origin.state import OriginState, get_state
from origin.store import Tenant
from origin.streams.outputs import stream_of_key


@dataclass(frozen=True)
class _Target:
    """A token's subject: the URL's ``key``, the ``path`` claim and its ``scope``, the content ids it is
    bound to, and the media duration its lifetime must cover (seconds, or None)."""

    key: str
    path: str
    scope: str
    duration: float | None
    file_id: str | None = None
    asset_id: str | None = None


def _expires_in(value: object, default: str) -> int:
    try:
        return parse_duration(default if value is None else value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise HTTPError(400, f"expiresIn: {exc}", "EXPIRES_IN_INVALID") from None


async def _target(state: OriginState, tenant: Tenant, url: str, scope: str) -> _Target:
    """What a token for ``url`` opens and is bound to (DESIGN §3).

    Exact: a file (``fid`` = its id). A key inside a stream's output directory has no file record:
    it is signed as a prefix token for its directory instead, since a playlist is useless without the
    relative URLs beside it. Prefix: the URL's directory (the URL itself when it ends in ``/``), bound
    to the stream (``aid``) whose outputs it lies in, if any.
    """
    directory = scope == "prefix" and url.endswith("/")
    _, key = split_access_url(url.rstrip("/") if directory else url)
    if not key.startswith(f"{tenant.id}/"):
        raise HTTPError(403, "The URL is not one of this tenant's files", "FORBIDDEN_PATH")
    if scope == "exact":
        record = await state.store.files.by_key(key)
        if record is not None and record.tenant_id == tenant.id:
            video = bool(record.duration) and record.mime.startswith("video/")
            return _Target(key, key, "exact", record.duration if video else None, file_id=record.id)
        if await stream_of_key(state, key) is None:
            raise HTTPError(404, "File not found", "FILE_NOT_FOUND")
    path = key + "/" if directory else key.rsplit("/", 1)[0] + "/"
    stream = await stream_of_key(state, path)
    return _Target(
        key if not directory else path,
        path,
        "prefix",
        stream.duration if stream else None,
        asset_id=stream.id if stream else None,
    )


async def issue_url_token(
    state: OriginState,
    tenant: Tenant,
    url: str,
    *,
    scope: str = "exact",
    ip: str | None = None,
    expires_in: object = None,
) -> dict[str, object]:
    """A signed URL for one of the tenant's files or stream folders (the answer of ``POST /auth/url-token``;
    the dashboard's signed URL generator too)."""
    if scope not in ("exact", "prefix"):
        raise HTTPError(400, 'scope must be "exact" or "prefix"')
    lifetime = _expires_in(expires_in, state.settings.tokens.default_expires_in)
    target = await _target(state, tenant, url, scope)
    try:
        signed = await sign_edge_url(
            state,
            tenant.id,
            key=target.key,
            path=target.path,
            scope=target.scope,
            lifetime=lifetime,
            duration=target.duration,
            ip=ip,
            file_id=target.file_id,
            asset_id=target.asset_id,
        )
    except ValueError as exc:
        raise HTTPError(400, str(exc)) from None
    return {
        "token": signed.token,
        "url": signed.url,
        "signed": True,
        "expiresAt": signed.expires_at,
        "scope": target.scope,
    }


@describe(request=UrlTokenRequest, responses={200: UrlToken}, errors=(403,))
async def url_token(request: Request) -> JSON:
    """A signed URL (JWT) for one of the tenant's files or stream folders: expiry, exact or prefix scope, IP binding."""
    state = get_state(request)
    tenant = await require_tenant(request)
    body = await json_body(request)
    url = str_field(body, "url", required=True) or ""
    scope = str_field(body, "scope") or "exact"
    answer = await issue_url_token(
        state, tenant, url, scope=scope, ip=str_field(body, "ip"), expires_in=body.get("expiresIn")
    )
    return JSON(answer)


@describe(security=(), responses={200: JWKS})
async def jwks_document(request: Request) -> JSON:
    """The public keys edges verify URL tokens with (JWKS)."""
    state = get_state(request)
    await state.keys.active()  # a fresh origin publishes a key before it signs one
    keys = await state.store.signing_keys.verifying_jwks(time.time())
    return JSON(jwks(keys), headers={"Cache-Control": "public, max-age=60"})


routes = [
    Route("/auth/url-token", url_token, methods=["POST"]),
    Route("/.well-known/jwks.json", jwks_document, methods=["GET"]),
]
