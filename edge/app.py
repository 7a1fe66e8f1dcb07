"""The edge ASGI application: a raw-ASGI delivery path in front of the Starlette control routes.

Objects (``GET|HEAD|OPTIONS /{fileId|jwt}/{key...}``, :mod:`edge.delivery`) and pull zones
(:mod:`edge.zones`) take the delivery path: plain ASGI, so a cache hit costs no framework. The control
routes (:mod:`edge.control`: health, metrics, purge, JWKS refresh, zone listing) are a Starlette app.
Before either, the ``edge_request_filter`` hooks of the loaded plugins see each request
(:mod:`edge.filters`). Every error is the JSON error body (:func:`mediaedge.errors.error_body`); every
answer is counted in the metrics and, with ``edge.access_log``, logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pluggy

from edge import accesslog
from edge.auth import TokenVerifier
from edge.cache import EdgeCache, OriginClient
from edge.control import Observed, control_app
from edge.delivery import Delivery, Outcome, ResponseAborted
from edge.fastpath import FastPath
from edge.filters import RequestFilters
from edge.jwks import JWKSource
from edge.metrics import Metrics
from edge.paths import split_object_path
from edge.policy import TenantPolicies
from edge.protocols import Cache, ObjectCache
from edge.purge import Purger
from edge.respond import Headers, Receive, Scope, Send, adding_headers, send_error
from edge.usage import UsageReporter
from edge.workers import WorkerGroup
from edge.zones import Zones
from mediaedge.cluster import edge_secret, keep_registered
from mediaedge.errors import HTTPError
from mediaedge.plugins import get_plugin_manager, start_plugins
from mediaedge.settings import Settings

log = logging.getLogger(__name__)

OBJECT_METHODS = ("GET", "HEAD", "OPTIONS")
# Errors are never stored by caches in front of the edge (a 404 is heuristically cacheable). On object
# URLs they may be read by players on any origin (they reveal nothing a plain request would not), so
# web players can tell "signed URL required" from a network failure.
_NO_STORE = [(b"cache-control", b"no-store")]
_ERROR_HEADERS = [*_NO_STORE, (b"access-control-allow-origin", b"*")]


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
        plugins: pluggy.PluginManager | None = None,
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
        self.purger = Purger(cache, self.policies, self.zones, workers)
        self.access_log = settings.edge.access_log
        self.control = control_app(self, self._observe)
        self._control_paths = frozenset(route.path.encode() for route in self.control.routes)  # type: ignore[attr-defined]
        self._filters = RequestFilters.of(plugins) if plugins is not None else None
        #: Headers on every answer: ``Alt-Svc`` when this edge serves HTTP/3 (edge.server).
        self.advertised: Headers = []
        if settings.edge.http3_port:
            self.advertised.append((b"alt-svc", b'h3=":%d"; ma=86400' % settings.edge.http3_port))
        #: Cache hits the lean server answers without ASGI (:mod:`edge.fastpath`); none when request
        #: filters must see every request.
        self.fast_path = (
            FastPath(cache, lambda: self.keys.keyset, self.policies.cached, self._observe_fast, self.advertised)
            if self._filters is None
            else None
        )
        edge = settings.edge
        #: Pushes what this process delivered per day and tenant to the origin (:mod:`edge.usage`).
        self.usage_reporter = UsageReporter(
            self.metrics.usage, client, origin, secret, edge.registration_url, edge.region, edge.usage_report
        )
        self._registration: asyncio.Task[None] | None = None
        self._usage_reports: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the cache, load the token keys, keep this edge registered with the origin (so
        deletes purge it; see :func:`mediaedge.cluster.keep_registered`) and report its usage."""
        await self.cache.start()
        await self.zones.start()
        await self.keys.start()
        if self.workers is not None:
            await self.workers.start(self.purger.apply, lambda: self.metrics.snapshot(self.cache, self.zone_caches()))
        edge = self.settings.edge
        self._registration = asyncio.create_task(
            keep_registered(self.client, edge.origin_url, self.secret, edge.registration_url, edge.region)
        )
        self._usage_reports = asyncio.create_task(self.usage_reporter.run())

    async def close(self) -> None:
        reporting = self._usage_reports is not None
        for task in (self._registration, self._usage_reports):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._registration = self._usage_reports = None
        if reporting:  # what was delivered since the last report (once: close may be called again)
            await self.usage_reporter.report_logged()
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
        raw_path = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0]
        if self.advertised:
            send = adding_headers(send, self.advertised)
        if self._filters is not None:
            refusal, send = await self._filters.run(scope, receive, send)
            if refusal is not None:
                await Observed(refusal, self._observe)(scope, receive, send)
                return
        if raw_path in self._control_paths:
            await self.control(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        try:
            outcome = await self._route(scope, receive, send, method, raw_path)
        except HTTPError as exc:
            outcome = Outcome(exc.status, await send_error(send, exc, _ERROR_HEADERS, head=method == "HEAD"))
        except ResponseAborted:
            self.metrics.observe(499, 0, None)
            raise
        except Exception:
            log.exception("unhandled error on %s %s", method, accesslog.redact(raw_path))
            error = HTTPError(500, "Internal server error")
            outcome = Outcome(500, await send_error(send, error, _NO_STORE, head=method == "HEAD"))
        self._observe(scope, outcome, started)

    def _observe(self, scope: Scope, outcome: Outcome, started: float) -> None:
        """Count an answered request in the metrics and, when enabled, the access log."""
        self.metrics.observe(*outcome)
        if self.access_log:
            client = scope.get("client")
            raw_path = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0]
            accesslog.write(client[0] if client else None, scope["method"], raw_path, *outcome, started=started)

    def _observe_fast(
        self, method: str, raw_path: bytes, client: str | None, status: int, sent: int, tenant: str | None
    ) -> None:
        """:meth:`_observe` for an answer of the fast path."""
        self.metrics.observe(status, sent, tenant)
        if self.access_log:
            accesslog.write(client, method, raw_path, status, sent, tenant, started=time.perf_counter())

    async def _route(self, scope: Scope, receive: Receive, send: Send, method: str, raw_path: bytes) -> Outcome:
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

    def zone_caches(self) -> dict[str, Cache]:
        """Each pull zone's cache, by zone name."""
        return {name: zone.cache for name, zone in self.zones.by_name.items()}


