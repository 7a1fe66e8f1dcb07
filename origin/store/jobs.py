"""SQL for the durable job queue: insert, claim under a lease, heartbeat, finish, retry, fail.

A claimed job is ``running`` with ``lease_owner`` and ``lease_expires_at``; the owner renews the lease
while it works. Every later change names the owner, so a worker that lost its lease (paused, killed,
partitioned) cannot overwrite what the worker that took the job over does.

Claiming picks, among jobs of the given kinds that are due (or whose lease expired), one of the
tenant with the fewest running jobs, oldest first: one busy tenant cannot starve the others. On
PostgreSQL the pick is ``FOR UPDATE SKIP LOCKED``; on SQLite the conditional ``UPDATE … RETURNING``
runs in one write transaction, which SQLite serialises.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from origin.store.db import Conn, Database, Row


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

    @classmethod
    def from_row(cls, row: Row) -> Job:
        return cls(
            id=row["id"],
            kind=row["kind"],
            tenant_id=row["tenant_id"],
            payload=orjson.loads(row["payload"]),
            attempt=row["attempt"],
            max_attempts=row["max_attempts"],
            status=row["status"],
            result=orjson.loads(row["result"]) if row["result"] else None,
            last_error=row["last_error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


async def insert_job(
    conn: Conn, kind: str, tenant_id: str, payload: dict[str, Any], max_attempts: int, delay: float
) -> str:
    """Queue a job on ``conn`` (usually the caller's open transaction); returns its id."""
    job_id = secrets.token_hex(12)
    now = time.time()
    await conn.execute(
        "INSERT INTO jobs (id, kind, tenant_id, payload, status, attempt, max_attempts, run_after, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)",
        job_id,
        kind,
        tenant_id,
        orjson.dumps(payload).decode(),
        max_attempts,
        now + delay,
        now,
        now,
    )
    return job_id


def _claimable(alias: str = "") -> str:
    """Due queued jobs, and running jobs whose lease expired (their worker is gone)."""
    p = f"{alias}." if alias else ""
    return f"(({p}status = 'queued' AND {p}run_after <= ?) OR ({p}status = 'running' AND {p}lease_expires_at <= ?))"


def _claim_sql(kind_count: int, dialect: str) -> str:
    """Only placeholders and fixed text are interpolated into this SQL."""
    kinds = ", ".join("?" * kind_count)
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    fewest_running_first = (
        "(SELECT COUNT(*) FROM jobs r WHERE r.tenant_id = j.tenant_id AND r.status = 'running'"
        " AND r.lease_expires_at > ?)"
    )
    pick = (
        f"SELECT j.id FROM jobs j WHERE j.kind IN ({kinds}) AND {_claimable('j')}"  # noqa: S608
        f" ORDER BY {fewest_running_first}, j.run_after, j.created_at LIMIT 1{lock}"
    )
    return (
        "UPDATE jobs SET status = 'running', attempt = attempt + 1, lease_owner = ?,"  # noqa: S608
        " lease_expires_at = ?, last_error = CASE WHEN status = 'running' THEN ? ELSE last_error END, updated_at = ?"
        f" WHERE id = ({pick}) AND {_claimable()} RETURNING *"
    )


class JobStore:
    db: Database

    async def prune_jobs(self, finished_before: float) -> int:
        """Delete succeeded and failed jobs last updated before ``finished_before``; returns how many."""
        return await self.db.execute(
            "DELETE FROM jobs WHERE status IN ('succeeded', 'failed') AND updated_at < ?", finished_before
        )

    async def get_job(self, job_id: str) -> Job | None:
        row = await self.db.fetchone("SELECT * FROM jobs WHERE id = ?", job_id)
        return Job.from_row(row) if row else None

    async def claim_job(self, kinds: Sequence[str], owner: str, lease_seconds: float) -> Job | None:
        """Lease the next due job of one of ``kinds`` to ``owner``, or ``None`` if there is none."""
        if not kinds:
            return None
        now = time.time()
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                _claim_sql(len(kinds), tx.dialect),
                owner,
                now + lease_seconds,
                "lease expired: the worker stopped heartbeating",
                now,
                *kinds,
                now,
                now,
                now,
                now,
                now,
            )
        return Job.from_row(row) if row else None

    async def renew_lease(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease; ``False`` when the job is no longer theirs."""
        changed = await self.db.execute(
            "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'",
            time.time() + lease_seconds,
            job_id,
            owner,
        )
        return changed == 1

    async def finish_job(self, job_id: str, owner: str, result: dict[str, Any] | None) -> bool:
        return await self._settle(
            self.db, job_id, owner, "succeeded", result=orjson.dumps(result).decode() if result is not None else None
        )

    async def retry_job(self, job_id: str, owner: str, error: str, delay: float) -> bool:
        """Back to ``queued`` after ``delay`` seconds, remembering why this attempt failed."""
        return await self._settle(self.db, job_id, owner, "queued", last_error=error, run_after=time.time() + delay)

    async def fail_job(self, conn: Conn, job_id: str, owner: str, error: str) -> bool:
        """Mark the job ``failed`` for good, on ``conn`` (the transaction that records the consequences)."""
        return await self._settle(conn, job_id, owner, "failed", last_error=error)

    async def release_job(self, job_id: str, owner: str) -> bool:
        """Give a job back unfinished (worker shutdown): due now, and this attempt does not count."""
        changed = await self.db.execute(
            "UPDATE jobs SET status = 'queued', attempt = attempt - 1, lease_owner = NULL, lease_expires_at = NULL,"
            " run_after = ?, updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'",
            time.time(),
            time.time(),
            job_id,
            owner,
        )
        return changed == 1

    @staticmethod
    async def _settle(
        conn: Conn,
        job_id: str,
        owner: str,
        status: str,
        *,
        result: str | None = None,
        last_error: str | None = None,
        run_after: float | None = None,
    ) -> bool:
        now = time.time()
        changed = await conn.execute(
            "UPDATE jobs SET status = ?, result = COALESCE(?, result), last_error = COALESCE(?, last_error),"
            " run_after = COALESCE(?, run_after), lease_owner = NULL, lease_expires_at = NULL, updated_at = ?"
            " WHERE id = ? AND lease_owner = ? AND status = 'running'",
            status,
            result,
            last_error,
            run_after,
            now,
            job_id,
            owner,
        )
        return changed == 1
