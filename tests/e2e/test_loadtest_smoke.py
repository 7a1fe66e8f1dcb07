"""A 20-second `make loadtest`: every locust user type against a real `mediaedge up`, no failure allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent.parent


def test_loadtest_smoke_has_no_failures(clip):
    cmd = [
        sys.executable,
        "-m",
        "loadtests.run",
        "--duration",
        "20",
        "--users",
        "8",
        "--spawn-rate",
        "4",
        "--clip",
        str(clip),
    ]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, f"{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    for user_request in ("hls segment", "mp4 range", "tus patch", "/auth/url-token"):
        assert user_request in run.stdout + run.stderr, f"no {user_request!r} requests were made"