def create_app(
    settings: Settings,
    *,
    cache: ObjectCache | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    pm: pluggy.PluginManager | None = None,
    govern: bool = False,
) -> EdgeApp:
    """The edge app for ``settings``, its plugins started (``startup(settings, "edge")``).

    ``cache`` (any :class:`edge.protocols.ObjectCache`) defaults to an :class:`edge.cache.EdgeCache` pulling
    from ``edge.origin_url``;
    ``transport`` carries the edge's own requests to the origin (JWKS, tenant policy) — tests pass
    an ``httpx.MockTransport``; ``clock`` (wall-clock seconds) drives the pull zones' caches (tests);
    ``pm`` defaults to the installed plugins less ``plugins.block``; ``govern`` (a server process)
    keeps the process within ``edge.memory_cache_bytes`` plus a headroom (:mod:`edge.cache.budget`).
    """
    pm = pm or get_plugin_manager(block=settings.plugins.block)
    settings = start_plugins(settings, pm, "edge")
    secret = edge_secret(settings)
    workers = None
    if settings.edge.processes > 1:  # one of several processes: see edge.workers
        workers = WorkerGroup(
            Path(settings.edge.disk_cache_dir or Path(settings.data_dir) / "edge-cache"), settings.edge.processes
        )
        settings = workers.worker_settings(settings)
    if cache is None:
        siblings = workers.siblings(settings.edge.slice_bytes) if workers is not None else None
        origin = OriginClient(settings.edge.origin_url, secret)
        cache = EdgeCache(settings.edge, origin, govern=govern, siblings=siblings)
    client = httpx.AsyncClient(transport=transport)
    return EdgeApp(settings, cache, client, secret, clock=clock, workers=workers, plugins=pm)
