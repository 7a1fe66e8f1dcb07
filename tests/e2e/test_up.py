"""`mediaedge up` — the README's quick start: one command starts origin, worker and edge on the embedded
defaults, creates a demo tenant, and an upload through the origin plays from the edge. Settings given
as flags or as environment variables reach every process it starts; the edge starts once the origin
answers (no failure noise); a port already in use is one line naming the setting, and exit status 1."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.procs import ROOT, start_mediaedge, wait_healthy
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.slow


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MEDIAEDGE_")}


@pytest.mark.parametrize("given_as", ["flags", "env"])
def test_up_serves_an_upload_from_the_edge_on_custom_ports(tmp_path: Path, given_as: str) -> None:
    origin_port, edge_port = free_port(), free_port()
    env = _clean_env()
    log = tmp_path / "up.log"
    if given_as == "flags":
        args = [
            "up",
            "--data-dir",
            str(tmp_path / "var"),
            "--origin-port",
            str(origin_port),
            "--edge-port",
            str(edge_port),
        ]
    else:  # `MEDIAEDGE_ORIGIN_PORT=... MEDIAEDGE_EDGE_PORT=... make run`
        args = ["up"]
        env.update(
            MEDIAEDGE_DATA_DIR=str(tmp_path / "var"),
            MEDIAEDGE_ORIGIN_PORT=str(origin_port),
            MEDIAEDGE_EDGE_PORT=str(edge_port),
        )
    proc = start_mediaedge(args, env, log)
    origin, edge = f"http://127.0.0.1:{origin_port}", f"http://127.0.0.1:{edge_port}"
    try:
        wait_healthy(origin, proc, log)
        wait_healthy(edge, proc, log)
        demo = json.loads((tmp_path / "var" / "demo-tenant.json").read_text())
        body = os.urandom(4096)
        up = httpx.post(
            f"{origin}/upload/direct-upload",
            headers={"API-Key": demo["api_key"]},
            files={"file": ("clip.bin", body)},
            data={"userId": "user123"},
        )
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
    # The worker and the edge started after the origin answered: neither failed to reach it.
    assert "JWKS fetch" not in output and "registration" not in output and "failed" not in output, output


@pytest.mark.parametrize(
    ("command", "setting"),
    [
        (["origin"], "origin.port"),
        (["edge"], "edge.port"),
        (["up"], "origin.port"),
        (["up"], "edge.port"),
    ],
)
def test_a_port_in_use_is_one_line_naming_the_setting(tmp_path: Path, command: list[str], setting: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:  # another process's listener, as far as mediaedge sees
        port = taken.getsockname()[1]
        env = {
            **_clean_env(),
            "MEDIAEDGE_DATA_DIR": str(tmp_path / "var"),
            "MEDIAEDGE_ORIGIN_PORT": str(free_port()),
            "MEDIAEDGE_EDGE_PORT": str(free_port()),
        }
        variable = "MEDIAEDGE_" + setting.replace(".", "_").upper()
        env[variable] = str(port)
        done = subprocess.run(
            [sys.executable, "-m", "mediaedge", *command], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert done.stderr == (
        f"mediaedge: {setting} {port}: 127.0.0.1:{port} is already in use by another process"
        f" (stop it, or choose another port with {variable})\n"
    )


def _children(pid: int) -> dict[int, str]:
    """The direct children of ``pid`` and their command lines."""
    found: dict[int, str] = {}
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            with contextlib.suppress(OSError):
                found[int(child)] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


def test_up_starts_worker_and_edge_only_once_the_origin_answers(tmp_path: Path) -> None:
    """Watches the processes `up` starts: the moment a worker or an edge process exists, the origin
    must already answer /healthz (a Python origin takes far longer to answer than `up` takes to start
    a process, so starting all three at once fails here every time)."""
    origin_port, edge_port = free_port(), free_port()
    env = {
        **_clean_env(),
        "MEDIAEDGE_DATA_DIR": str(tmp_path / "var"),
        "MEDIAEDGE_ORIGIN_PORT": str(origin_port),
        "MEDIAEDGE_EDGE_PORT": str(edge_port),
    }
    log = tmp_path / "up.log"
    proc = start_mediaedge(["up"], env, log)
    origin = f"http://127.0.0.1:{origin_port}"
    seen: dict[str, bool] = {}  # role -> origin answered when its process was first seen
    try:
        deadline = time.monotonic() + 60
        while len(seen) < 2:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"worker/edge never started: {seen}\n{log.read_text()}"
            for cmdline in _children(proc.pid).values():
                role = (cmdline.split() or [""])[-1]  # a process just forked has no command line yet
                if role in ("worker", "edge") and role not in seen:
                    try:
                        seen[role] = httpx.get(f"{origin}/healthz", timeout=1.0).status_code == 200
                    except httpx.TransportError:
                        seen[role] = False
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert seen == {"worker": True, "edge": True}, log.read_text()
