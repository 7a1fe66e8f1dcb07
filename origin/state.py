"""Everything an origin request handler needs, built once per process."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
import pluggy
from starlette.requests import Request

from mediaedge.backends import build_backends
from mediaedge.cluster import edge_secret
from mediaedge.errors import HTTPError
from mediaedge.hookspecs import Tier
from mediaedge.plugins import get_plugin_manager, start_plugins
from mediaedge.settings import Settings
from mediaedge.storage import StorageBackend
from origin.keys import KeyRing
from origin.store import Bucket, FileRecord, Store, open_store

Service = Callable[["OriginState"], Coroutine[Any, Any, None]]


@dataclass
class OriginState:
    settings: Settings
    store: Store
    pm: pluggy.PluginManager
    backends: dict[str, StorageBackend]
    edge_secret: str
    http: httpx.AsyncClient
    keys: KeyRing
    #: Long-running tasks started with the app (webhook dispatcher, cleaners, workers).
    services: list[Service] = field(default_factory=list)

    @classmethod
    async def open(
        cls, settings: Settings, pm: pluggy.PluginManager | None = None, tier: Tier = "origin"
    ) -> OriginState:
        """The state of an origin API (``tier="origin"``) or job worker (``"worker"``) process."""
        pm = pm or get_plugin_manager(block=settings.plugins.block)
        settings = start_plugins(settings, pm, tier)
        backends = build_backends(settings, pm)
        database = settings.database
        store = await open_store(
            database.url,
            migrate_schema=database.migrate_on_start,
            pool_min=database.pool_min,
            pool_max=database.pool_max,
        )
        return cls(
            settings=settings,
            store=store,
            pm=pm,
            backends=backends,
            edge_secret=edge_secret(settings),
            http=httpx.AsyncClient(timeout=30.0),
            keys=KeyRing(store, settings),
        )

    async def close(self) -> None:
        await self.http.aclose()
        for backend in self.backends.values():
            await backend.close()
        await self.store.close()

    def backend(self, bucket: Bucket) -> StorageBackend:
        try:
            return self.backends[bucket.backend]
        except KeyError:
            raise HTTPError(500, f"bucket {bucket.name!r} maps to an unknown storage backend") from None

    def access_url(self, file: FileRecord) -> str:
        """The public access URL of a file: ``{EDGE}/{fileId}/{key}``."""
        return f"{self.settings.edge.url}/{file.id}/{file.key}"


def get_state(request: Request) -> OriginState:
    state: OriginState = request.app.state.origin
    return state
