"""SQL for URL-token signing keys: one active, retired ones kept until their last token expires."""

from __future__ import annotations

import time
from typing import Any

import orjson

from mediaedge.tokens import SigningKey
from origin.store.db import Database, Row


def _key(row: Row) -> SigningKey:
    return SigningKey(row["kid"], row["algorithm"], row["private_pem"], orjson.loads(row["public_jwk"]))


class SigningKeyStore:
    db: Database

    async def active_signing_key(self) -> SigningKey | None:
        row = await self.db.fetchone(
            "SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1"
        )
        return _key(row) if row else None

    async def add_signing_key(self, key: SigningKey, retire_others: bool) -> None:
        """Store a new active key; with ``retire_others`` the previous keys stop signing."""
        now = time.time()
        async with self.db.transaction() as tx:
            if retire_others:
                await tx.execute("UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL", now)
            await tx.execute(
                "INSERT INTO signing_keys (kid, algorithm, private_pem, public_jwk, created_at, max_exp)"
                " VALUES (?, ?, ?, ?, ?, 0)",
                key.kid,
                key.algorithm,
                key.private_pem,
                orjson.dumps(key.public_jwk).decode(),
                now,
            )

    async def note_token_expiry(self, kid: str, expires_at: int) -> None:
        """Remember the latest expiry signed with ``kid`` so its retirement lasts long enough."""
        await self.db.execute(
            "UPDATE signing_keys SET max_exp = ? WHERE kid = ? AND max_exp < ?", expires_at, kid, expires_at
        )

    async def verifying_jwks(self, now: float) -> list[dict[str, Any]]:
        """Public JWKs of the active keys and of retired keys with unexpired tokens."""
        rows = await self.db.fetchall(
            "SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL OR max_exp > ? ORDER BY created_at DESC",
            now,
        )
        return [orjson.loads(r["public_jwk"]) for r in rows]

    async def list_signing_keys(self) -> list[Row]:
        return await self.db.fetchall(
            "SELECT kid, algorithm, created_at, retired_at, max_exp FROM signing_keys ORDER BY created_at"
        )
