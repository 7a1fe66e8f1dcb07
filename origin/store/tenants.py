"""Tenants (names unique) and their buckets; their API keys are in :mod:`origin.store.api_keys`."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from origin.store.api_keys import ApiKeyRepository
from origin.store.db import Database, Records
from origin.store.models import Bucket, Tenant
from origin.store.schema import buckets, now, tenants

#: The key a tenant is created with (``mediaedge tenant create``), rotated by ``rotate_api_key``.
DEFAULT_KEY = "default"


def new_webhook_signing_key() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


TENANTS = Records(Tenant, tenants)
BUCKETS = Records(Bucket, buckets)


class TenantRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        name: str,
        default_backend: str,
        *,
        webhook_url: str = "",
        whitelisted_domains: list[str] | None = None,
        app_ids: list[str] | None = None,
        max_file_size: int | None = None,
        api_key: str | None = None,
    ) -> tuple[Tenant, str]:
        """Create a tenant with its default bucket and its ``default`` API key; returns the tenant and
        the plaintext key (shown once).

        :class:`~origin.store.db.UniqueViolation` when another tenant has ``name``.
        """
        tenant = Tenant(
            id=secrets.token_hex(6),
            name=name,
            webhook_url=webhook_url,
            webhook_signing_key=new_webhook_signing_key(),
            whitelisted_domains=whitelisted_domains or [],
            app_ids=app_ids or [],
            max_file_size=max_file_size,
            created_at=now(),
        )
        async with self.db.transaction() as tx:
            await tx.execute(sa.insert(tenants).values(**vars(tenant)))
            await tx.execute(
                sa.insert(buckets).values(
                    tenant_id=tenant.id,
                    name="default",
                    backend=default_backend,
                    is_default=True,
                    created_at=tenant.created_at,
                )
            )
            _, api_key = await ApiKeyRepository(self.db).create(tenant.id, DEFAULT_KEY, secret=api_key, conn=tx)
        return tenant, api_key

    async def by_api_key(self, api_key: str) -> Tenant | None:
        """The active tenant holding this (unrevoked) key."""
        found = await ApiKeyRepository(self.db).authenticate(api_key)
        return None if found is None else found[0]

    async def get(self, tenant_id: str) -> Tenant | None:
        return TENANTS.first(await self.db.execute(TENANTS.select().where(tenants.c.id == tenant_id)))

    async def find(self, id_or_name: str) -> Tenant | None:
        """The tenant with this id, else the one with this name (names are unique)."""
        statement = (
            TENANTS.select()
            .where((tenants.c.id == id_or_name) | (tenants.c.name == id_or_name))
            .order_by((tenants.c.id == id_or_name).desc())
            .limit(1)
        )
        return TENANTS.first(await self.db.execute(statement))

    async def list_all(self) -> list[Tenant]:
        return TENANTS.all(await self.db.execute(TENANTS.select().order_by(tenants.c.created_at)))

    async def update(
        self,
        tenant_id: str,
        *,
        name: str | None = None,
        webhook_url: str | None = None,
        whitelisted_domains: list[str] | None = None,
        app_ids: list[str] | None = None,
        max_file_size: int | None = None,
        active: bool | None = None,
    ) -> Tenant | None:
        """Change the given fields (``None``: unchanged); :class:`UniqueViolation` on a taken name."""
        given: dict[str, Any] = {
            "name": name,
            "webhook_url": webhook_url,
            "whitelisted_domains": whitelisted_domains,
            "app_ids": app_ids,
            "max_file_size": max_file_size,
            "active": active,
        }
        changes = {column: value for column, value in given.items() if value is not None}
        if changes:
            await self.db.execute(sa.update(tenants).where(tenants.c.id == tenant_id).values(**changes))
            ApiKeyRepository(self.db).forget()  # authentications carry the tenant
        return await self.get(tenant_id)

    async def rotate_api_key(self, tenant_id: str) -> str:
        """Replace the tenant's ``default`` key; the old one stops working at once."""
        _, api_key = await ApiKeyRepository(self.db).rotate(tenant_id, DEFAULT_KEY)
        return api_key

    async def rotate_webhook_signing_key(self, tenant_id: str) -> str:
        """A new webhook signing key; deliveries sent from now on are signed with it (returned once)."""
        key = new_webhook_signing_key()
        await self.db.execute(sa.update(tenants).where(tenants.c.id == tenant_id).values(webhook_signing_key=key))
        ApiKeyRepository(self.db).forget()
        return key


class BucketRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, tenant_id: str, name: str | None) -> Bucket | None:
        """The tenant's bucket ``name``, or its default bucket."""
        which = buckets.c.name == name if name else buckets.c.is_default.is_(True)
        return BUCKETS.first(await self.db.execute(BUCKETS.select().where(buckets.c.tenant_id == tenant_id, which)))

    async def create(self, tenant_id: str, name: str, backend: str) -> Bucket:
        await self.db.execute(
            sa.insert(buckets).values(
                tenant_id=tenant_id, name=name, backend=backend, is_default=False, created_at=now()
            )
        )
        return Bucket(tenant_id, name, backend, False)
