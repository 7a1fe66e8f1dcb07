"""Embed tokens: what a signed embed URL (``/embed?file=…&token=…``) carries instead of the API key.

An HS256 JWT with a key derived from the edge secret, audience ``mediaedge-embed``, naming the tenant
(``tid``), the file (``fid``) and optionally the watermark text (``wm``) and the dashboard preview
flag (``pv``); see docs/embed.md.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import jwt

from mediaedge.errors import HTTPError
from origin.state import OriginState
from origin.store import Tenant

EMBED_AUDIENCE = "mediaedge-embed"


def _embed_key(state: OriginState) -> bytes:
    return hmac.new(state.edge_secret.encode(), b"embed-token", hashlib.sha256).digest()


def mint_embed_token(
    state: OriginState, tenant: Tenant | str, file_id: str, lifetime: int, watermark: str, *, preview: bool = False
) -> str:
    """An embed token for ``file_id`` valid for ``lifetime`` seconds. ``preview`` (``pv``, the dashboard's
    media page): the page may be framed by the origin's own pages only, whatever the tenant's whitelist says."""
    now = int(time.time())
    tenant_id = tenant if isinstance(tenant, str) else tenant.id
    claims: dict[str, Any] = {
        "aud": EMBED_AUDIENCE,
        "tid": tenant_id,
        "fid": file_id,
        "iat": now,
        "exp": now + lifetime,
    }
    if watermark:
        claims["wm"] = watermark
    if preview:
        claims["pv"] = True
    return jwt.encode(claims, _embed_key(state), algorithm="HS256")


def read_embed_token(state: OriginState, token: str) -> dict[str, Any]:
    """The claims of a valid embed token; 401 ``EMBED_TOKEN_EXPIRED`` / ``EMBED_TOKEN_INVALID``."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _embed_key(state),
            algorithms=["HS256"],
            audience=EMBED_AUDIENCE,
            options={"require": ["exp", "tid", "fid"]},
        )
    except jwt.ExpiredSignatureError:
        raise HTTPError(401, "This embed link has expired", "EMBED_TOKEN_EXPIRED") from None
    except jwt.PyJWTError:
        raise HTTPError(401, "Invalid embed token", "EMBED_TOKEN_INVALID") from None
    return claims


def embed_url(
    state: OriginState,
    tenant: Tenant | str,
    file_id: str,
    lifetime: int,
    watermark: str = "",
    params: dict[str, str] | None = None,
) -> str:
    """The signed embed page URL of one of the tenant's files, with the page's other ``params``
    (``format``, …)."""
    token = mint_embed_token(state, tenant, file_id, lifetime, watermark)
    return f"{state.settings.origin.url}/embed?{urlencode({'file': file_id, 'token': token, **(params or {})})}"
