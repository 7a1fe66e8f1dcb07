"""AI generations (one row per distinct request: its job, result, charge) and each tenant's AI policy
(budgets per kind, prompt block list)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from origin.store.db import Conn, Database, Records
from origin.store.schema import ai_generations, ai_policies, now

_MUTABLE = frozenset(
    {
        "status",
        "progress",
        "units",
        "job_id",
        "asset_id",
        "caption_id",
        "result",
        "error",
        "error_code",
        "provider",
        "model",
        "request",
        "user_id",
        "created_at",
    }
)


@dataclass(frozen=True)
class Generation:
    id: str
    tenant_id: str
    user_id: str
    kind: str  # caption | speech | image
    idem_key: str
    provider: str
    model: str
    request: dict[str, Any]
    status: str  # queued | processing | ready | failed
    progress: float
    units: float  # what it is charged: images, audio seconds or caption minutes
    job_id: str | None
    asset_id: str | None
    caption_id: str | None
    result: dict[str, Any] | None
    error: str | None
    error_code: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class AIPolicy:
    tenant_id: str
    budgets: dict[str, float] = field(default_factory=dict)
    blocklist: list[str] = field(default_factory=list)
    updated_at: float = 0.0


GENERATIONS = Records(Generation, ai_generations)
POLICIES = Records(AIPolicy, ai_policies)


class AIRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, conn: Conn, **values: Any) -> Generation:
        """A new generation; :class:`~origin.store.db.IntegrityError` when the tenant already has its key."""
        at = now()
        row = {"progress": 0.0, "units": 0.0, "model": "", **values, "created_at": at, "updated_at": at}
        await conn.execute(sa.insert(ai_generations).values(**row))
        found = await self.get(row["id"], conn)
        assert found is not None
        return found

    async def lock_tenant(self, conn: Conn, tenant_id: str) -> None:
        """Serialise this transaction with the tenant's other generation requests (PostgreSQL: an
        advisory lock until commit; SQLite write transactions are serial already)."""
        if self.db.dialect == "postgresql":
            await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("ai:" + tenant_id))))

    async def get(self, generation_id: str, conn: Conn | None = None, *, for_update: bool = False) -> Generation | None:
        statement = GENERATIONS.select().where(ai_generations.c.id == generation_id)
        if for_update and self.db.dialect == "postgresql":
            statement = statement.with_for_update()
        return GENERATIONS.first(await self.db.execute(statement, conn))

    async def by_key(self, tenant_id: str, idem_key: str, conn: Conn | None = None) -> Generation | None:
        statement = GENERATIONS.select().where(
            ai_generations.c.tenant_id == tenant_id, ai_generations.c.idem_key == idem_key
        )
        return GENERATIONS.first(await self.db.execute(statement, conn))

    async def update(self, generation_id: str, conn: Conn | None = None, **changes: Any) -> bool:
        unknown = set(changes) - _MUTABLE
        if unknown:
            raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
        statement = (
            sa.update(ai_generations).where(ai_generations.c.id == generation_id).values(**changes, updated_at=now())
        )
        return (await self.db.execute(statement, conn)).rowcount == 1

    async def usage(self, tenant_id: str, since: float, conn: Conn | None = None) -> dict[str, float]:
        """Units charged per kind since ``since`` (failed generations are not charged)."""
        statement = (
            sa.select(ai_generations.c.kind, sa.func.coalesce(sa.func.sum(ai_generations.c.units), 0.0).label("total"))
            .where(
                ai_generations.c.tenant_id == tenant_id,
                ai_generations.c.created_at >= since,
                ai_generations.c.status != "failed",
            )
            .group_by(ai_generations.c.kind)
        )
        rows = (await self.db.execute(statement, conn)).mappings().all()
        return {row["kind"]: float(row["total"]) for row in rows}

    async def policy(self, tenant_id: str, conn: Conn | None = None) -> AIPolicy:
        """The tenant's policy; an empty one (setting defaults, no block list) when none was set."""
        found = POLICIES.first(
            await self.db.execute(POLICIES.select().where(ai_policies.c.tenant_id == tenant_id), conn)
        )
        return found or AIPolicy(tenant_id)

    async def set_policy(
        self, tenant_id: str, *, budgets: dict[str, float] | None = None, blocklist: list[str] | None = None
    ) -> AIPolicy:
        """Replace the tenant's budgets and/or block list (``None``: keep as is)."""
        async with self.db.transaction() as tx:
            current = await self.policy(tenant_id, tx)
            values = {
                "tenant_id": tenant_id,
                "budgets": current.budgets if budgets is None else budgets,
                "blocklist": current.blocklist if blocklist is None else blocklist,
                "updated_at": now(),
            }
            insert = sqlite.insert if self.db.dialect == "sqlite" else postgresql.insert
            upsert = insert(ai_policies).values(**values)
            await tx.execute(
                upsert.on_conflict_do_update(
                    index_elements=[ai_policies.c.tenant_id],
                    set_={
                        "budgets": upsert.excluded.budgets,
                        "blocklist": upsert.excluded.blocklist,
                        "updated_at": upsert.excluded.updated_at,
                    },
                )
            )
            return await self.policy(tenant_id, tx)
