"""The origin's token keys (``{origin}/.well-known/jwks.json``), refreshed in the background.

Refreshed every ``edge.jwks_refresh`` seconds, and on demand when a token names an unknown ``kid``
(a key rotated in since the last refresh) — at most once per :data:`MIN_REFETCH_INTERVAL` seconds, so
tokens with made-up kids cannot make the edge hammer the origin. A failed fetch keeps the keys the
edge has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from mediaedge.tokens import KeySet

log = logging.getLogger(__name__)

MIN_REFETCH_INTERVAL = 10.0
FETCH_TIMEOUT = 5.0


class JWKSource:
    """The current :class:`~mediaedge.tokens.KeySet` in :attr:`keyset`."""

    def __init__(self, client: httpx.AsyncClient, origin_url: str, refresh_every: float) -> None:
        self.keyset = KeySet()
        self._client = client
        self._url = origin_url.rstrip("/") + "/.well-known/jwks.json"
        self._every = refresh_every
        self._last_attempt = -MIN_REFETCH_INTERVAL
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Fetch once (failure is logged, not fatal) and start the periodic refresh."""
        await self.refresh()
        self._task = asyncio.create_task(self._periodic())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def refresh(self) -> bool:
        """Fetch the JWKS now; True if it was fetched and parsed."""
        async with self._lock:
            self._last_attempt = time.monotonic()
            try:
                response = await self._client.get(self._url, timeout=FETCH_TIMEOUT)
                response.raise_for_status()
                self.keyset = KeySet.from_jwks(response.json())
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("JWKS fetch from %s failed: %s", self._url, exc)
                return False
            return True

    async def refresh_for_unknown_kid(self) -> bool:
        """Refresh unless one was attempted within :data:`MIN_REFETCH_INTERVAL`; True if refreshed."""
        if time.monotonic() - self._last_attempt < MIN_REFETCH_INTERVAL:
            return False
        return await self.refresh()

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self.refresh()
