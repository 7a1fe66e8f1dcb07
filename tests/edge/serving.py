"""How edge tests reach the app: in-process (``httpx.ASGITransport``), in-process through the lean
server's fast path first (:class:`tests.edge.fakes.FastPathTransport`), or over real loopback
sockets through the default ``lean`` server (:mod:`edge.http1`, its fast path included). Suites take
the ``via`` fixture (all three, by default) and open their client with :func:`edge_client`, so the
same tests run every way."""

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


def _http_only(app: EdgeApp) -> Any:
    """The app without lifespan: the test started it already (``async with``)."""

    async def serve(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await app(scope, receive, send)

    serve.fast_path = app.fast_path  # type: ignore[attr-defined]  # the lean server answers hits itself
    return serve


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
    server = http1.Server(_http_only(app))
    sock = socket.create_server(("127.0.0.1", 0))
    await server.start(sock)
    try:
        transport = _ToPort(sock.getsockname()[1])
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, trust_env=False) as client:
            yield client
    finally:
        await server.stop(grace=1)
