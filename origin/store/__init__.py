"""The metadata store: all SQL of the origin lives in this package, one module per domain."""

from __future__ import annotations

from origin.store.db import Database, IntegrityError, connect
from origin.store.files import FileMeta, FileStore
from origin.store.jobs import JobStore
from origin.store.models import Bucket, FileRecord, Tenant
from origin.store.schema import migrate
from origin.store.signing_keys import SigningKeyStore
from origin.store.tenants import TenantStore
from origin.store.uploads import TusUpload, UploadStore

__all__ = ["Bucket", "FileMeta", "FileRecord", "IntegrityError", "Store", "Tenant", "TusUpload", "open_store"]


class Store(TenantStore, FileStore, JobStore, SigningKeyStore, UploadStore):
    """One object with every query; built on a :class:`~origin.store.db.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def close(self) -> None:
        await self.db.close()


async def open_store(url: str, *, migrate_schema: bool = True) -> Store:
    db = await connect(url)
    if migrate_schema:
        await migrate(db)
    return Store(db)
