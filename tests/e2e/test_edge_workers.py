"""A real edge with two uvicorn worker processes: a delete at the origin purges both workers, and
``/metrics`` on either counts the requests of both."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.procs import running_edge
from tests.fixtures.origin_server import OriginProcess

pytestmark = pytest.mark.slow

REQUESTS = 30


@pytest.fixture
def edge_with_two_workers(origin_server: OriginProcess) -> Iterator[str]:
    env = {
        "MEDIAEDGE_EDGE_WORKERS": "2",
        "MEDIAEDGE_EDGE_OBJECT_TTL": "3600",  # only a purge, not revalidation, can drop the object
    }
    with running_edge(origin_server, env, origin_server.data_dir.parent / "edge.log") as url:
        yield url


def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


def _served_by_worker(cache_dir: Path, tenant: str) -> dict[str, int]:
    """Each worker's own published count of the tenant's requests."""
    counts = {}
    for path in sorted((cache_dir / "metrics").glob("w*.json")):
        with contextlib.suppress(ValueError):  # the file is replaced atomically, but read it defensively
            counts[path.stem] = json.loads(path.read_bytes())["tenant_requests"].get(tenant, 0)
    return counts


def _fresh_get(url: str) -> int:
    with httpx.Client() as client:  # a new connection each time: the kernel spreads them over workers
        return client.get(url).status_code


def test_two_workers_share_purges_and_metrics(origin_server: OriginProcess, edge_with_two_workers: str):
    edge = edge_with_two_workers
    up = httpx.post(
        f"{origin_server.url}/upload/direct-upload",
        headers=origin_server.headers,
        files={"file": ("clip.bin", os.urandom(2048))},
        data={"userId": "u1"},
    )
    assert up.status_code == 201, up.text
    access_url = up.json()["url"]
    url = edge + access_url.split("8080", 1)[1]
    tenant = up.json()["key"].split("/", 1)[0]

    assert [_fresh_get(url) for _ in range(REQUESTS)] == [200] * REQUESTS
    cache_dir = Path(origin_server.data_dir) / "edge-cache"
    expected = f'mediaedge_edge_tenant_requests_total{{tenant="{tenant}"}} {REQUESTS}'
    # Every worker republishes its counters each second; once both files add up, any scrape sums all.
    _until(lambda: sum(_served_by_worker(cache_dir, tenant).values()) == REQUESTS, "both workers published")
    served = _served_by_worker(cache_dir, tenant)
    assert set(served) == {"w0", "w1"} and all(served.values()), served  # both workers served requests
    for _ in range(4):  # the scrapes land on either worker
        assert expected in httpx.get(f"{edge}/metrics").text

    deleted = httpx.request(
        "DELETE", f"{origin_server.url}/files/delete", headers=origin_server.headers, json={"file": access_url}
    )
    assert deleted.status_code == 200, deleted.text
    # The worker that took the purge journals it; its sibling polls every 0.2 s.
    _until(lambda: [_fresh_get(url) for _ in range(REQUESTS)] == [404] * REQUESTS, "both workers purged")
