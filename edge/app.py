"""The edge ASGI application: routing, lifespan, error answers, metrics and the access log.

Routes: ``GET|HEAD|OPTIONS /{fileId|jwt}/{key...}`` (:mod:`edge.delivery`), ``GET|HEAD /healthz``,
``GET /metrics``, ``POST /_edge/purge`` (:mod:`edge.purge`). Everything is plain ASGI; every error
is the seed's JSON body (:func:`mediaedge.errors.error_body`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pluggy

from edge import accesslog
from edge.auth import TokenVerifier
from edge.cache import EdgeCache, OriginClient
from edge.delivery import Delivery, Outcome, ResponseAborted
from edge.jwks import JWKSource
from edge.metrics import CONTENT_TYPE as METRICS_TYPE
from edge.metrics import Metrics
from edge.paths import split_object_path
from edge.policy import TenantPolicies
from edge.protocols import Cache, ObjectCache
from edge.purge import Purger
from edge.respond import Receive, Scope, Send, send_error, send_json, send_response
from edge.workers import WorkerGroup
from edge.zones import Zones
from mediaedge.cluster import edge_secret, keep_registered
from mediaedge.errors import HTTPError
from mediaedge.plugins import get_plugin_manager, start_plugins
from mediaedge.settings import Settings

log = logging.getLogger(__name__)

#: Path → allowed methods of the fixed routes.
ROUTES = {b"/healthz": ("GET", "HEAD"), b"/metrics": ("GET",), b"/_edge/purge": ("POST",)}
OBJECT_METHODS = ("GET", "HEAD", "OPTIONS")
HEALTHY = orjson.dumps({"status": "ok"})
# Errors are never stored by caches in front of the edge (a 404 is heuristically cacheable). On object
# URLs they may be read by players on any origin (they reveal nothing a plain request would not), so
# web players can tell "signed URL required" from a network failure.
_ERROR_HEADERS = [(b"cache-control", b"no-store")]
_OBJECT_ERROR_HEADERS = [*_ERROR_HEADERS, (b"access-control-allow-origin", b"*")]


def _not_allowed(methods: tuple[str, ...]) -> HTTPError:
    return HTTPError(405, "Method not allowed", headers={"Allow": ", ".join(methods)})


class EdgeApp:
    """The edge. Use as an ASGI app (lifespan starts and stops it) or ``async with`` in tests."""

    def __init__(
        self,
        settings: Settings,
        cache: ObjectCache,
        client: httpx.AsyncClient,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
        workers: WorkerGroup | None = None,
    ) -> None:
        origin = settings.edge.origin_url
        self.settings = settings
        self.secret = secret
        self.cache = cache
        self.client = client
        self.keys = JWKSource(client, origin, settings.edge.jwks_refresh)
        self.policies = TenantPolicies(client, origin, secret, settings.edge.tenant_ttl)
        self.metrics = Metrics()
        self.delivery = Delivery(cache, TokenVerifier(self.keys), self.policies)
        self.zones = Zones(settings, self.keys, clock=clock)  # pull zones (docs/caching.md)
        self.workers = workers
        self.purger = Purger(cache, self.policies, secret, self.zones, workers)
        self.access_log = settings.edge.access_log
        self._registration: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the cache, load the token keys, and keep this edge registered with the origin (so
        deletes purge it; see :func:`mediaedge.cluster.keep_registered`)."""
        await self.cache.start()
        await self.zones.start()
        await self.keys.start()
        if self.workers is not None:
            await self.workers.start(self.purger.apply, lambda: self.metrics.snapshot(self.cache, self._zone_caches()))
        edge = self.settings.edge
        self._registration = asyncio.create_task(
            keep_registered(self.client, edge.origin_url, self.secret, edge.registration_url, edge.region)
        )

    async def close(self) -> None:
        if self._registration is not None:
            self._registration.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._registration
        if self.workers is not None:
            await self.workers.close()
        await self.keys.close()
        await self.zones.close()
        await self.cache.close()
        await self.client.aclose()

    async def __aenter__(self) -> EdgeApp:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    log.exception("edge failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method = scope["method"]
        raw_path = scope.get("raw_path") or scope["path"].encode()
        raw_path = raw_path.split(b"?", 1)[0]
        try:
            outcome = await self._route(scope, receive, send, method, raw_path)
        except HTTPError as exc:
            extra = _ERROR_HEADERS if raw_path in ROUTES else _OBJECT_ERROR_HEADERS
            outcome = Outcome(exc.status, await send_error(send, exc, extra, head=method == "HEAD"))
        except ResponseAborted:
            self.metrics.observe(499, 0, None)
            raise
        except Exception:
            log.exception("unhandled error on %s %s", method, accesslog.redact(raw_path))
            error = HTTPError(500, "Internal server error")
            outcome = Outcome(500, await send_error(send, error, _ERROR_HEADERS, head=method == "HEAD"))
        self.metrics.observe(*outcome)
        if self.access_log:
            client = scope.get("client")
            accesslog.write(client[0] if client else None, method, raw_path, *outcome, started=started)

    async def _route(self, scope: Scope, receive: Receive, send: Send, method: str, raw_path: bytes) -> Outcome:
        methods = ROUTES.get(raw_path)
        if methods is not None:
            if method not in methods:
                raise _not_allowed(methods)
            return await self._fixed(raw_path, scope, receive, send)
        if self.zones and (routed := self.zones.match(scope, raw_path)) is not None:
            return await self.zones.handle(*routed, scope, receive, send)
        if raw_path.startswith(b"/_edge/"):
            raise HTTPError(404, "Not found")
        credential, key = split_object_path(raw_path)
        if method in ("GET", "HEAD"):
            return await self.delivery.get(scope, receive, send, credential, key)
        if method == "OPTIONS":
            return await self.delivery.options(scope, send, key)
        raise _not_allowed(OBJECT_METHODS)

    def _zone_caches(self) -> dict[str, Cache]:
        return {name: zone.cache for name, zone in self.zones.by_name.items()}

    async def _fixed(self, raw_path: bytes, scope: Scope, receive: Receive, send: Send) -> Outcome:
        if raw_path == b"/healthz":
            return Outcome(200, await send_json(send, 200, HEALTHY, head=scope["method"] == "HEAD"))
        if raw_path == b"/metrics":
            peers = self.workers.peer_metrics() if self.workers else ()
            body = self.metrics.render(self.cache, peers, self._zone_caches())
            headers = [(b"content-type", METRICS_TYPE), (b"content-length", b"%d" % len(body))]
            return Outcome(200, await send_response(send, 200, headers, body))
        return Outcome(200, await send_json(send, 200, await self.purger.purge(scope, receive)))


def create_app(
    settings: Settings,
    *,
    cache: ObjectCache | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    pm: pluggy.PluginManager | None = None,
) -> EdgeApp:
    """The edge app for ``settings``, its plugins started (``startup(settings, "edge")``).

    ``cache`` (any :class:`edge.protocols.ObjectCache`) defaults to an :class:`edge.cache.EdgeCache` pulling
    from ``edge.origin_url``;
    ``transport`` carries the edge's own requests to the origin (JWKS, tenant policy) — tests pass
    an ``httpx.MockTransport``; ``clock`` (wall-clock seconds) drives the pull zones' caches (tests);
    ``pm`` defaults to the installed plugins less ``plugins.block``.
    """
    settings = start_plugins(settings, pm or get_plugin_manager(block=settings.plugins.block), "edge")
    secret = edge_secret(settings)
    workers = None
    if settings.edge.workers > 1:  # one of several processes: see edge.workers
        workers = WorkerGroup(
            Path(settings.edge.disk_cache_dir or Path(settings.data_dir) / "edge-cache"), settings.edge.workers
        )
        settings = workers.worker_settings(settings)
    if cache is None:
        cache = EdgeCache(settings.edge, OriginClient(settings.edge.origin_url, secret))
    return EdgeApp(settings, cache, httpx.AsyncClient(transport=transport), secret, clock=clock, workers=workers)
