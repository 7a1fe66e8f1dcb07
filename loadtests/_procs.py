"""Process helpers shared by the benchmark scripts: start mediaedge tiers, wait, measure, stop."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server subprocess on a free loopback port; always stopped."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("moto server did not start within 30 s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_http(url: str, timeout: float = 90.0, verify: ssl.SSLContext | bool = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0, verify=verify)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(url)


def pinned(cmd: list[str], core: int | None) -> list[str]:
    """Prefix ``cmd`` with taskset when available, so server and load generator use separate cores."""
    if core is None or not shutil.which("taskset") or (os.cpu_count() or 1) < 2:
        return cmd
    return ["taskset", "-c", str(core), *cmd]


def _family(pid: int) -> list[int]:
    """A process and its children (uvicorn workers)."""
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) and its children so far."""
    total = 0
    for p in _family(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """RSS of a process and its children (uvicorn workers)."""
    total = 0
    for p in _family(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


class Stack:
    """An origin (+ optional edge) of mediaedge on free loopback ports in ``data_dir``."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.origin_port, self.edge_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "MEDIAEDGE_DATA_DIR": str(data_dir),
            "MEDIAEDGE_ORIGIN_PORT": str(self.origin_port),
            "MEDIAEDGE_EDGE_PORT": str(self.edge_port),
            "MEDIAEDGE_EDGE_ORIGIN_URL": f"http://127.0.0.1:{self.origin_port}",
            **(env or {}),
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        created = subprocess.run(
            [sys.executable, "-m", "mediaedge", "tenant", "create", "bench", "--json"],
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.tenant = json.loads(created.stdout)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.origin_port}"

    @property
    def edge(self) -> str:
        return f"http://127.0.0.1:{self.edge_port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"API-Key": self.tenant["api_key"]}

    def start(self, role: str, core: int | None = None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            pinned([sys.executable, "-m", "mediaedge", role], core),
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs[role] = proc
        wait_http(f"{self.origin if role == 'origin' else self.edge}/healthz")
        return proc

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def stack(
    data_dir: Path, *roles: str, env: dict[str, str] | None = None, edge_core: int | None = None
) -> Iterator[Stack]:
    s = Stack(data_dir, env)
    try:
        for role in roles:
            s.start(role, edge_core if role == "edge" else None)
        yield s
    finally:
        s.stop()
