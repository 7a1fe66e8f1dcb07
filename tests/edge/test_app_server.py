"""The app behind real servers, configured as run_edge configures them (raw paths as uvicorn and
hypercorn deliver them, one Date), and run_edge."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from edge import server
from edge.app import EdgeApp, create_app
from edge.conditional import parse_http_date
from mediaedge.settings import WORKER_SETTINGS_ENV, Settings
from mediaedge.uvicorn_http import LingeringHttpToolsProtocol
from tests.edge.fakes import DATA, PUBLIC, FakeCache, FakeOrigin
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def uvicorn_server(app: EdgeApp, port: int) -> AsyncIterator[None]:
    import uvicorn

    config = uvicorn.Config(
        server.with_date(app), host="127.0.0.1", port=port, log_level="warning", **server.UVICORN_OPTIONS
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    while not instance.started:
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        instance.should_exit = True
        await task


@asynccontextmanager
async def hypercorn_server(app: EdgeApp, port: int) -> AsyncIterator[None]:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.include_date_header = False  # as run_edge has it
    stop = asyncio.Event()
    task = asyncio.create_task(serve(server.with_date(app), config, shutdown_trigger=stop.wait))
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.01)
    try:
        yield
    finally:
        stop.set()
        await task


@asynccontextmanager
async def lean_server(app: EdgeApp, port: int) -> AsyncIterator[None]:
    import socket

    from edge.http1 import Server

    instance = Server(app)
    await instance.start(socket.create_server(("127.0.0.1", port)))
    try:
        yield
    finally:
        await instance.stop()


SERVERS = pytest.mark.parametrize(
    "serve", [uvicorn_server, hypercorn_server, lean_server], ids=["uvicorn", "hypercorn", "lean"]
)


async def raw_request(port: int, request_line: bytes, headers: bytes = b"") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_line + b"\r\nHost: edge.test\r\nConnection: close\r\n" + headers + b"\r\n")
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@SERVERS
async def test_real_server_raw_paths(settings: Settings, cache: FakeCache, origin: FakeOrigin, serve: Any) -> None:
    port = free_port()
    async with serve(create_app(settings, cache=cache, transport=origin.transport()), port):
        status, body = await raw_request(port, f"GET /f1/{PUBLIC} HTTP/1.1".encode(), b"Range: bytes=0-9\r\n")
        assert (status, body) == (206, DATA[:10])
        for path in (
            b"/f1/t1/u1/%2e%2e/videos/clip.mp4",
            b"/f1/t1%2Fu1/videos/clip.mp4",
            b"/f1/t1/u1/%252e/x",
            b"/f1/t1/u1/../u1/videos/clip.mp4",
            b"/f1/t1/u1/..%5cx",
        ):
            status, body = await raw_request(port, b"GET " + path + b" HTTP/1.1")
            assert status == 400, path
            assert b'"INVALID_PATH"' in body
    assert cache.started and cache.closed


UPSTREAM_DATE = b"Mon, 01 Jan 2024 00:00:00 GMT"


async def _dated(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers ``/own`` with a Date of its own (as a pull zone forwards the upstream's), else without."""
    if scope["type"] != "http":
        return
    headers = [(b"content-length", b"2")] + ([(b"date", UPSTREAM_DATE)] if scope["path"] == "/own" else [])
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


@SERVERS
async def test_exactly_one_date_on_every_server(serve: Any) -> None:
    port = free_port()
    async with serve(_dated, port):
        own, added = await _dates(port, "/own"), await _dates(port, "/none")
    assert own == [UPSTREAM_DATE]
    (date,) = added
    assert abs(parse_http_date(date.decode()) - time.time()) < 60  # type: ignore[operator]


async def _dates(port: int, path: str) -> list[bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n")
    head = (await reader.read()).partition(b"\r\n\r\n")[0]
    writer.close()
    lines = [line.split(b":", 1) for line in head.split(b"\r\n")[1:]]
    return [value.strip() for name, value in lines if name.lower() == b"date"]


def test_run_edge_passes_settings_to_workers(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    monkeypatch.delenv(WORKER_SETTINGS_ENV, raising=False)
    port = free_port()  # run_edge checks that the port is free
    tuned = settings.replace(edge=dataclasses.replace(settings.edge, server="uvicorn", port=port, workers=3))
    server.run_edge(tuned)
    (call,) = calls
    assert call["app"] == "edge.server:dated_app_from_env" and call["factory"] and not call["date_header"]
    assert (call["port"], call["workers"], call["loop"], call["http"], call["access_log"]) == (
        port,
        3,
        "uvloop",
        LingeringHttpToolsProtocol,  # uvicorn's httptools protocol with the lingering close
        False,
    )
    built: list[Settings] = []
    monkeypatch.setattr(server, "create_app", lambda s: built.append(s) or "app")
    assert server.app_from_env() == "app"
    assert built == [tuned]  # what every worker process rebuilds


def test_run_edge_lean(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from edge import http1

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(http1, "run", lambda *args, **kwargs: calls.append((*args, kwargs)))
    monkeypatch.delenv(WORKER_SETTINGS_ENV, raising=False)
    port = free_port()
    edge = dataclasses.replace(settings.edge, server="lean", port=port, workers=2)
    server.run_edge(settings.replace(edge=edge))
    assert calls == [(server.app_from_env, "127.0.0.1", port, {"workers": 2, "ssl_context": None})]
