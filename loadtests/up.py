"""``mediaedge up`` (origin, worker, edge) on free loopback ports in a data directory; always stopped."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from loadtests._procs import free_port, wait_http


@dataclass(frozen=True)
class Node:
    """A running single-node mediaedge and the demo tenant's API key."""

    origin: str
    edge: str
    api_key: str
    data_dir: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"API-Key": self.api_key}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM ``mediaedge up`` (it stops its children), SIGKILL its process group if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def mediaedge_up(data_dir: Path, env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[Node]:
    """Run ``python -m mediaedge up`` in ``data_dir`` until the block ends; output goes to ``log``."""
    origin_port, edge_port = free_port(), free_port()
    origin = f"http://127.0.0.1:{origin_port}"
    cmd = [
        sys.executable,
        "-m",
        "mediaedge",
        "up",
        "--data-dir",
        str(data_dir),
        "--origin-port",
        str(origin_port),
        "--edge-port",
        str(edge_port),
    ]
    child_env = {**os.environ, "MEDIAEDGE_EDGE_ORIGIN_URL": origin, "MEDIAEDGE_DEMO_TENANT": "true", **(env or {})}
    with open(log or os.devnull, "ab") as out:
        proc = subprocess.Popen(cmd, env=child_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        edge = f"http://127.0.0.1:{edge_port}"
        wait_http(f"{origin}/healthz", timeout=60)
        wait_http(f"{edge}/healthz", timeout=60)
        if proc.poll() is not None:
            raise RuntimeError(f"mediaedge up exited with {proc.returncode}")
        tenant = json.loads((data_dir / "demo-tenant.json").read_text())
        yield Node(origin, edge, tenant["api_key"], data_dir)
    finally:
        _stop(proc)
