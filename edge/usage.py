"""What this edge process delivered per UTC day and tenant, pushed to the origin (its Usage page).

Counting is one dict update per answer: every answer :class:`edge.metrics.Metrics` counts for a
tenant (the delivered 200/206/304, the fast path's included) adds one request and its body bytes to
the counters of (today, tenant). Every ``edge.usage_report`` seconds, and once more when the edge
stops, :class:`UsageReporter` POSTs all of them to the origin's ``/_edge/usage`` with the edge
secret, as cumulative values under the edge's registration URL and this process's ``instance`` id
(random, new at each start). The origin keeps the largest value it was sent for each (edge,
instance, day, tenant), so:

- a report that fails is simply carried by the next one (the counters only grow), and one that is
  repeated or retried counts nothing twice;
- a restarted edge (or another worker process of the same edge) reports under its own instance id,
  so its counters, which start at zero, add rows rather than replacing the old ones.

A day before today is dropped once a report carrying it succeeded: nothing adds to it any more.
Lost are only the answers since the last report of a process killed outright (SIGKILL, a crash).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable

import httpx

from mediaedge.cluster import EDGE_SECRET_HEADER, USAGE_PATH

__all__ = ["DAY", "REPORT_BATCH", "Usage", "UsageReporter"]

log = logging.getLogger(__name__)

DAY = 86400
#: Counters per request to the origin (its ``MAX_USAGE_COUNTERS``).
REPORT_BATCH = 1000


class Usage:
    """Requests and body bytes of this process by UTC day (days since the epoch) and tenant id."""

    __slots__ = ("_day_end", "_today", "clock", "days", "instance")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.instance = secrets.token_hex(8)
        self.days: dict[int, dict[str, list[int]]] = {}  # day -> tenant -> [requests, bytes]
        self.clock = clock
        self._day_end = float("-inf")  # the first add() opens today's counters
        self._today: dict[str, list[int]] = {}

    def add(self, tenant: str, sent: int) -> None:
        """Count one answer of ``sent`` body bytes for ``tenant`` today."""
        if self.clock() >= self._day_end:
            self._open_today()
        counts = self._today.get(tenant)
        if counts is None:
            self._today[tenant] = [1, sent]
        else:
            counts[0] += 1
            counts[1] += sent

    def _open_today(self) -> None:
        today = self.today()
        self._today = self.days.setdefault(today, {})
        self._day_end = (today + 1) * DAY

    def today(self) -> int:
        return int(self.clock() // DAY)

    def counters(self) -> list[tuple[int, str, int, int]]:
        """Every ``(day, tenant, requests, bytes)``."""
        return [(day, t, c[0], c[1]) for day, tenants in list(self.days.items()) for t, c in list(tenants.items())]

    def forget_before(self, day: int) -> None:
        """Drop the counters of the days before ``day`` (reported, and final)."""
        for old in [d for d in self.days if d < day]:
            del self.days[old]


class UsageReporter:
    """Pushes a :class:`Usage` to the origin (see the module docstring)."""

    def __init__(
        self,
        usage: Usage,
        client: httpx.AsyncClient,
        origin_url: str,
        secret: str,
        edge_url: str,
        region: str,
        interval: float,
    ) -> None:
        self.usage = usage
        self._client = client
        self._url = origin_url.rstrip("/") + USAGE_PATH
        self._secret = secret
        self._edge = edge_url
        self._region = region
        self.interval = interval

    async def report(self) -> int:
        """Send every counter now; returns how many were sent. Raises ``httpx.HTTPError`` when the
        origin did not take them (they are sent again with the next report)."""
        usage = self.usage
        today = usage.today()
        counters = [
            {"day": day, "tenant": tenant, "requests": requests, "bytes": sent}
            for day, tenant, requests, sent in usage.counters()
        ]
        for start in range(0, len(counters), REPORT_BATCH):
            response = await self._client.post(
                self._url,
                json={
                    "edge": self._edge,
                    "region": self._region,
                    "instance": usage.instance,
                    "counters": counters[start : start + REPORT_BATCH],
                },
                headers={EDGE_SECRET_HEADER: self._secret},
                timeout=10.0,
            )
            response.raise_for_status()
        usage.forget_before(today)  # past days are final once the origin has them
        return len(counters)

    async def run(self) -> None:
        """Report every ``interval`` seconds until cancelled; a failure is logged and carried over."""
        while True:
            await asyncio.sleep(self.interval)
            await self.report_logged()

    async def report_logged(self) -> bool:
        """:meth:`report`, a failure logged rather than raised."""
        try:
            await self.report()
        except httpx.HTTPError as exc:
            log.warning("edge usage report to %s failed: %s", self._url, exc)
            return False
        return True
