"""The metadata store: all SQL of the origin lives in this package, one module per domain."""

from __future__ import annotations

from origin.store.db import Database, IntegrityError, connect
from origin.store.edges import Edge, EdgeStore
from origin.store.files import FileMeta, FileStore
from origin.store.jobs import JobStore
from origin.store.models import Bucket, FileRecord, Tenant
from origin.store.schema import migrate
from origin.store.signing_keys import SigningKeyStore
from origin.store.streams import StreamStore
from origin.store.tenants import TenantStore
from origin.store.uploads import TusUpload, UploadStore
from origin.store.webhooks import WebhookStore

__all__ = ["Bucket", "Edge", "FileMeta", "FileRecord", "IntegrityError", "Store", "Tenant", "TusUpload", "open_store"]


class Store(TenantStore, FileStore, JobStore, StreamStore, SigningKeyStore, UploadStore, WebhookStore, EdgeStore):
    """One object with every query; built on a :class:`~origin.store.db.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def close(self) -> None:
        await self.db.close()


async def open_store(url: str, *, migrate_schema: bool = True, pool_min: int = 1, pool_max: int = 10) -> Store:
    """Open the store at ``url``, migrated unless told otherwise (``database.migrate_on_start``)."""
    db = await connect(url, pool_min=pool_min, pool_max=pool_max)
    if migrate_schema:
        await migrate(db)
    return Store(db)
