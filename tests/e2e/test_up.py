"""`mediaedge up` — the README's quick start: one command starts origin, worker and edge on the embedded
defaults, creates a demo tenant, and an upload through the origin plays from the edge."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.e2e.procs import start_mediaedge, wait_healthy
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.slow


def test_up_serves_an_upload_from_the_edge_on_custom_ports(tmp_path: Path) -> None:
    origin_port, edge_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAEDGE_")}
    log = tmp_path / "up.log"
    args = ["up", "--data-dir", str(tmp_path / "var"), "--origin-port", str(origin_port), "--edge-port", str(edge_port)]
    proc = start_mediaedge(args, env, log)
    origin, edge = f"http://127.0.0.1:{origin_port}", f"http://127.0.0.1:{edge_port}"
    try:
        wait_healthy(origin, proc, log)
        wait_healthy(edge, proc, log)
        demo = json.loads((tmp_path / "var" / "demo-tenant.json").read_text())
        body = os.urandom(4096)
        up = httpx.post(f"{origin}/upload/direct-upload", headers={"API-Key": demo["api_key"]},
                        files={"file": ("clip.bin", body)}, data={"userId": "user123"})
        assert up.status_code == 201, up.text
        url = up.json()["url"]
        assert url.startswith(f"{edge}/")  # access URLs point at the edge `up` started ...
        served = httpx.get(url)  # ... which pulls from the origin on its non-default port
        assert served.status_code == 200 and served.content == body
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    output = log.read_text()
    assert proc.returncode == 0, output
    assert f"API-Key: {demo['api_key']}" in output
