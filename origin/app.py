"""The origin ASGI app: the API dialects (:mod:`origin.api`), the edge contract, and the background services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mediaedge.errors import HTTPError, error_body
from mediaedge.settings import Settings
from origin import dashboard, edge_api, openapi
from origin.api import aauti, editor, media, uploads, videos
from origin.cors import CORSMiddleware, Scope
from origin.editor.developers import editor_origins
from origin.metrics import MetricsMiddleware, OriginMetrics, RouteNames, metrics_endpoint
from origin.openapi import describe
from origin.services import origin_services
from origin.state import OriginState

log = logging.getLogger("mediaedge.origin")


@describe(security=(), responses={200: {"type": "object", "properties": {"status": {"const": "ok"}}}})
async def healthz(request: Request) -> Response:
    """Liveness plus a cheap metadata-store round trip."""
    await request.app.state.origin.store.db.ping()
    return Response(b'{"status":"ok"}', media_type="application/json")


ROUTES: list[BaseRoute] = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics_endpoint, methods=["GET"]),
    *openapi.routes,
    *edge_api.routes,
    *aauti.routes,
    *videos.routes,
    *uploads.routes,
    *media.routes,
    *editor.routes,
    *dashboard.routes,
]


def _error_response(
    status: int, message: str, code: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(error_body(status, message, code), status, headers=headers, media_type="application/json")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPError)
    return _error_response(exc.status, exc.message, exc.code, exc.headers)


async def _starlette_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return _error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _unhandled(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error_response(500, "Internal server error")


async def _editor_origin(scope: Scope, origin: str) -> bool:
    """A registered editor developer's origin (CORS for the editor API and its custom URLs)."""
    state: OriginState | None = getattr(scope["app"].state, "origin", None)
    return state is not None and origin in await editor_origins(state.store)


def create_app(settings: Settings, state: OriginState | None = None) -> Starlette:
    """The origin app. Pass ``state`` to share an already open one (tests, ``mediaedge up``)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = state is None
        origin = state or await OriginState.open(settings)
        app.state.origin = origin
        tasks = [asyncio.create_task(service(origin)) for service in [*origin_services(origin), *origin.services]]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if own:
                await origin.close()

    metrics = OriginMetrics()
    names = RouteNames(ROUTES)
    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics, names=names),
            Middleware(CORSMiddleware, allowed=settings.origin.cors_origins, dynamic=_editor_origin),
        ],
        lifespan=lifespan,
        exception_handlers={
            HTTPError: _http_error,
            StarletteHTTPException: _starlette_error,
            Exception: _unhandled,
        },
    )
    app.state.metrics = metrics
    return app
