"""A real edge process keeps its memory while clients read slower than it writes: a cached 16 MiB
object answered to many clients that read nothing costs the edge next to nothing (the memory tier's
slices go out as they are, never joined into a copy per response), on the lean server's fast path and
through uvicorn; ``/metrics`` has the tiers' gauges."""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.procs import running_edge_process
from tests.fixtures.origin_server import OriginProcess

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
SIZE = 16 * MiB
CLIENTS = 24
#: What the edge may grow by while the clients wait: far below one copy of the object per client.
GROWTH_LIMIT = 48 * MiB


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _request(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def _fetch(port: int, request: bytes) -> bytes:
    """Send ``request`` on a new connection and read the whole answer; its body."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
        while len(body) < length:
            chunk = sock.recv(MiB)
            assert chunk, "connection closed mid-body"
            body += chunk
        return body


def _stalled_clients(port: int, request: bytes, count: int) -> list[socket.socket]:
    """``count`` connections that send ``request`` and never read (a small receive buffer each)."""
    clients = []
    for _ in range(count):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(request)
        clients.append(sock)
    return clients


@pytest.fixture(params=["lean", "uvicorn"])
def edge(origin_server: OriginProcess, request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    env = {
        "MEDIAEDGE_EDGE_SERVER": request.param,
        "MEDIAEDGE_EDGE_MEMORY_CACHE_BYTES": str(128 * MiB),
        "MEDIAEDGE_EDGE_OBJECT_TTL": "3600",
    }
    with running_edge_process(origin_server, env, origin_server.data_dir.parent / "edge.log") as (url, proc):
        yield url, proc.pid


def test_slow_clients_of_a_cached_object_hold_no_copies(origin_server: OriginProcess, edge: tuple[str, int]):
    url, pid = edge
    data = os.urandom(SIZE)
    path = origin_server.upload("big.bin", data)["url"].split("8080", 1)[1]
    port = int(url.rsplit(":", 1)[1])
    request = _request(port, path)
    for _ in range(3):  # a miss, a hit recorded for the fast path, a fast-path hit
        assert _fetch(port, request) == data

    before = _rss(pid)
    clients = _stalled_clients(port, request, CLIENTS)
    try:
        time.sleep(1.5)  # every answer started: the edge holds what it holds for them
        grown = _rss(pid) - before
    finally:
        for sock in clients:
            sock.close()
    assert grown < GROWTH_LIMIT, f"edge RSS grew by {grown / MiB:.0f} MiB for {CLIENTS} stalled clients"

    metrics = httpx.get(f"{url}/metrics").text
    assert f'mediaedge_edge_cache_bytes{{tier="memory"}} {SIZE}' in metrics
    assert 'mediaedge_edge_cache_entries{tier="memory"} 16' in metrics
    assert 'mediaedge_edge_cache_entries{tier="disk"} 16' in metrics
    assert re.search(r'mediaedge_edge_cache_limit_bytes\{tier="memory"\} \d+', metrics)
    assert re.search(r"mediaedge_edge_process_resident_bytes \d+", metrics)
