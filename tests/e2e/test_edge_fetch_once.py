"""A real edge with two worker processes fetches a hot object from the origin once, not once per
worker: many clients missing the same cold object at the same moment, spread over both workers,
cost one origin request per slice (counted by a proxy in front of the real origin, which answers
slowly so the workers' misses overlap)."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.e2e.procs import running_edge
from tests.fixtures.origin_server import OriginProcess

pytestmark = pytest.mark.slow

KiB, MiB = 1024, 1024 * 1024
CLIENTS = 16
DELAY = 0.5  # seconds the proxy holds each object response: the workers' misses overlap
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class CountingProxy:
    """An HTTP proxy on a free loopback port in front of ``upstream``, counting (and delaying) the
    edge's object requests (``/_edge/objects/...``) by path."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.objects: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                if self.path.startswith("/_edge/objects/"):
                    with proxy._lock:
                        proxy.objects[self.path.split("?", 1)[0]] += 1
                    time.sleep(DELAY)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP | {"host"}}
                with httpx.Client(timeout=30) as client:
                    r = client.request(self.command, proxy.upstream + self.path, headers=headers, content=body)
                data = r.content
                self.send_response(r.status_code)
                for name, value in r.headers.multi_items():
                    if name.lower() not in _HOP and name.lower() != "content-encoding":
                        self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fetches(self, key: str) -> int:
        """Object requests for ``key`` so far."""
        with self._lock:
            return sum(n for path, n in self.objects.items() if path.endswith(key))


@pytest.fixture
def proxied_edge(origin_server: OriginProcess) -> Iterator[tuple[str, CountingProxy]]:
    with CountingProxy(origin_server.url) as proxy:
        env = {
            "MEDIAEDGE_EDGE_WORKERS": "2",
            "MEDIAEDGE_EDGE_ORIGIN_URL": proxy.url,
            "MEDIAEDGE_EDGE_OBJECT_TTL": "3600",
        }
        with running_edge(origin_server, env, origin_server.data_dir.parent / "edge.log") as url:
            yield url, proxy


def _served_by_worker(cache_dir: Path, tenant: str) -> dict[str, int]:
    counts = {}
    for path in sorted((cache_dir / "metrics").glob("w*.json")):
        with contextlib.suppress(ValueError):
            counts[path.stem] = json.loads(path.read_bytes())["tenant_requests"].get(tenant, 0)
    return counts


def _get(url: str) -> bytes:
    with httpx.Client(timeout=30) as client:  # a new connection each: the kernel spreads them over workers
        r = client.get(url)
        assert r.status_code == 200, r.text
        return r.content


@pytest.mark.parametrize("size", [300 * KiB, 2 * MiB + 512 * KiB], ids=["one slice", "three slices"])
def test_a_hot_miss_reaches_the_origin_once_per_edge(
    origin_server: OriginProcess, proxied_edge: tuple[str, CountingProxy], size: int
):
    edge, proxy = proxied_edge
    cache_dir = Path(origin_server.data_dir) / "edge-cache"
    slices = -(-size // MiB)
    for _attempt in range(3):  # until both workers took some of the clients
        data = os.urandom(size)
        up = origin_server.upload("hot.bin", data)
        key, tenant = up["key"], up["key"].split("/", 1)[0]
        before = _served_by_worker(cache_dir, tenant)
        url = edge + up["url"].split("8080", 1)[1]
        with ThreadPoolExecutor(CLIENTS) as pool:
            bodies = list(pool.map(_get, [url] * CLIENTS))
        assert bodies == [data] * CLIENTS
        time.sleep(1.5)  # each worker republishes its counters every second
        after = _served_by_worker(cache_dir, tenant)
        if all(after.get(w, 0) > before.get(w, 0) for w in ("w0", "w1")):
            break
    else:
        pytest.fail(f"the clients never reached both workers: {after}")
    assert proxy.fetches(key) == slices, proxy.objects  # one request per slice, for both workers
