"""Token verification for the edge, with verified claims cached by token text.

Why caching by the token string is safe here (DESIGN §3 forbids trusting raw token text *alone*):
an entry is only stored after the full signature check of that exact string succeeded, and a compact
JWS string determines its header, payload and signature byte for byte, so the same string always
verifies to the same claims with the same key. What can change between uses is re-checked on every
use: time (``exp``/``nbf``), whether the verifying key is still in the JWKS (a withdrawn key stops its
tokens at once), and the request (path and IP binding, checked by the caller). A forged or altered
token is a different string: it misses the cache and goes through full verification.
"""

from __future__ import annotations

from typing import Protocol

from edge.lru import LRU
from mediaedge.tokens import Claims, KeySet, TokenError

MAX_CACHED_TOKENS = 65_536


class KeySource(Protocol):
    """Where verifying keys come from: :class:`edge.jwks.JWKSource` (the origin's JWKS) or a fixed set."""

    keyset: KeySet

    async def refresh_for_unknown_kid(self) -> None: ...


class StaticKeys:
    """A fixed key set (a pull zone's own JWKS file): nothing to refresh."""

    def __init__(self, keyset: KeySet) -> None:
        self.keyset = keyset

    async def refresh_for_unknown_kid(self) -> None:
        return None


class TokenVerifier:
    """Verifies tokens against the current JWKS; hot tokens cost a dictionary lookup."""

    def __init__(self, keys: KeySource, maxsize: int = MAX_CACHED_TOKENS) -> None:
        self._keys = keys
        self._verified: LRU[str, Claims] = LRU(maxsize)

    async def verify(self, token: str, now: float) -> Claims:
        """Claims of a valid token; raises :class:`~mediaedge.tokens.TokenError` otherwise."""
        claims = self._verified.get(token)
        if claims is not None and claims.kid in self._keys.keyset:
            claims.check_time(now)
            return claims
        try:
            claims = self._keys.keyset.verify(token, now=now)
        except TokenError as exc:
            if exc.code != "TOKEN_KEY_UNKNOWN":
                raise
            await self._keys.refresh_for_unknown_kid()
            claims = self._keys.keyset.verify(token, now=now)
        self._verified.put(token, claims)
        return claims
