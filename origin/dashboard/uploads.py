"""The uploads page: drag and drop, sent with tus-js-client over TUS to ``/dashboard/tus/files``.

That endpoint is the API's own TUS server (:mod:`origin.api.aauti.tus`, docs/tus.md) mounted under
the dashboard, authenticated by the session cookie plus the session's CSRF token in
``X-CSRF-Token`` on every request instead of an ``API-Key`` (the browser never holds the key).
Uploads resume after a broken connection or a reload (tus-js-client keeps the upload URL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mediaedge.errors import HTTPError
from origin.api.aauti import tus
from origin.auth import SCOPED_TENANT
from origin.dashboard import session
from origin.dashboard.render import render
from origin.dashboard.session import CSRF_HEADER, Login
from origin.dashboard.views import page
from origin.tus.protocol import BASE_PATH, SCOPED_BASE_PATH

MOUNT = "/dashboard/tus"
CHUNK_SIZE = 8 * 1024 * 1024


@page
async def uploads_page(request: Request, login: Login) -> Response:
    return render(request, "uploads.html", login, active="uploads", endpoint=MOUNT + BASE_PATH, chunk_size=CHUNK_SIZE)


def _with_session(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        login = await session.current(request)
        if login is None:
            raise HTTPError(401, "Log in to the dashboard first", "DASHBOARD_LOGIN_REQUIRED")
        session.check_csrf(login.csrf, request.headers.get(CSRF_HEADER))
        request.scope[SCOPED_TENANT] = login.tenant
        request.scope[SCOPED_BASE_PATH] = MOUNT + BASE_PATH
        return await endpoint(request)

    return handler


def tus_routes() -> list[BaseRoute]:
    """The API's TUS routes under :data:`MOUNT`, each behind the session check."""
    wrapped: list[BaseRoute] = []
    for route in tus.routes:
        assert isinstance(route, Route)
        wrapped.append(
            Route(
                MOUNT + route.path,
                _with_session(route.endpoint),
                methods=sorted(route.methods or ()),
                include_in_schema=False,
            )
        )
    return wrapped
