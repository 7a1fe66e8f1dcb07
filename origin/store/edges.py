"""The edge registry: edges register and heartbeat; deletes purge the ones seen lately. And what
the edges delivered: their usage reports (:meth:`EdgeRepository.record_usage`)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from origin.store.db import Database, Records
from origin.store.schema import edge_usage, edges, now, tenants

#: Registrations not renewed for this long are deleted (the edge is long gone).
FORGET_AFTER = 86400.0


@dataclass(frozen=True)
class Edge:
    url: str
    region: str
    registered_at: float
    last_seen: float


EDGES = Records(Edge, edges)


@dataclass(frozen=True)
class UsageCounter:
    """One edge process's cumulative counters for a UTC day (days since the epoch) and tenant."""

    day: int
    tenant_id: str
    requests: int
    bytes: int


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

    async def record_usage(self, edge: str, region: str, instance: str, counters: list[UsageCounter]) -> int:
        """Keep the usage report of the edge process ``instance`` of the edge at ``edge``.

        The counters are cumulative, so each row keeps the largest value it was ever sent: a report
        repeated, retried or arriving after a newer one changes nothing. Counters of tenants the
        store does not know (a pull zone's, a deleted tenant's) are skipped. Returns the rows kept.
        """
        latest: dict[tuple[int, str], tuple[int, int]] = {}
        for c in counters:  # one row per (day, tenant): an upsert may not touch a row twice
            requests, sent = latest.get((c.day, c.tenant_id), (0, 0))
            latest[c.day, c.tenant_id] = (max(requests, c.requests), max(sent, c.bytes))
        if not latest:
            return 0
        at = now()
        insert = sqlite.insert if self.db.dialect == "sqlite" else postgresql.insert
        greatest = sa.func.max if self.db.dialect == "sqlite" else sa.func.greatest  # SQLite's max(a, b) is scalar
        async with self.db.transaction() as tx:
            ids = {tenant_id for _, tenant_id in latest}
            known = set((await tx.execute(sa.select(tenants.c.id).where(tenants.c.id.in_(ids)))).scalars())
            values = [
                {
                    "edge": edge,
                    "instance": instance,
                    "day": day,
                    "tenant_id": tenant_id,
                    "region": region,
                    "requests": requests,
                    "bytes": sent,
                    "updated_at": at,
                }
                for (day, tenant_id), (requests, sent) in latest.items()
                if tenant_id in known
            ]
            if not values:
                return 0
            upsert = insert(edge_usage).values(values)
            key = [edge_usage.c.edge, edge_usage.c.instance, edge_usage.c.day, edge_usage.c.tenant_id]
            await tx.execute(
                upsert.on_conflict_do_update(
                    index_elements=key,
                    set_={
                        "region": upsert.excluded.region,
                        "requests": greatest(edge_usage.c.requests, upsert.excluded.requests),
                        "bytes": greatest(edge_usage.c.bytes, upsert.excluded.bytes),
                        "updated_at": upsert.excluded.updated_at,
                    },
                )
            )
        return len(values)
