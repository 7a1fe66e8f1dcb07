"""The edge's control routes, a Starlette app behind the raw-ASGI delivery path (:mod:`edge.app`).

- ``GET|HEAD /healthz`` — ``{"status": "ok"}``;
- ``GET /metrics`` — Prometheus text (:mod:`edge.metrics`), the sum of every worker process;
- ``POST /_edge/purge`` — drop objects and tenant policies (:mod:`edge.purge`);
- ``POST /_edge/jwks/refresh`` — fetch the origin's token keys now (say, right after
  ``mediaedge keys rotate``) rather than at the next periodic refresh: ``{"refreshed": true}``, or 502
  ``ORIGIN_UNAVAILABLE`` when the fetch failed (the keys the edge had stay in use). With
  ``edge.workers`` > 1 only the process that took the request refreshes; the others fetch on the
  first token signed with a key they do not know;
- ``POST /_edge/usage/report`` — push this process's usage counters to the origin now rather than at
  the next ``edge.usage_report`` (:mod:`edge.usage`): ``{"reported": n}`` (counters sent), or 502
  ``ORIGIN_UNAVAILABLE`` (they go with the next report). With ``edge.workers`` > 1, the process
  that took the request;
- ``GET /_edge/zones`` — the pull zones: ``{"zones": [{"name", "host", "prefix", "upstream",
  "tokens", "bytes": {"memory", "disk"}, "stats": {...}}]}`` (this process's cache).

The ``/_edge/`` routes require the edge secret header (constant-time compare; 401
``EDGE_SECRET_INVALID``). Another method answers 405 with ``Allow``. Errors are the JSON error body
with ``Cache-Control: no-store``. :class:`Observed` (the middleware) counts every answer in the edge's
metrics and access log, and answers an unhandled error with a 500 error body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edge import accesslog
from edge.delivery import Outcome
from edge.metrics import CONTENT_TYPE as METRICS_TYPE
from edge.respond import Receive, Scope, Send, send_error
from mediaedge.cluster import EDGE_SECRET_HEADER, secret_matches
from mediaedge.errors import HTTPError

if TYPE_CHECKING:
    from edge.app import EdgeApp

__all__ = ["Observed", "control_app", "error_response"]

log = logging.getLogger(__name__)

HEALTHY = orjson.dumps({"status": "ok"})
JSON = "application/json"
NO_STORE = {"cache-control": "no-store"}  # errors are never stored by caches in front of the edge

#: Observes one answered request: its scope, outcome and ``time.perf_counter()`` at its start.
Observe = Callable[[Scope, Outcome, float], None]
Endpoint = Callable[[Request], Awaitable[Response]]


def error_response(error: HTTPError) -> Response:
    """The JSON error body of ``error`` with its headers, never stored."""
    return Response(error.body(), error.status, {**NO_STORE, **error.headers}, media_type=JSON)


class _Route(Route):
    """A route for exactly ``methods`` (Starlette adds HEAD to GET), 405 with ``Allow`` in their order."""

    def __init__(self, path: str, endpoint: Endpoint, *methods: str) -> None:
        super().__init__(path, endpoint, methods=methods)
        self.methods = self._methods = set(methods)
        self._allow = ", ".join(methods)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in self._methods:
            raise HTTPError(405, "Method not allowed", headers={"Allow": self._allow})
        await self.app(scope, receive, send)


class Observed:
    """ASGI middleware: each answer (status, body bytes sent) goes to ``observe``; an error the app did
    not handle is logged and answered with a 500 error body (if nothing was sent yet)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], observe: Observe) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = sent = 0

        async def counted(message: MutableMapping[str, Any]) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif scope["method"] != "HEAD":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counted)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], accesslog.redact(scope["path"].encode()))
            if status:
                raise  # the answer has begun: the server drops the connection
            error = HTTPError(500, "Internal server error")
            status, sent = 500, await send_error(send, error, [(b"cache-control", b"no-store")])
        self.observe(scope, Outcome(status, sent), started)


def _guarded(secret: str, endpoint: Endpoint) -> Endpoint:
    """``endpoint`` for requests that carry the edge secret only."""

    async def guarded(request: Request) -> Response:
        if not secret_matches(request.headers.get(EDGE_SECRET_HEADER), secret):
            raise HTTPError(401, "Edge secret required", "EDGE_SECRET_INVALID")
        return await endpoint(request)

    return guarded


def control_app(edge: EdgeApp, observe: Observe) -> Starlette:
    """The control routes of ``edge``, answers counted by ``observe``."""

    async def healthz(request: Request) -> Response:
        if request.method == "HEAD":
            return Response(b"", headers={"content-length": str(len(HEALTHY))}, media_type=JSON)
        return Response(HEALTHY, media_type=JSON)

    async def metrics(request: Request) -> Response:
        peers = edge.workers.peer_metrics() if edge.workers else ()
        body = edge.metrics.render(edge.cache, peers, edge.zone_caches())
        return Response(body, media_type=METRICS_TYPE.decode())

    async def purge(request: Request) -> Response:
        return Response(await edge.purger.purge(request.receive), media_type=JSON)

    async def refresh_keys(request: Request) -> Response:
        if not await edge.keys.refresh():
            raise HTTPError(502, "The origin's token keys could not be fetched", "ORIGIN_UNAVAILABLE")
        return Response(orjson.dumps({"refreshed": True}), media_type=JSON)

    async def report_usage(request: Request) -> Response:
        try:
            reported = await edge.usage_reporter.report()
        except httpx.HTTPError:
            raise HTTPError(502, "The origin did not take the usage report", "ORIGIN_UNAVAILABLE") from None
        return Response(orjson.dumps({"reported": reported}), media_type=JSON)

    async def zones(request: Request) -> Response:
        listed = [
            {
                "name": name,
                "host": zone.settings.host,
                "prefix": zone.settings.prefix,
                "upstream": zone.settings.upstream,
                "tokens": zone.settings.tokens,
                "bytes": zone.cache.bytes_cached(),
                "stats": dict(zone.cache.stats),
            }
            for name, zone in sorted(edge.zones.by_name.items())
        ]
        return Response(orjson.dumps({"zones": listed}), media_type=JSON)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPError)
        return error_response(exc)

    async def starlette_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = "Not found" if exc.status_code == 404 else str(exc.detail)
        return error_response(HTTPError(exc.status_code, message))

    secret = edge.secret
    return Starlette(
        routes=[
            _Route("/healthz", healthz, "GET", "HEAD"),
            _Route("/metrics", metrics, "GET"),
            _Route("/_edge/purge", _guarded(secret, purge), "POST"),
            _Route("/_edge/jwks/refresh", _guarded(secret, refresh_keys), "POST"),
            _Route("/_edge/usage/report", _guarded(secret, report_usage), "POST"),
            _Route("/_edge/zones", _guarded(secret, zones), "GET"),
        ],
        middleware=[Middleware(Observed, observe=observe)],
        exception_handlers={HTTPError: http_error, StarletteHTTPException: starlette_error},
    )
