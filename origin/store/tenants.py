"""SQL for tenants, API keys and buckets."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import orjson

from origin.store.db import Database
from origin.store.models import Bucket, Tenant


def hash_api_key(api_key: str) -> str:
    """API keys are 192-bit random tokens, so one SHA-256 is a sound stored form."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return "tk_" + secrets.token_urlsafe(24)


class TenantStore:
    db: Database

    async def create_tenant(
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
        """Create a tenant with its default bucket; returns it and the plaintext API key (shown once)."""
        api_key = api_key or new_api_key()
        now = time.time()
        tenant = Tenant(
            id=secrets.token_hex(6),
            name=name,
            webhook_url=webhook_url,
            webhook_signing_key="whsec_" + secrets.token_urlsafe(32),
            whitelisted_domains=whitelisted_domains or [],
            app_ids=app_ids or [],
            max_file_size=max_file_size,
            created_at=now,
        )
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO tenants (id, name, api_key_hash, webhook_url, webhook_signing_key,"
                " whitelisted_domains, app_ids, max_file_size, active, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                tenant.id,
                name,
                hash_api_key(api_key),
                webhook_url,
                tenant.webhook_signing_key,
                orjson.dumps(tenant.whitelisted_domains).decode(),
                orjson.dumps(tenant.app_ids).decode(),
                max_file_size,
                now,
            )
            await tx.execute(
                "INSERT INTO buckets (tenant_id, name, backend, is_default, created_at) VALUES (?, ?, ?, 1, ?)",
                tenant.id,
                "default",
                default_backend,
                now,
            )
        return tenant, api_key

    async def tenant_by_api_key(self, api_key: str) -> Tenant | None:
        digest = hash_api_key(api_key)
        row = await self.db.fetchone("SELECT * FROM tenants WHERE api_key_hash = ?", digest)
        if row is None or not hmac.compare_digest(row["api_key_hash"], digest):
            return None
        return Tenant.from_row(row)

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        row = await self.db.fetchone("SELECT * FROM tenants WHERE id = ?", tenant_id)
        return Tenant.from_row(row) if row else None

    async def find_tenant(self, id_or_name: str) -> Tenant | None:
        row = await self.db.fetchone(
            "SELECT * FROM tenants WHERE id = ? OR name = ? ORDER BY created_at LIMIT 1", id_or_name, id_or_name
        )
        return Tenant.from_row(row) if row else None

    async def list_tenants(self) -> list[Tenant]:
        return [Tenant.from_row(r) for r in await self.db.fetchall("SELECT * FROM tenants ORDER BY created_at")]

    async def update_tenant(
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
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = name
        if webhook_url is not None:
            changes["webhook_url"] = webhook_url
        if whitelisted_domains is not None:
            changes["whitelisted_domains"] = orjson.dumps(whitelisted_domains).decode()
        if app_ids is not None:
            changes["app_ids"] = orjson.dumps(app_ids).decode()
        if max_file_size is not None:
            changes["max_file_size"] = max_file_size
        if active is not None:
            changes["active"] = int(active)
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            await self.db.execute(f"UPDATE tenants SET {assignments} WHERE id = ?", *changes.values(), tenant_id)  # noqa: S608 - column names are fixed above
        return await self.get_tenant(tenant_id)

    async def rotate_api_key(self, tenant_id: str) -> str:
        api_key = new_api_key()
        await self.db.execute("UPDATE tenants SET api_key_hash = ? WHERE id = ?", hash_api_key(api_key), tenant_id)
        return api_key

    async def get_bucket(self, tenant_id: str, name: str | None) -> Bucket | None:
        if name:
            row = await self.db.fetchone("SELECT * FROM buckets WHERE tenant_id = ? AND name = ?", tenant_id, name)
        else:
            row = await self.db.fetchone("SELECT * FROM buckets WHERE tenant_id = ? AND is_default = 1", tenant_id)
        if row is None:
            return None
        return Bucket(row["tenant_id"], row["name"], row["backend"], bool(row["is_default"]))

    async def create_bucket(self, tenant_id: str, name: str, backend: str) -> Bucket:
        await self.db.execute(
            "INSERT INTO buckets (tenant_id, name, backend, is_default, created_at) VALUES (?, ?, ?, 0, ?)",
            tenant_id,
            name,
            backend,
            time.time(),
        )
        return Bucket(tenant_id, name, backend, False)
