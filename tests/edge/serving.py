"""How edge tests reach the app: in-process (``httpx.ASGITransport``), in-process through the lean
server's fast path first (:class:`tests.edge.fakes.FastPathTransport`), or over real loopback
sockets through the default ``lean`` server (:mod:`edge.http1`, its fast path included). Suites take
the ``via`` fixture (all three, by default) and open their client with :func:`edge_client`, so the
same tests run every way (pull-zone suites: :data:`ZONE_VIAS`)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from edge import http1
from edge.app import EdgeApp
from tests.edge.fakes import FastPathTransport

VIAS = ("asgi", "fast", "lean")
#: Pull zones never take the fast path (``fast`` would be ``asgi`` again): their suites run these.
ZONE_VIAS = ("asgi", "lean")
#: The client address of the in-process transport; over sockets it is the loopback peer's.
ASGI_CLIENT = ("203.0.113.9", 50000)
BASE_URL = "http://edge.test"


def client_ip(via: str) -> str:
    """The address the edge sees the test client connect from."""
    return "127.0.0.1" if via == "lean" else ASGI_CLIENT[0]


class _ToPort(httpx.AsyncHTTPTransport):
    """Sends every request to ``127.0.0.1:port``, whatever the URL's host (kept in ``Host``)."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self._port = port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await super().handle_async_request(request)


class Started:
    """An app the test started already (``async with``), served without its lifespan; with the app's
    fast path, which the lean server takes from it."""

    def __init__(self, app: EdgeApp) -> None:
        self.app = app
        self.fast_path = app.fast_path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.app(scope, receive, send)


@asynccontextmanager
async def edge_client(app: EdgeApp, via: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for ``app`` on ``http://edge.test``: in-process, or through a lean server on a
    free loopback port (always stopped)."""
    if via in ("asgi", "fast"):
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=app, client=ASGI_CLIENT)
        if via == "fast":
            transport = FastPathTransport(app, ASGI_CLIENT)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client
        return
    server = http1.Server(Started(app))
    sock = socket.create_server(("127.0.0.1", 0))
    await server.start(sock)
    try:
        transport = _ToPort(sock.getsockname()[1])
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, trust_env=False) as client:
            yield client
    finally:
        await server.stop(grace=1)
