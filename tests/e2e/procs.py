"""Start ``python -m mediaedge <role>`` for an end-to-end test, wait until it answers ``/healthz``, stop it."""

from __future__ import annotations

import contextlib
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.origin_server import OriginProcess
from tests.fixtures.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def start_mediaedge(args: list[str], env: dict[str, str], log: Path, **popen: Any) -> subprocess.Popen[bytes]:
    """``python -m mediaedge *args`` from the repository root, stdout and stderr appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "mediaedge", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, **popen
        )


def wait_healthy(
    url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90.0, verify: ssl.SSLContext | bool = True
) -> None:
    """Wait until ``{url}/healthz`` answers 200; fails with the log's tail if ``proc`` exits first or
    ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited with {proc.returncode}:\n{_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=1.0, verify=verify).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url}/healthz did not answer within {timeout} s:\n{_tail(log)}")
        time.sleep(0.05)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def running_edge(
    origin: OriginProcess,
    env: dict[str, str],
    log: Path,
    scheme: str = "http",
    verify: ssl.SSLContext | bool = True,
) -> Iterator[str]:
    """An edge process in front of ``origin`` (sharing its data dir, so its edge secret) on a free
    port, with the extra settings ``env``; yields its base URL once it is healthy, then stops it."""
    with running_edge_process(origin, env, log, scheme, verify) as (url, _):
        yield url


@contextlib.contextmanager
def running_edge_process(
    origin: OriginProcess,
    env: dict[str, str],
    log: Path,
    scheme: str = "http",
    verify: ssl.SSLContext | bool = True,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """:func:`running_edge`, yielding the process too."""
    port = free_port()
    proc = start_mediaedge(
        ["edge"],
        {
            **os.environ,
            "MEDIAEDGE_DATA_DIR": str(origin.data_dir),
            "MEDIAEDGE_EDGE_PORT": str(port),
            "MEDIAEDGE_EDGE_ORIGIN_URL": origin.url,
            **env,
        },
        log,
    )
    url = f"{scheme}://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log, verify=verify)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)
