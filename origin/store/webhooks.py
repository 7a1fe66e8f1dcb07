"""SQL for the webhook outbox and its delivery log.

A delivery is one event for one tenant: the exact body the receiver gets, its status
(``pending`` → ``delivered`` | ``failed`` | ``skipped``), and when it is due next. Dispatchers claim
due deliveries under a lease — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
``UPDATE … RETURNING`` in one write transaction (which SQLite serialises) on SQLite — so two
dispatchers never send the same delivery while a lease holds. Every attempt is logged.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from origin.store.db import Conn, Database, Row

_DUE = "status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"



def _claim_sql(dialect: str) -> str:
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    return (
        f"UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE id IN (SELECT id"  # noqa: S608
        f" FROM webhook_deliveries WHERE {_DUE} ORDER BY next_attempt_at LIMIT ?{lock}) AND {_DUE} RETURNING *"
    )


@dataclass(frozen=True)
class WebhookDelivery:
    id: str
    tenant_id: str
    event_type: str
    body: str
    status: str  # pending | delivered | failed | skipped
    attempts: int
    max_attempts: int
    next_attempt_at: float
    last_status_code: int | None
    last_error: str | None
    created_at: float
    updated_at: float
    delivered_at: float | None

    @classmethod
    def from_row(cls, row: Row) -> WebhookDelivery:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class WebhookAttempt:
    attempt: int
    url: str
    started_at: float
    duration_ms: int
    status_code: int | None
    error: str | None

    @classmethod
    def from_row(cls, row: Row) -> WebhookAttempt:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


async def insert_delivery(conn: Conn, tenant_id: str, event_type: str, body: str, max_attempts: int) -> str:
    """Add an event to the outbox on ``conn`` (the caller's transaction), due now; returns its id."""
    delivery_id = "wh_" + secrets.token_hex(12)
    now = time.time()
    await conn.execute(
        "INSERT INTO webhook_deliveries (id, tenant_id, event_type, body, status, attempts, max_attempts,"
        " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)",
        delivery_id,
        tenant_id,
        event_type,
        body,
        max_attempts,
        now,
        now,
        now,
    )
    return delivery_id


class WebhookStore:
    db: Database

    async def prune_deliveries(self, settled_before: float) -> int:
        """Delete delivered, failed and skipped deliveries (and their attempts) settled before ``settled_before``."""
        return await self.db.execute(
            "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed', 'skipped') AND updated_at < ?",
            settled_before,
        )

    async def claim_deliveries(self, owner: str, lease_seconds: float, limit: int) -> list[WebhookDelivery]:
        """Lease up to ``limit`` due deliveries to ``owner``, oldest due first."""
        now = time.time()
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                _claim_sql(tx.dialect),
                owner,
                now + lease_seconds,
                now,
                now,
                limit,
                now,
                now,
            )
        return [WebhookDelivery.from_row(r) for r in rows]

    async def settle_delivery(
        self,
        delivery_id: str,
        owner: str,
        *,
        status: str,
        next_attempt_at: float,
        error: str | None,
        attempt: WebhookAttempt | None = None,
    ) -> bool:
        """Log ``attempt`` (if one was made) and release the lease with the delivery's new state.

        ``False`` when ``owner`` lost the lease meanwhile (the attempt is still logged).
        """
        now = time.time()
        async with self.db.transaction() as tx:
            if attempt is not None:
                await tx.execute(
                    "INSERT INTO webhook_attempts (id, delivery_id, attempt, url, started_at, duration_ms,"
                    " status_code, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    secrets.token_hex(12),
                    delivery_id,
                    attempt.attempt,
                    attempt.url,
                    attempt.started_at,
                    attempt.duration_ms,
                    attempt.status_code,
                    attempt.error,
                )
            changed = await tx.execute(
                "UPDATE webhook_deliveries SET status = ?, attempts = attempts + ?, next_attempt_at = ?,"
                " last_status_code = ?, last_error = ?, delivered_at = COALESCE(?, delivered_at),"
                " lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?",
                status,
                int(attempt is not None),
                next_attempt_at,
                attempt.status_code if attempt else None,
                error,
                now if status == "delivered" else None,
                now,
                delivery_id,
                owner,
            )
        return changed == 1

    async def list_deliveries(self, tenant_id: str, limit: int, status: str | None = None) -> list[WebhookDelivery]:
        """A tenant's deliveries, most recent first, optionally only those with ``status``."""
        if status:
            rows = await self.db.fetchall(
                "SELECT * FROM webhook_deliveries WHERE tenant_id = ? AND status = ?"
                " ORDER BY created_at DESC LIMIT ?",
                tenant_id,
                status,
                limit,
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM webhook_deliveries WHERE tenant_id = ? ORDER BY created_at DESC LIMIT ?",
                tenant_id,
                limit,
            )
        return [WebhookDelivery.from_row(r) for r in rows]

    async def get_delivery(self, tenant_id: str, delivery_id: str) -> WebhookDelivery | None:
        row = await self.db.fetchone(
            "SELECT * FROM webhook_deliveries WHERE id = ? AND tenant_id = ?", delivery_id, tenant_id
        )
        return WebhookDelivery.from_row(row) if row else None

    async def delivery_attempts(self, delivery_id: str) -> list[WebhookAttempt]:
        rows = await self.db.fetchall(
            "SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY started_at, attempt", delivery_id
        )
        return [WebhookAttempt.from_row(r) for r in rows]

    async def redeliver(self, tenant_id: str, delivery_id: str, attempts: int) -> WebhookDelivery | None:
        """Make a delivery due now with a fresh budget of ``attempts``, whatever its status."""
        now = time.time()
        await self.db.execute(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, max_attempts = attempts + ?,"
            " updated_at = ? WHERE id = ? AND tenant_id = ?",
            now,
            attempts,
            now,
            delivery_id,
            tenant_id,
        )
        return await self.get_delivery(tenant_id, delivery_id)
