"""Usage at the edges, end to end: a real origin and edge processes over loopback. Files fetched through
the edge show on the tenant's Usage page once the edge reports; reports repeated count nothing
twice; an edge that stops reports its last counts, and the one started after it adds its own."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from mediaedge.cluster import EDGE_SECRET_HEADER, edge_secret
from mediaedge.settings import load_settings
from origin.store.stats import DAY
from tests.e2e.procs import running_edge
from tests.fixtures.origin_server import OriginProcess

pytestmark = pytest.mark.slow

ENV = {"MEDIAEDGE_EDGE_USAGE_REPORT": "3600"}  # only the reports the test asks for (and the one at stop)


def _upload(origin: OriginProcess, data: bytes) -> dict:
    answer = httpx.post(
        f"{origin.url}/upload/direct-upload",
        headers=origin.headers,
        files={"file": ("clip.mp4", data)},
        data={"userId": "u", "destination": "v"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _usage(origin: OriginProcess) -> dict[str, list[float]]:
    """The Usage page's series, read as a logged-in tenant."""
    with httpx.Client(base_url=origin.url) as browser:
        form = browser.get("/dashboard/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        assert browser.post("/dashboard/login", data={"csrf": csrf, "api_key": origin.api_key}).status_code == 303
        page = browser.get("/dashboard/usage").text
    data = json.loads(re.search(r'<script type="application/json" id="usage-data">(.*?)</script>', page).group(1))
    assert data["days"][-1] == int(time.time() // DAY) * DAY
    return {c["id"]: c["values"] for c in data["charts"]}


def test_files_fetched_through_the_edge_show_on_the_usage_page(origin_server: OriginProcess):
    data = bytes(range(256)) * 40  # 10240 bytes
    file = _upload(origin_server, data)
    secret = {EDGE_SECRET_HEADER: edge_secret(load_settings(environ=origin_server._env()))}
    log = origin_server.data_dir.parent / "edge.log"
    with running_edge(origin_server, ENV, log) as edge:
        url = f"{edge}/{file['id']}/{file['key']}"
        for _ in range(3):
            got = httpx.get(url)
            assert (got.status_code, got.content) == (200, data)
        ranged = httpx.get(url, headers={"Range": "bytes=0-99"})
        assert (ranged.status_code, ranged.content) == (206, data[:100])
        for _ in range(2):  # a repeated report replaces, never adds
            report = httpx.post(f"{edge}/_edge/usage/report", headers=secret)
            assert (report.status_code, report.json()) == (200, {"reported": 1})
        usage = _usage(origin_server)
        assert (usage["edge_requests"][-1], usage["edge_bytes"][-1]) == (4, 3 * len(data) + 100)
        httpx.get(url)  # reported when this edge stops
    assert _usage(origin_server)["edge_requests"][-1] == 5

    with running_edge(origin_server, ENV, log) as edge:  # a new process: its counters start at zero
        assert httpx.get(f"{edge}/{file['id']}/{file['key']}").status_code == 200
    usage = _usage(origin_server)
    assert (usage["edge_requests"][-1], usage["edge_bytes"][-1]) == (6, 5 * len(data) + 100)
