"""URL-token signing keys: one active, retired ones kept until their last token expires."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from mediaedge.tokens import SigningKey
from origin.store.db import Database, Row, rows
from origin.store.schema import now, signing_keys

_KEYS = signing_keys.c


class SigningKeyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def active(self) -> SigningKey | None:
        statement = (
            sa.select(_KEYS.kid, _KEYS.algorithm, _KEYS.private_pem, _KEYS.public_jwk)
            .where(_KEYS.retired_at.is_(None))
            .order_by(_KEYS.created_at.desc())
            .limit(1)
        )
        row = (await self.db.execute(statement)).first()
        return None if row is None else SigningKey(row.kid, row.algorithm, row.private_pem, row.public_jwk)

    async def add(self, key: SigningKey, retire_others: bool) -> None:
        """Store a new active key; with ``retire_others`` the previous keys stop signing."""
        at = now()
        async with self.db.transaction() as tx:
            if retire_others:
                await tx.execute(sa.update(signing_keys).where(_KEYS.retired_at.is_(None)).values(retired_at=at))
            await tx.execute(
                sa.insert(signing_keys).values(
                    kid=key.kid,
                    algorithm=key.algorithm,
                    private_pem=key.private_pem,
                    public_jwk=key.public_jwk,
                    created_at=at,
                    max_exp=0,
                )
            )

    async def note_expiry(self, kid: str, expires_at: int) -> None:
        """Remember the latest expiry signed with ``kid`` so its retirement lasts long enough."""
        await self.db.execute(
            sa.update(signing_keys).where(_KEYS.kid == kid, _KEYS.max_exp < expires_at).values(max_exp=expires_at)
        )

    async def verifying_jwks(self, at: float) -> list[dict[str, Any]]:
        """Public JWKs of the active keys and of retired keys with unexpired tokens."""
        statement = (
            sa.select(_KEYS.public_jwk)
            .where(sa.or_(_KEYS.retired_at.is_(None), _KEYS.max_exp > at))
            .order_by(_KEYS.created_at.desc())
        )
        return list((await self.db.execute(statement)).scalars())

    async def list_all(self) -> list[Row]:
        statement = sa.select(_KEYS.kid, _KEYS.algorithm, _KEYS.created_at, _KEYS.retired_at, _KEYS.max_exp)
        return rows(await self.db.execute(statement.order_by(_KEYS.created_at)))
