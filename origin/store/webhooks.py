"""The webhook outbox and its delivery log.

A delivery is one event for one tenant: the exact body the receiver gets, its status
(``pending`` → ``delivered`` | ``failed`` | ``skipped``), and when it is due next. Dispatchers claim
due deliveries under a lease — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
``UPDATE … RETURNING`` in one write transaction (which SQLite serialises) on SQLite — so two
dispatchers never send the same delivery while a lease holds. Every attempt is logged.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from origin.store.db import Conn, Database, Records
from origin.store.schema import now, webhook_attempts, webhook_deliveries

_DELIVERIES = webhook_deliveries


def _due(at: float) -> sa.ColumnElement[bool]:
    d = _DELIVERIES.c
    return sa.and_(d.status == "pending", d.next_attempt_at <= at, sa.or_(d.lease_until.is_(None), d.lease_until <= at))


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
    #: Where this delivery goes (``None``: the tenant's ``webhook_url``) and headers it adds.
    target_url: str | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class WebhookAttempt:
    attempt: int
    url: str
    started_at: float
    duration_ms: int
    status_code: int | None
    error: str | None
    response_body: str | None = None  # the start of the receiver's answer


DELIVERIES = Records(WebhookDelivery, webhook_deliveries)
ATTEMPTS = Records(WebhookAttempt, webhook_attempts)


async def insert_delivery(
    conn: Conn,
    tenant_id: str,
    event_type: str,
    body: str,
    max_attempts: int,
    *,
    target_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    """Add an event to the outbox on ``conn`` (the caller's transaction), due now; returns its id.

    ``target_url`` sends it somewhere other than the tenant's ``webhook_url``, with ``headers`` added.
    """
    delivery_id = "wh_" + secrets.token_hex(12)
    created = now()
    await conn.execute(
        sa.insert(webhook_deliveries).values(
            id=delivery_id,
            tenant_id=tenant_id,
            event_type=event_type,
            body=body,
            status="pending",
            attempts=0,
            max_attempts=max_attempts,
            next_attempt_at=created,
            created_at=created,
            updated_at=created,
            target_url=target_url,
            headers=headers,
        )
    )
    return delivery_id


class WebhookRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def prune(self, settled_before: float) -> int:
        """Delete delivered, failed and skipped deliveries (and their attempts) settled before ``settled_before``."""
        statement = sa.delete(_DELIVERIES).where(
            _DELIVERIES.c.status.in_(("delivered", "failed", "skipped")), _DELIVERIES.c.updated_at < settled_before
        )
        return (await self.db.execute(statement)).rowcount

    async def claim(self, owner: str, lease_seconds: float, limit: int) -> list[WebhookDelivery]:
        """Lease up to ``limit`` due deliveries to ``owner``, oldest due first."""
        at = now()
        due = (
            sa.select(_DELIVERIES.c.id)
            .where(_due(at))
            .order_by(_DELIVERIES.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        update = (
            sa.update(_DELIVERIES)
            .where(_DELIVERIES.c.id.in_(due.scalar_subquery()), _due(at))
            .values(lease_owner=owner, lease_until=at + lease_seconds)
            .returning(*DELIVERIES.columns)
        )
        return DELIVERIES.all(await self.db.execute(update))

    async def settle(
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
        at = now()
        changes = {
            "status": status,
            "attempts": _DELIVERIES.c.attempts + int(attempt is not None),
            "next_attempt_at": next_attempt_at,
            "last_status_code": attempt.status_code if attempt else None,
            "last_error": error,
            "lease_owner": None,
            "lease_until": None,
            "updated_at": at,
        }
        if status == "delivered":
            changes["delivered_at"] = at
        async with self.db.transaction() as tx:
            if attempt is not None:
                await tx.execute(
                    sa.insert(webhook_attempts).values(
                        id=secrets.token_hex(12), delivery_id=delivery_id, **asdict(attempt)
                    )
                )
            update = (
                sa.update(_DELIVERIES)
                .where(_DELIVERIES.c.id == delivery_id, _DELIVERIES.c.lease_owner == owner)
                .values(**changes)
            )
            return (await tx.execute(update)).rowcount == 1

    async def recent(self, tenant_id: str, limit: int, status: str | None = None) -> list[WebhookDelivery]:
        """A tenant's deliveries, most recent first, optionally only those with ``status``."""
        where = [_DELIVERIES.c.tenant_id == tenant_id]
        if status:
            where.append(_DELIVERIES.c.status == status)
        statement = DELIVERIES.select().where(*where).order_by(_DELIVERIES.c.created_at.desc()).limit(limit)
        return DELIVERIES.all(await self.db.execute(statement))

    async def get(self, tenant_id: str, delivery_id: str) -> WebhookDelivery | None:
        statement = DELIVERIES.select().where(_DELIVERIES.c.id == delivery_id, _DELIVERIES.c.tenant_id == tenant_id)
        return DELIVERIES.first(await self.db.execute(statement))

    async def attempts(self, delivery_id: str) -> list[WebhookAttempt]:
        statement = (
            ATTEMPTS.select()
            .where(webhook_attempts.c.delivery_id == delivery_id)
            .order_by(webhook_attempts.c.started_at, webhook_attempts.c.attempt)
        )
        return ATTEMPTS.all(await self.db.execute(statement))

    async def redeliver(self, tenant_id: str, delivery_id: str, attempts: int) -> WebhookDelivery | None:
        """Make a delivery due now with a fresh budget of ``attempts``, whatever its status."""
        at = now()
        await self.db.execute(
            sa.update(_DELIVERIES)
            .where(_DELIVERIES.c.id == delivery_id, _DELIVERIES.c.tenant_id == tenant_id)
            .values(status="pending", next_attempt_at=at, max_attempts=_DELIVERIES.c.attempts + attempts, updated_at=at)
        )
        return await self.get(tenant_id, delivery_id)
