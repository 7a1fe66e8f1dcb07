"""``POST /auth/url-token`` (seed 000) and the JWKS edges verify tokens with (DESIGN §3)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from mediaedge.tokens import jwks, sign_token
from origin.auth import require_tenant
from origin.http import JSON, json_body, str_field
from origin.lookup import split_access_url
from origin.state import get_state


def _expires_in(value: object, default: str) -> int:
    try:
        return parse_duration(default if value is None else value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise HTTPError(400, f"expiresIn: {exc}", "EXPIRES_IN_INVALID") from None


async def url_token(request: Request) -> JSON:
    state = get_state(request)
    tenant = await require_tenant(request)
    body = await json_body(request)
    url = str_field(body, "url", required=True) or ""
    scope = str_field(body, "scope") or "exact"
    if scope not in ("exact", "prefix"):
        raise HTTPError(400, 'scope must be "exact" or "prefix"')
    ip = str_field(body, "ip")
    _, key = split_access_url(url.rstrip("/") if scope == "prefix" else url)
    path = key
    if scope == "prefix":  # a directory URL, or a file whose directory the token opens
        path = key + "/" if url.endswith("/") else key.rsplit("/", 1)[0] + "/"
    if not path.startswith(f"{tenant.id}/"):
        raise HTTPError(403, "The URL is not one of this tenant's files", "FORBIDDEN_PATH")

    lifetime = _expires_in(body.get("expiresIn"), state.settings.tokens.default_expires_in)
    if scope == "exact":
        record = await state.store.files.by_key(key)
        if record is None or record.tenant_id != tenant.id:
            raise HTTPError(404, "File not found", "FILE_NOT_FOUND")
        if record.duration and record.mime.startswith("video/"):
            lifetime = max(lifetime, int(record.duration * 2 + 0.999))
    lifetime = min(lifetime, parse_duration(state.settings.tokens.max_expires_in))

    signing_key = await state.keys.active()
    now = int(time.time())
    try:
        token = sign_token(signing_key, tenant_id=tenant.id, path=path, expires_at=now + lifetime, scope=scope,
                           ip=ip, now=now)
    except ValueError as exc:
        raise HTTPError(400, str(exc)) from None
    await state.store.signing_keys.note_expiry(signing_key.kid, now + lifetime)
    signed_url = f"{state.settings.edge.url}/{token}/{key if scope == 'exact' else path}"
    return JSON({"token": token, "url": signed_url, "signed": True, "expiresAt": now + lifetime})


async def jwks_document(request: Request) -> JSON:
    state = get_state(request)
    await state.keys.active()  # a fresh origin publishes a key before it signs one
    keys = await state.store.signing_keys.verifying_jwks(time.time())
    return JSON(jwks(keys), headers={"Cache-Control": "public, max-age=60"})


routes = [
    Route("/auth/url-token", url_token, methods=["POST"]),
    Route("/.well-known/jwks.json", jwks_document, methods=["GET"]),
]
