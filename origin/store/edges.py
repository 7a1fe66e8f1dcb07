"""SQL for the edge registry: edges register and heartbeat; deletes purge the ones seen lately."""

from __future__ import annotations

import time
from dataclasses import dataclass

from origin.store.db import Database

#: Registrations not renewed for this long are deleted (the edge is long gone).
FORGET_AFTER = 86400.0


@dataclass(frozen=True)
class Edge:
    url: str
    region: str
    registered_at: float
    last_seen: float


class EdgeStore:
    db: Database

    async def register_edge(self, url: str, region: str) -> None:
        """Record a registration or heartbeat of the edge at ``url``; forgets long-silent edges."""
        now = time.time()
        await self.db.execute(
            "INSERT INTO edges (url, region, registered_at, last_seen) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (url) DO UPDATE SET region = excluded.region, last_seen = excluded.last_seen",
            url,
            region,
            now,
            now,
        )
        await self.db.execute("DELETE FROM edges WHERE last_seen < ?", now - FORGET_AFTER)

    async def live_edges(self, seen_since: float) -> list[Edge]:
        """Edges that registered or heartbeat at ``seen_since`` or later."""
        rows = await self.db.fetchall("SELECT * FROM edges WHERE last_seen >= ? ORDER BY url", seen_since)
        return [Edge(**row) for row in rows]
