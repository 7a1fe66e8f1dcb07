"""The origin's URL-token signing keys: create on first use, rotate, publish as JWKS."""

from __future__ import annotations

import time

from mediaedge.settings import Settings
from mediaedge.tokens import SigningKey, generate_signing_key
from origin.store import Store

ACTIVE_KEY_TTL = 10.0  # seconds a process trusts its cached active key (another process may rotate)


class KeyRing:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.algorithm = settings.tokens.algorithm
        self._active: SigningKey | None = None
        self._checked = 0.0

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

    async def rotate(self) -> SigningKey:
        """Make a new key active; retired keys stay in the JWKS until their last token expires."""
        key = generate_signing_key(self.algorithm)
        await self.store.signing_keys.add(key, retire_others=True)
        self._active, self._checked = key, time.monotonic()
        return key
