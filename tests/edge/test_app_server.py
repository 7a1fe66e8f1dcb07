"""The app behind real servers, configured as run_edge configures them (raw paths as uvicorn and
hypercorn deliver them, one Date), and run_edge."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge import http1, server
from edge.app import EdgeApp, create_app
from edge.conditional import parse_http_date
from mediaedge.settings import WORKER_SETTINGS_ENV, Settings
from mediaedge.uvicorn_http import LingeringHttpToolsProtocol
from tests.edge.fakes import DATA, PUBLIC, FakeCache, FakeOrigin
from tests.edge.test_fastpath import exchange
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def uvicorn_server(app: EdgeApp, port: int, lean: bool = False) -> AsyncIterator[None]:
    """uvicorn as run_edge starts it: its own protocol with the app dated, or (``lean``) the lean
    protocol with the app as it is (so it finds the app's fast path)."""
    import uvicorn

    served, options = (app, server.LEAN_OPTIONS) if lean else (server.with_date(app), server.UVICORN_OPTIONS)
    config = uvicorn.Config(served, host="127.0.0.1", port=port, log_level="warning", **options)
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
    """The lean protocol under uvicorn, as ``edge.server = "lean"`` runs it."""
    async with uvicorn_server(app, port, lean=True):
        yield


@asynccontextmanager
async def lean_in_loop(app: EdgeApp, port: int) -> AsyncIterator[None]:
    """The lean protocol's own in-loop server (tests, embedding)."""
    import socket

    instance = http1.Server(app)
    await instance.start(socket.create_server(("127.0.0.1", port)))
    try:
        yield
    finally:
        await instance.stop()


SERVERS = pytest.mark.parametrize(
    "serve",
    [uvicorn_server, hypercorn_server, lean_server, lean_in_loop],
    ids=["uvicorn", "hypercorn", "lean", "lean-in-loop"],
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
    app = create_app(settings, cache=cache, transport=origin.transport())
    async with serve(app, port):
        status, body = await raw_request(port, f"GET /f1/{PUBLIC} HTTP/1.1".encode(), b"Range: bytes=0-9\r\n")
        assert (status, body) == (206, DATA[:10])
        keep_alive = f"GET /f1/{PUBLIC} HTTP/1.1\r\nHost: edge.test\r\n\r\n".encode()
        answers = await exchange(port, keep_alive, 1) + await exchange(port, keep_alive * 2, 2)
        assert all(a.startswith(b"HTTP/1.1 200 ") and a.endswith(DATA) for a in answers)
        assert all(a.partition(b"\r\n\r\n")[0].lower().count(b"\r\ndate: ") == 1 for a in answers)  # fast path too
        assert app.fast_path is not None
        assert app.fast_path.hits == (2 if serve in (lean_server, lean_in_loop) else 0)  # the lean fast path
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
    monkeypatch.setattr(server, "create_app", lambda s, **_: built.append(s) or "app")
    monkeypatch.setattr(server, "die_with_parent", lambda: None)  # this is no worker process
    assert server.app_from_env() == "app"
    assert built == [tuned]  # what every worker process rebuilds


def test_run_edge_lean(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    monkeypatch.delenv(WORKER_SETTINGS_ENV, raising=False)
    port = free_port()
    edge = dataclasses.replace(settings.edge, server="lean", port=port, workers=2)
    server.run_edge(settings.replace(edge=edge))
    ((call),) = calls
    assert (call["app"], call["http"], call["workers"], call["lifespan"]) == (
        "edge.server:app_from_env",
        http1.UvicornProtocol,  # uvicorn supervises; the lean protocol parses and answers
        2,
        "on",
    )


def _workers(pid: int) -> list[int]:
    """uvicorn's worker processes under supervisor ``pid`` (not multiprocessing's resource tracker)."""
    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in children if b"spawn_main" in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    except httpx.TransportError:
        return False


def _lean_edge(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """``mediaedge edge`` on the lean server with two workers (its origin unreachable: the edge
    starts anyway, answering health checks)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAEDGE_")}
    env |= {
        "MEDIAEDGE_DATA_DIR": str(tmp_path),
        "MEDIAEDGE_EDGE_PORT": str(port),
        "MEDIAEDGE_EDGE_ORIGIN_URL": f"http://127.0.0.1:{free_port()}",
        "MEDIAEDGE_EDGE_SERVER": "lean",
        "MEDIAEDGE_EDGE_WORKERS": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "mediaedge", "edge"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_lean_workers_share_the_socket_and_stop_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = _lean_edge(tmp_path, port)
    try:
        _until(lambda: len(_workers(proc.pid)) == 2 and _healthy(port))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_a_dead_lean_worker_is_replaced_and_workers_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    port = free_port()
    proc = _lean_edge(tmp_path, port)
    started: list[int] = []
    try:
        _until(lambda: len(_workers(proc.pid)) == 2)
        first, second = _workers(proc.pid)
        started = [first, second]
        os.kill(first, signal.SIGKILL)  # a crashed worker ...
        _until(lambda: first not in _workers(proc.pid) and len(_workers(proc.pid)) == 2)  # ... is replaced
        replacement = next(c for c in _workers(proc.pid) if c != second)
        started = [second, replacement]
        _until(lambda: _healthy(port))  # (the replacement may still be loading its app: see below)
        proc.kill()  # the supervisor killed outright: its workers must not linger holding the port
        proc.wait(timeout=20)
        _until(lambda: not _alive(second) and not _alive(replacement))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _kill_alive(started)


def _kill_alive(pids: list[int]) -> None:
    """Stop the workers a failed test left behind (they would hold the port)."""
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


_LATE_WORKER = """
import multiprocessing, os, sys, time

def worker(path):
    supervisor, deadline = os.getppid(), time.monotonic() + 30
    while os.getppid() == supervisor and time.monotonic() < deadline:  # until the supervisor is gone
        time.sleep(0.01)
    from edge.server import die_with_parent
    die_with_parent()  # as a worker does when it loads its app, here after its supervisor died
    with open(path, "w") as out:
        out.write("outlived its supervisor")

if __name__ == "__main__":
    process = multiprocessing.get_context("spawn").Process(target=worker, args=(sys.argv[1],))
    process.start()
    print(process.pid, flush=True)
    os._exit(0)  # the supervisor dies before its worker got to die_with_parent
"""


def test_a_worker_whose_supervisor_died_before_it_loaded_its_app_exits(tmp_path: Path) -> None:
    script, survived = tmp_path / "late_worker.py", tmp_path / "survived"
    script.write_text(_LATE_WORKER)
    root = str(Path(server.__file__).resolve().parents[1])  # this checkout's edge package
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    done = subprocess.run([sys.executable, str(script), str(survived)], env=env, capture_output=True, timeout=60)
    worker = int(done.stdout)
    try:
        _until(lambda: not _alive(worker))
    finally:
        _kill_alive([worker])
    assert not survived.exists()
