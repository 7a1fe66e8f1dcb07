"""Fixed-window rate-limit counters in the metadata DB, so every origin process shares them.

One row per (limit name, window start); a hit is one atomic upsert (``INSERT … ON CONFLICT DO UPDATE
… RETURNING``) on SQLite and PostgreSQL alike, so concurrent requests in any process count exactly.
The first hit of a new window also removes windows that have ended.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from origin.store.db import Conn, Database
from origin.store.schema import rate_limits


@dataclass(frozen=True)
class RateDecision:
    """The answer to one hit: allowed or not, the limit, what is left, seconds until the window resets."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: int


class RateLimitRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        dialect = postgresql if db.dialect == "postgresql" else sqlite
        insert = dialect.insert(rate_limits).values(
            name=sa.bindparam("name"), window_start=sa.bindparam("window_start"), hits=1
        )
        #: Built once: a hit binds only the name and window.
        self._upsert = insert.on_conflict_do_update(
            index_elements=[rate_limits.c.name, rate_limits.c.window_start],
            set_={"hits": rate_limits.c.hits + 1},
        ).returning(rate_limits.c.hits)

    async def hit(
        self, name: str, limit: int, window: int, *, at: float | None = None, conn: Conn | None = None
    ) -> RateDecision:
        """Count one request against ``name`` (``limit`` per ``window`` seconds)."""
        now = time.time() if at is None else at
        start = int(now // window * window)
        if conn is None:
            async with self.db.transaction() as tx:
                hits = await self._count(tx, name, start)
        else:
            hits = await self._count(conn, name, start)
        reset_after = max(1, math.ceil(start + window - now))
        return RateDecision(hits <= limit, limit, max(0, limit - hits), reset_after)

    async def _count(self, conn: Conn, name: str, start: int) -> int:
        hits = int((await conn.execute(self._upsert, {"name": name, "window_start": start})).scalar_one())
        if hits == 1:  # a new window: forget the ones that ended (a window lasts at most a day)
            await conn.execute(sa.delete(rate_limits).where(rate_limits.c.window_start < start - 86400))
        return hits
