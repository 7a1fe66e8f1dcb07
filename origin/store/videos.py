"""The video objects API's own state: parts of uploads not yet completed, and tenants' transcoding credit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from origin.store.db import Conn, Database, Records
from origin.store.schema import now, tenant_credits, video_parts


@dataclass(frozen=True)
class VideoPart:
    """One uploaded part: bytes ``first_byte..last_byte`` (inclusive) of ``total``, stored under ``key``."""

    asset_id: str
    idx: int
    tenant_id: str
    first_byte: int
    last_byte: int
    total: int
    md5: str
    key: str
    filename: str
    created_at: float

    @property
    def size(self) -> int:
        return self.last_byte - self.first_byte + 1


PARTS = Records(VideoPart, video_parts)


class VideoPartRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, part: VideoPart) -> VideoPart | None:
        """Record ``part``, replacing an earlier upload of the same index; returns the one it replaced."""
        async with self.db.transaction() as tx:
            where = (video_parts.c.asset_id == part.asset_id, video_parts.c.idx == part.idx)
            old = PARTS.first(await tx.execute(PARTS.select().where(*where).with_for_update()))
            await tx.execute(sa.delete(video_parts).where(*where))
            await tx.execute(sa.insert(video_parts).values(**vars(part)))
        return old

    async def list(self, asset_id: str, conn: Conn | None = None) -> list[VideoPart]:
        """The asset's parts by index."""
        statement = PARTS.select().where(video_parts.c.asset_id == asset_id).order_by(video_parts.c.idx)
        return PARTS.all(await self.db.execute(statement, conn))

    async def abandoned(self, before: float, limit: int = 100) -> Sequence[tuple[str, str]]:
        """``(tenant_id, asset_id)`` of uploads whose newest part arrived before ``before``."""
        statement = (
            sa.select(video_parts.c.tenant_id, video_parts.c.asset_id)
            .group_by(video_parts.c.tenant_id, video_parts.c.asset_id)
            .having(sa.func.max(video_parts.c.created_at) < before)
            .limit(limit)
        )
        return [(row.tenant_id, row.asset_id) for row in await self.db.execute(statement)]

    async def delete_all(self, asset_id: str, conn: Conn | None = None) -> None:
        await self.db.execute(sa.delete(video_parts).where(video_parts.c.asset_id == asset_id), conn)


class CreditRepository:
    """A tenant's transcoding credit; a tenant without one has no limit."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, tenant_id: str) -> float | None:
        statement = sa.select(tenant_credits.c.balance).where(tenant_credits.c.tenant_id == tenant_id)
        value = (await self.db.execute(statement)).scalar()
        return None if value is None else float(value)

    async def set(self, tenant_id: str, balance: float | None) -> None:
        """Set the credit (``None``: no limit)."""
        async with self.db.transaction() as tx:
            await tx.execute(sa.delete(tenant_credits).where(tenant_credits.c.tenant_id == tenant_id))
            if balance is not None:
                await tx.execute(
                    sa.insert(tenant_credits).values(tenant_id=tenant_id, balance=balance, updated_at=now())
                )
