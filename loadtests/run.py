"""``make loadtest``: a local ``mediaedge up``, seeded, under headless locust; non-zero on any failure.

    python -m loadtests.run [--users 20] [--spawn-rate 5] [--duration 60] [--pace realtime|flat]
                            [--clip VIDEO]

Starts origin, worker and edge on free loopback ports in a temporary directory, uploads and
transcodes a clip (loadtests/seed.py), runs loadtests/locustfile.py for ``--duration`` seconds and
prints locust's summary (requests, failures, req/s, percentiles per request name). Everything is
stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from loadtests.seed import seed
from loadtests.up import mediaedge_up
from tests.fixtures.media import make_clip

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
CLIP_SECONDS = 60
EDGE_METRICS = ("mediaedge_edge_requests_total{", "mediaedge_edge_cache_total{")


def run(users: int, spawn_rate: float, duration: int, pace: str, clip: Path | None, workdir: Path) -> int:
    """Run the whole load test in ``workdir``; the locust exit code (non-zero on any failure)."""
    log = workdir / "mediaedge.log"
    with mediaedge_up(workdir / "var", log=log) as node:
        data = seed(node.origin, node.api_key, clip or make_clip(workdir / "clip.mp4", seconds=CLIP_SECONDS))
        seed_file = workdir / "seed.json"
        seed_file.write_text(json.dumps(data))
        print(f"seeded: origin {node.origin}, edge {node.edge}, stream {data['stream_id']}", flush=True)
        env = {**os.environ, "LOADTEST_SEED": str(seed_file), "LOADTEST_PACE": pace}
        cmd = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--only-summary",
            "-u",
            str(users),
            "-r",
            str(spawn_rate),
            "-t",
            f"{duration}s",
            "--loglevel",
            "WARNING",
        ]
        print(f"locust: {users} users for {duration} s, pace {pace}", flush=True)
        code = subprocess.run(cmd, env=env).returncode
        print("\nedge /metrics after the run:")
        print(
            "\n".join(
                line for line in httpx.get(f"{node.edge}/metrics").text.splitlines() if line.startswith(EDGE_METRICS)
            )
        )
    if code:
        print(f"\nlocust exited with {code}; mediaedge log (tail):\n{log.read_text()[-4000:]}")
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5.0)
    parser.add_argument("--duration", type=int, default=60, help="seconds")
    parser.add_argument("--pace", choices=("realtime", "flat"), default="realtime")
    parser.add_argument("--clip", type=Path, help=f"video to serve (default: a generated {CLIP_SECONDS} s clip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mediaedge-loadtest-") as tmp:
        sys.exit(run(args.users, args.spawn_rate, args.duration, args.pace, args.clip, Path(tmp)))


if __name__ == "__main__":
    main()
