"""The edge registry: edges register and heartbeat; deletes purge the ones seen lately."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from origin.store.db import Database, Records
from origin.store.schema import edges, now

#: Registrations not renewed for this long are deleted (the edge is long gone).
FORGET_AFTER = 86400.0


@dataclass(frozen=True)
class Edge:
    url: str
    region: str
    registered_at: float
    last_seen: float


EDGES = Records(Edge, edges)


class EdgeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def register(self, url: str, region: str) -> None:
        """Record a registration or heartbeat of the edge at ``url``; forgets long-silent edges."""
        at = now()
        insert = sqlite.insert if self.db.dialect == "sqlite" else postgresql.insert
        upsert = insert(edges).values(url=url, region=region, registered_at=at, last_seen=at)
        async with self.db.transaction() as tx:
            await tx.execute(
                upsert.on_conflict_do_update(
                    index_elements=[edges.c.url],
                    set_={"region": upsert.excluded.region, "last_seen": upsert.excluded.last_seen},
                )
            )
            await tx.execute(sa.delete(edges).where(edges.c.last_seen < at - FORGET_AFTER))

    async def live(self, seen_since: float) -> list[Edge]:
        """Edges that registered or heartbeat at ``seen_since`` or later."""
        statement = EDGES.select().where(edges.c.last_seen >= seen_since).order_by(edges.c.url)
        return EDGES.all(await self.db.execute(statement))
