"""The origin's URL-token signing keys: create on first use, rotate, publish as JWKS."""

from __future__ import annotations

import time

from mediaedge.settings import Settings
from mediaedge.tokens import SigningKey, generate_signing_key
from origin.store import Store

ACTIVE_KEY_TTL = 10.0  # seconds a process trusts its cached active key (another process may rotate)
NOTE_GRANULARITY = 300  # token expiries are recorded rounded up to this many seconds


class KeyRing:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.algorithm = settings.tokens.algorithm
        self._active: SigningKey | None = None
        self._checked = 0.0
        self._noted: dict[str, int] = {}

    async def active(self) -> SigningKey:
        """The key new tokens are signed with; created on first use."""
        now = time.monotonic()
        if self._active is None or now - self._checked > ACTIVE_KEY_TTL:
            self._active = await self.store.signing_keys.active()
            if self._active is None:
                self._active = generate_signing_key(self.algorithm)
                await self.store.signing_keys.add(self._active, retire_others=False)
            self._checked = now
        return self._active

    async def note_expiry(self, kid: str, expires_at: int) -> None:
        """Record that a token of ``kid`` lives until ``expires_at`` (its retirement must outlast it).

        Rounded up to the next :data:`NOTE_GRANULARITY` seconds and remembered per process, so a busy
        signer writes once per interval instead of once per token.
        """
        rounded = -(-expires_at // NOTE_GRANULARITY) * NOTE_GRANULARITY
        if self._noted.get(kid, 0) >= rounded:
            return
        await self.store.signing_keys.note_expiry(kid, rounded)
        self._noted[kid] = rounded

    async def rotate(self) -> SigningKey:
        """Make a new key active; retired keys stay in the JWKS until their last token expires."""
        key = generate_signing_key(self.algorithm)
        await self.store.signing_keys.add(key, retire_others=True)
        self._active, self._checked = key, time.monotonic()
        return key
