"""The origin's Prometheus metrics at ``GET /metrics`` (``prometheus_client``; docs/operations.md).

Families (labels carry route templates, never raw paths, tokens or keys):

- ``mediaedge_origin_requests_total{route,method,status}`` and ``mediaedge_origin_request_seconds{route}``
  (histogram) — every answered request; ``route`` is the route's path template (``/files/{upload_id}``),
  ``unmatched`` for paths no route has;
- ``mediaedge_origin_request_body_bytes_total{route}`` — request body bytes received (uploads: TUS
  PATCH, direct multipart);
- ``mediaedge_origin_jobs{kind,status}`` — jobs queued and running; ``mediaedge_origin_job_queue_age_seconds{kind}``
  — how long the oldest due queued job has waited;
- ``mediaedge_origin_webhook_deliveries{status}`` — deliveries in the outbox by status (pending is the
  backlog); ``mediaedge_origin_webhook_backlog_age_seconds`` — age of the oldest pending delivery;
- ``mediaedge_origin_store_seconds`` — how long the store took to answer this scrape's queries.

Request counters are per process: with ``origin.workers`` > 1 each scrape reaches one worker (the
queue and outbox gauges come from the shared database, so every worker reports the same values).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.state import get_state

UNMATCHED = "unmatched"


class OriginMetrics:
    """The origin's metric families, in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "mediaedge_origin_requests", "Requests answered", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "mediaedge_origin_request_seconds",
            "Time to answer a request",
            ["route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.body_bytes = Counter(
            "mediaedge_origin_request_body_bytes", "Request body bytes received", ["route"], registry=r
        )
        self.jobs = Gauge("mediaedge_origin_jobs", "Jobs queued or running", ["kind", "status"], registry=r)
        self.queue_age = Gauge(
            "mediaedge_origin_job_queue_age_seconds", "Wait of the oldest due queued job", ["kind"], registry=r
        )
        self.webhooks = Gauge(
            "mediaedge_origin_webhook_deliveries", "Webhook deliveries by status", ["status"], registry=r
        )
        self.webhook_age = Gauge(
            "mediaedge_origin_webhook_backlog_age_seconds", "Age of the oldest pending delivery", registry=r
        )
        self.store_seconds = Gauge(
            "mediaedge_origin_store_seconds", "Time the store took for the last scrape", registry=r
        )


def _routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterable[tuple[str, Route]]:
    for route in routes:
        if isinstance(route, Route):
            yield prefix + route.path, route
        elif isinstance(route, Mount):
            yield from _routes(route.routes, prefix + route.path)


class RouteNames:
    """The path template of the route that answered a request (found by the endpoint routing chose)."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._by_endpoint: dict[Any, list[tuple[str, Route]]] = defaultdict(list)
        for path, route in _routes(routes):
            self._by_endpoint[route.endpoint].append((path, route))

    def name(self, scope: Scope) -> str:
        candidates = self._by_endpoint.get(scope.get("endpoint"), [])
        if len(candidates) == 1:
            return candidates[0][0]
        for path, route in candidates:
            if route.matches(scope)[0] is Match.FULL:
                return path
        return candidates[0][0] if candidates else UNMATCHED


class MetricsMiddleware:
    """Counts every HTTP request by route template and status, and the request body bytes."""

    def __init__(self, app: ASGIApp, metrics: OriginMetrics, names: RouteNames) -> None:
        self.app = app
        self.metrics = metrics
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def status_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, counting_receive, status_send)
        finally:
            route = self.names.name(scope)
            m = self.metrics
            m.requests.labels(route, scope["method"], str(status)).inc()
            m.latency.labels(route).observe(time.perf_counter() - started)
            if received:
                m.body_bytes.labels(route).inc(received)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text exposition of the origin's metrics (requests, uploads, jobs, webhooks, store)."""
    metrics: OriginMetrics = request.app.state.metrics
    store = get_state(request).store
    started = time.perf_counter()
    at = time.time()
    queue = await store.stats.jobs(at)
    webhooks = await store.stats.webhooks()
    metrics.store_seconds.set(time.perf_counter() - started)
    metrics.jobs.clear()
    metrics.queue_age.clear()
    for stat in queue:
        metrics.jobs.labels(stat.kind, stat.status).set(stat.count)
        if stat.status == "queued":
            metrics.queue_age.labels(stat.kind).set(max(0.0, at - stat.oldest) if stat.oldest else 0.0)
    metrics.webhooks.clear()
    for status in ("pending", "delivered", "failed", "skipped"):
        metrics.webhooks.labels(status).set(0)
    oldest_pending = None
    for wh in webhooks:
        metrics.webhooks.labels(wh.status).set(wh.count)
        if wh.status == "pending":
            oldest_pending = wh.oldest
    metrics.webhook_age.set(max(0.0, at - oldest_pending) if oldest_pending else 0.0)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
