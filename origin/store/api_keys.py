"""API keys: a tenant holds several (named, scoped, revocable, last use recorded).

Secrets are 192-bit random tokens stored as one SHA-256 (a sound stored form for random secrets;
lookups go by the digest, and the found row is compared again in constant time). A *pair* key also
has a public half (``stream-public-key``) that is stored as is: the secret half proves it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa

from origin.catalogue.ids import new_id
from origin.store.db import Conn, Database, Records
from origin.store.models import ApiKey, Tenant
from origin.store.schema import api_keys, now, tenants

KEYS = Records(ApiKey, api_keys)
TENANT_COLUMNS = [column.label(f"tenant__{column.name}") for column in tenants.c]
#: A key's last use is written at most this often (seconds), so authentication is a read.
LAST_USED_RESOLUTION = 60.0


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return "tk_" + secrets.token_urlsafe(24)


class ApiKeyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        tenant_id: str,
        name: str,
        *,
        scopes: list[str] | None = None,
        pair: bool = False,
        secret: str | None = None,
        conn: Conn | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret (shown once). ``pair``: also a public key (``pk_…``)."""
        secret = secret or new_secret()
        key = ApiKey(
            id=new_id("key"),
            tenant_id=tenant_id,
            name=name,
            public_key=f"pk_{secrets.token_urlsafe(18)}" if pair else None,
            scopes=scopes or [],
            created_at=now(),
            last_used_at=None,
            revoked_at=None,
        )
        await self.db.execute(sa.insert(api_keys).values(**vars(key), secret_hash=hash_secret(secret)), conn)
        return key, secret

    async def authenticate(self, secret: str) -> tuple[Tenant, ApiKey] | None:
        """The active tenant and unrevoked key this secret belongs to."""
        return await self._find(api_keys.c.secret_hash == hash_secret(secret), hash_secret(secret))

    async def authenticate_pair(self, public_key: str, secret: str) -> tuple[Tenant, ApiKey] | None:
        """The tenant of a public + secret pair: both halves must belong to the same key."""
        return await self._find(api_keys.c.public_key == public_key, hash_secret(secret))

    async def _find(self, where: sa.ColumnElement[bool], digest: str) -> tuple[Tenant, ApiKey] | None:
        statement = (
            sa.select(*KEYS.columns, api_keys.c.secret_hash, *TENANT_COLUMNS)
            .join(tenants, tenants.c.id == api_keys.c.tenant_id)
            .where(where, api_keys.c.revoked_at.is_(None), tenants.c.active.is_(True))
        )
        row = (await self.db.execute(statement)).mappings().first()
        if row is None or not hmac.compare_digest(row["secret_hash"], digest):
            return None
        key = ApiKey(**{name: row[name] for name in KEYS.record.__dataclass_fields__})
        tenant = Tenant(**{column.name: row[f"tenant__{column.name}"] for column in tenants.c})
        if key.last_used_at is None or now() - key.last_used_at > LAST_USED_RESOLUTION:
            await self.db.execute(sa.update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=now()))
        return tenant, key

    async def list(self, tenant_id: str) -> list[ApiKey]:
        statement = KEYS.select().where(api_keys.c.tenant_id == tenant_id).order_by(api_keys.c.created_at)
        return KEYS.all(await self.db.execute(statement))

    async def revoke(self, tenant_id: str, key_id: str) -> bool:
        """Revoke one key of this tenant; False when it has no such active key."""
        statement = (
            sa.update(api_keys)
            .where(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        return (await self.db.execute(statement)).rowcount == 1

    async def rotate(self, tenant_id: str, name: str, *, pair: bool = False) -> tuple[ApiKey, str]:
        """Revoke the tenant's active keys named ``name`` and make a new one in their place."""
        async with self.db.transaction() as tx:
            await tx.execute(
                sa.update(api_keys)
                .where(api_keys.c.tenant_id == tenant_id, api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
            return await self.create(tenant_id, name, pair=pair, conn=tx)
