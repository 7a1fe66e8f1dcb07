"""API keys: a tenant holds several (named, scoped, revocable, last use recorded).

Secrets are 192-bit random tokens stored as one SHA-256 (a sound stored form for random secrets;
lookups go by the digest, and the found row is compared again in constant time). A *pair* key also
has a public half (``stream-public-key``) that is stored as is: the secret half proves it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import weakref

import sqlalchemy as sa
from cachetools import TTLCache

from origin.catalogue.ids import new_id
from origin.store.db import Conn, Database, Records
from origin.store.models import ApiKey, Tenant
from origin.store.schema import api_keys, now, tenants

KEYS = Records(ApiKey, api_keys)
TENANT_COLUMNS = [column.label(f"tenant__{column.name}") for column in tenants.c]
#: A key's last use is written at most this often (seconds), so authentication is a read.
LAST_USED_RESOLUTION = 60.0
#: A successful authentication is remembered this long (seconds) by the process, so a busy API key
#: costs no query per request. Revoking a key or changing its tenant forgets it at once in the process
#: that made the change; other processes refuse a revoked key within this time.
AUTHENTICATION_TTL = 2.0
_AUTHENTICATED: weakref.WeakKeyDictionary[Database, TTLCache[tuple[str, str], tuple[Tenant, ApiKey]]] = (
    weakref.WeakKeyDictionary()
)


def authenticated(db: Database) -> TTLCache[tuple[str, str], tuple[Tenant, ApiKey]]:
    """The process's remembered authentications on ``db``, by (what identifies the key, secret digest)."""
    known = _AUTHENTICATED.get(db)
    if known is None:
        known = _AUTHENTICATED[db] = TTLCache(maxsize=4096, ttl=AUTHENTICATION_TTL)
    return known


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
        digest = hash_secret(secret)
        return await self._remembered("", digest, api_keys.c.secret_hash == digest)

    async def authenticate_pair(self, public_key: str, secret: str) -> tuple[Tenant, ApiKey] | None:
        """The tenant of a public + secret pair: both halves must belong to the same key."""
        return await self._remembered(public_key, hash_secret(secret), api_keys.c.public_key == public_key)

    def forget(self) -> None:
        """Drop the remembered authentications (a key or tenant changed)."""
        authenticated(self.db).clear()

    async def _remembered(
        self, public_key: str, digest: str, where: sa.ColumnElement[bool]
    ) -> tuple[Tenant, ApiKey] | None:
        known = authenticated(self.db)
        found = known.get((public_key, digest))
        if found is None:
            found = await self._find(where, digest)
            if found is not None:
                known[(public_key, digest)] = found
        return found

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
        revoked = (await self.db.execute(statement)).rowcount == 1
        self.forget()
        return revoked

    async def rotate(self, tenant_id: str, name: str, *, pair: bool = False) -> tuple[ApiKey, str]:
        """Revoke the tenant's active keys named ``name`` and make a new one in their place."""
        async with self.db.transaction() as tx:
            await tx.execute(
                sa.update(api_keys)
                .where(api_keys.c.tenant_id == tenant_id, api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
            rotated = await self.create(tenant_id, name, pair=pair, conn=tx)
        self.forget()
        return rotated
