"""The durable job queue: insert, claim under a lease, heartbeat, finish, retry, fail.

A claimed job is ``running`` with ``lease_owner`` and ``lease_expires_at``; the owner renews the lease
while it works. Every later change names the owner, so a worker that lost its lease (paused, killed,
partitioned) cannot overwrite what the worker that took the job over does.

Claiming picks, among jobs of the given kinds that are due (or whose lease expired), one of the
tenant with the fewest running jobs, oldest first: one busy tenant cannot starve the others. On
PostgreSQL the pick is ``FOR UPDATE SKIP LOCKED``, so claimers in many processes take different
jobs without waiting for each other; on SQLite the conditional ``UPDATE … RETURNING`` runs in one
write transaction, which SQLite serialises.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from origin.store.db import Conn, Database, Records
from origin.store.schema import jobs, now

LEASE_EXPIRED = "lease expired: the worker stopped heartbeating"


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    tenant_id: str
    payload: dict[str, Any]
    attempt: int  # 1-based while running; 0 before the first claim
    max_attempts: int
    status: str  # queued | running | succeeded | failed
    result: dict[str, Any] | None
    last_error: str | None
    created_at: float
    updated_at: float


JOBS = Records(Job, jobs)


async def insert_job(
    conn: Conn, kind: str, tenant_id: str, payload: dict[str, Any], max_attempts: int, delay: float
) -> str:
    """Queue a job on ``conn`` (usually the caller's open transaction); returns its id."""
    job_id = secrets.token_hex(12)
    created = now()
    await conn.execute(
        sa.insert(jobs).values(
            id=job_id,
            kind=kind,
            tenant_id=tenant_id,
            payload=payload,
            status="queued",
            attempt=0,
            max_attempts=max_attempts,
            run_after=created + delay,
            created_at=created,
            updated_at=created,
        )
    )
    return job_id


def _claimable(table: sa.FromClause, at: float) -> sa.ColumnElement[bool]:
    """Due queued jobs, and running jobs whose lease expired (their worker is gone)."""
    return sa.or_(
        sa.and_(table.c.status == "queued", table.c.run_after <= at),
        sa.and_(table.c.status == "running", table.c.lease_expires_at <= at),
    )


def _claim(kinds: Sequence[str], owner: str, lease_seconds: float, at: float) -> sa.Update:
    pick = jobs.alias("j")
    running = (
        sa.select(jobs.c.tenant_id, sa.func.count().label("n"))
        .where(jobs.c.status == "running", jobs.c.lease_expires_at > at)
        .group_by(jobs.c.tenant_id)
        .subquery("r")
    )
    candidate = (
        sa.select(pick.c.id)
        .select_from(pick.outerjoin(running, running.c.tenant_id == pick.c.tenant_id))
        .where(pick.c.kind.in_(kinds), _claimable(pick, at))
        .order_by(sa.func.coalesce(running.c.n, 0), pick.c.run_after, pick.c.created_at)
        .limit(1)
        .with_for_update(skip_locked=True, of=pick)
        .scalar_subquery()
    )
    return (
        sa.update(jobs)
        .where(jobs.c.id == candidate, _claimable(jobs, at))
        .values(
            status="running",
            attempt=jobs.c.attempt + 1,
            lease_owner=owner,
            lease_expires_at=at + lease_seconds,
            last_error=sa.case((jobs.c.status == "running", LEASE_EXPIRED), else_=jobs.c.last_error),
            updated_at=at,
        )
        .returning(*JOBS.columns)
    )


class JobRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def prune(self, finished_before: float) -> int:
        """Delete succeeded and failed jobs last updated before ``finished_before``; returns how many."""
        result = await self.db.execute(
            sa.delete(jobs).where(jobs.c.status.in_(("succeeded", "failed")), jobs.c.updated_at < finished_before)
        )
        return result.rowcount

    async def get(self, job_id: str) -> Job | None:
        return JOBS.first(await self.db.execute(JOBS.select().where(jobs.c.id == job_id)))

    async def claim(self, kinds: Sequence[str], owner: str, lease_seconds: float) -> Job | None:
        """Lease the next due job of one of ``kinds`` to ``owner``, or ``None`` if there is none."""
        if not kinds:
            return None
        return JOBS.first(await self.db.execute(_claim(kinds, owner, lease_seconds, now())))

    async def renew_lease(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease; ``False`` when the job is no longer theirs."""
        return await self._owned(job_id, owner, None, lease_expires_at=now() + lease_seconds)

    async def finish(self, job_id: str, owner: str, result: dict[str, Any] | None) -> bool:
        return await self._settle(None, job_id, owner, "succeeded", result=result)

    async def retry(self, job_id: str, owner: str, error: str, delay: float) -> bool:
        """Back to ``queued`` after ``delay`` seconds, remembering why this attempt failed."""
        return await self._settle(None, job_id, owner, "queued", last_error=error, run_after=now() + delay)

    async def fail(self, conn: Conn, job_id: str, owner: str, error: str) -> bool:
        """Mark the job ``failed`` for good, on ``conn`` (the transaction that records the consequences)."""
        return await self._settle(conn, job_id, owner, "failed", last_error=error)

    async def release(self, job_id: str, owner: str) -> bool:
        """Give a job back unfinished (worker shutdown): due now, and this attempt does not count."""
        at = now()
        return await self._owned(
            job_id,
            owner,
            None,
            status="queued",
            attempt=jobs.c.attempt - 1,
            lease_owner=None,
            lease_expires_at=None,
            run_after=at,
            updated_at=at,
        )

    async def _settle(self, conn: Conn | None, job_id: str, owner: str, status: str, **changes: Any) -> bool:
        """End ``owner``'s lease with the job's new ``status``; ``changes`` set only what is given."""
        given = {column: value for column, value in changes.items() if value is not None}
        return await self._owned(
            job_id, owner, conn, status=status, lease_owner=None, lease_expires_at=None, updated_at=now(), **given
        )

    async def _owned(self, job_id: str, owner: str, conn: Conn | None, **values: Any) -> bool:
        """Update the job if ``owner`` still runs it."""
        update = (
            sa.update(jobs)
            .where(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status == "running")
            .values(**values)
        )
        result = await self.db.execute(update, conn)
        return result.rowcount == 1
