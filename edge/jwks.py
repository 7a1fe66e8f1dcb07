"""The origin's token keys (``{origin}/.well-known/jwks.json``), refreshed in the background.

Refreshed every ``edge.jwks_refresh`` seconds, and on demand when a token names an unknown ``kid``
(a key rotated in since the last refresh) — at most once per :data:`MIN_REFETCH_INTERVAL` seconds, so
tokens with made-up kids cannot make the edge hammer the origin. A failed fetch keeps the keys the
edge has.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

import httpx

from edge.singleflight import Answer, SingleFlight, Tasks
from mediaedge.tokens import KeySet

log = logging.getLogger(__name__)

MIN_REFETCH_INTERVAL = 10.0
FETCH_TIMEOUT = 5.0
_ON_DEMAND = "on-demand"  # the one key of on-demand refreshes


class JWKSource:
    """The current :class:`~mediaedge.tokens.KeySet` in :attr:`keyset`."""

    def __init__(self, client: httpx.AsyncClient, origin_url: str, refresh_every: float) -> None:
        self.keyset = KeySet()
        self._client = client
        self._url = origin_url.rstrip("/") + "/.well-known/jwks.json"
        self._every = refresh_every
        self._last_on_demand = -math.inf
        self._lock = asyncio.Lock()
        self._tasks = Tasks("JWKS refresh", log)
        self._on_demand: SingleFlight[str, Answer[bool]] = SingleFlight(self._tasks)

    async def start(self) -> None:
        """Fetch once (failure is logged, not fatal) and start the periodic refresh."""
        await self.refresh()
        self._tasks.spawn(self._periodic())

    async def close(self) -> None:
        await self._tasks.cancel()

    async def refresh(self) -> bool:
        """Fetch the JWKS now; True if it was fetched and parsed."""
        async with self._lock:
            try:
                response = await self._client.get(self._url, timeout=FETCH_TIMEOUT)
                response.raise_for_status()
                self.keyset = KeySet.from_jwks(response.json())
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("JWKS fetch from %s failed: %s", self._url, exc)
                return False
            return True

    async def refresh_for_unknown_kid(self) -> None:
        """Return once the keys are at most :data:`MIN_REFETCH_INTERVAL` seconds older than the first
        request that needed them: start an on-demand refresh if none ran that recently, or wait for
        the one under way (a burst of tokens signed with a new key shares one fetch)."""
        answer = self._on_demand.get(_ON_DEMAND)
        if answer is None:
            if time.monotonic() - self._last_on_demand < MIN_REFETCH_INTERVAL:
                return
            self._last_on_demand = time.monotonic()
            answer = Answer()
            self._on_demand.start(_ON_DEMAND, answer, self._refresh_into(answer))
        await answer.wait()

    async def _refresh_into(self, answer: Answer[bool]) -> None:
        answer.settle(await self.refresh())

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self.refresh()
