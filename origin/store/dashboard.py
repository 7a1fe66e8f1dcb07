"""Dashboard sessions (:mod:`origin.dashboard`): a row per logged-in browser.

The browser holds a random token in its cookie; the row is keyed by the token's SHA-256, so a copy
of the database opens no session. A session ends at ``expires_at``: ``idle`` seconds after it was
last seen, never later than ``created_at + lifetime``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from origin.store.db import Database, Records
from origin.store.schema import api_keys, dashboard_sessions, now

_S = dashboard_sessions.c


def session_id(token: str) -> str:
    """The stored id of a session token (tokens are 256-bit random, so one SHA-256 suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class DashboardSession:
    id: str
    tenant_id: str | None  # None for the operator
    api_key_id: str | None
    operator: bool
    csrf: str
    created_at: float
    last_seen_at: float
    expires_at: float


SESSIONS = Records(DashboardSession, dashboard_sessions)


class DashboardSessionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, tenant_id: str | None, api_key_id: str | None, *, idle: float, lifetime: float, operator: bool = False
    ) -> tuple[DashboardSession, str]:
        """A new session and its cookie token (the token is returned once, never stored); ``operator``:
        the operator's session (no tenant)."""
        token = secrets.token_urlsafe(32)
        at = now()
        session = DashboardSession(
            id=session_id(token),
            tenant_id=tenant_id,
            api_key_id=api_key_id,
            operator=operator,
            csrf=secrets.token_urlsafe(32),
            created_at=at,
            last_seen_at=at,
            expires_at=at + min(idle, lifetime),
        )
        await self.db.execute(sa.insert(dashboard_sessions).values(**vars(session)))
        return session, token

    async def get(self, token: str) -> DashboardSession | None:
        """The live session of ``token``; None when unknown, expired, or its API key was revoked since."""
        key_live = sa.exists().where(
            api_keys.c.id == _S.api_key_id, api_keys.c.tenant_id == _S.tenant_id, api_keys.c.revoked_at.is_(None)
        )
        statement = SESSIONS.select().where(
            _S.id == session_id(token), _S.expires_at > now(), sa.or_(_S.api_key_id.is_(None), key_live)
        )
        return SESSIONS.first(await self.db.execute(statement))

    async def touch(self, session: DashboardSession, *, idle: float, lifetime: float) -> float:
        """Slide the session's expiry ``idle`` seconds from now (capped by its lifetime); the new expiry."""
        at = now()
        expires_at = min(at + idle, session.created_at + lifetime)
        await self.db.execute(
            sa.update(dashboard_sessions).where(_S.id == session.id).values(last_seen_at=at, expires_at=expires_at)
        )
        return expires_at

    async def delete(self, token: str) -> None:
        await self.db.execute(sa.delete(dashboard_sessions).where(_S.id == session_id(token)))

    async def prune(self) -> int:
        """Delete expired sessions."""
        return (await self.db.execute(sa.delete(dashboard_sessions).where(_S.expires_at <= now()))).rowcount
