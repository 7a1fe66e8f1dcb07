"""Signed delivery URLs (DESIGN §3) and the origin's own short-lived link signatures.

- :func:`sign_edge_url`: a URL-token JWT for a key (``exact``, bound to the file) or a directory
  (``prefix``, bound to the stream whose outputs it holds) and the edge URL that carries it in place of
  the first path segment. The token's lifetime covers the media's duration twice and stays within
  ``tokens.max_expires_in``.
- :func:`link_signature` / :func:`check_link`: an HMAC over ``purpose:subject:expires`` with a key
  derived from the edge secret, for URLs the origin answers itself (download links, playback links).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from mediaedge.tokens import sign_token
from origin.state import OriginState


@dataclass(frozen=True)
class SignedUrl:
    token: str
    url: str
    expires_at: int


async def sign_edge_url(
    state: OriginState,
    tenant_id: str,
    *,
    key: str,
    path: str,
    scope: str,
    lifetime: int,
    duration: float | None = None,
    ip: str | None = None,
    file_id: str | None = None,
    asset_id: str | None = None,
) -> SignedUrl:
    """``{EDGE}/{jwt}/{key}`` for a token on ``path`` (``key`` itself, or with ``scope="prefix"`` its
    directory); ``ValueError`` when the claims are not valid (a bad ``ip``)."""
    if duration:
        lifetime = max(lifetime, int(duration * 2 + 0.999))
    lifetime = min(lifetime, parse_duration(state.settings.tokens.max_expires_in))
    signing_key = await state.keys.active()
    now = int(time.time())
    token = sign_token(
        signing_key,
        tenant_id=tenant_id,
        path=path,
        expires_at=now + lifetime,
        scope=scope,
        ip=ip,
        file_id=file_id,
        asset_id=asset_id,
        now=now,
    )
    await state.store.signing_keys.note_expiry(signing_key.kid, now + lifetime)
    return SignedUrl(token, f"{state.settings.edge.url}/{token}/{key}", now + lifetime)


def link_signature(state: OriginState, purpose: str, subject: str, expires: int) -> str:
    """The HMAC of a link the origin itself answers (``purpose`` separates kinds of links)."""
    key = hmac.new(state.edge_secret.encode(), purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, f"{subject}:{expires}".encode(), hashlib.sha256).hexdigest()


def check_link(
    state: OriginState,
    purpose: str,
    subject: str,
    expires: str | None,
    signature: str | None,
    what: str = "link",
    code: str = "LINK",
) -> None:
    """403 unless ``signature`` signs ``subject`` until ``expires`` (constant-time) and that has not
    passed; the errors say ``Invalid {what}`` (``{code}_INVALID``) or ``{What} expired`` (``{code}_EXPIRED``)."""
    try:
        until = int(expires or "")
    except ValueError:
        raise HTTPError(403, f"Invalid {what}", f"{code}_INVALID") from None
    if not hmac.compare_digest(signature or "", link_signature(state, purpose, subject, until)):
        raise HTTPError(403, f"Invalid {what}", f"{code}_INVALID")
    if until < time.time():
        raise HTTPError(403, f"{what[:1].upper()}{what[1:]} expired", f"{code}_EXPIRED")
