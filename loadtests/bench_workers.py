"""Transcode throughput with one worker process and with two, on the same clips.

    python -m loadtests.bench_workers [--clips 6] [--seconds 10]

An origin (PostgreSQL metadata DB at MEDIAEDGE_TEST_PG_DSN, default postgresql://postgres@127.0.0.1:5432/test,
in a throwaway database; objects on local disk) takes the uploads. For 1 and then 2 workers
(``jobs.concurrency = 1`` each, started and idle first) one batch of ``POST /streams/v1/create`` queues
a stream job per clip; the clock stops when every stream is ready. Prints jobs/min for each and the
ratio. Each worker's ffmpeg uses every core, so on a 2-core machine expect a ratio near 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from loadtests._procs import stack
from tests.fixtures.db import DEFAULT_PG_DSN, PG_DSN_ENV, fresh_pg_database
from tests.fixtures.media import make_clip

WORKER_START = 5.0  # seconds to let worker processes import and start polling before the clock starts


def upload(origin: str, headers: dict[str, str], clip: Path, name: str) -> str:
    """Upload ``clip`` as ``name``; returns its access URL."""
    with clip.open("rb") as f:
        r = httpx.post(f"{origin}/upload/direct-upload", headers=headers, files={"file": (name, f)}, timeout=120)
    r.raise_for_status()
    url: str = r.json()["url"]
    return url


def transcode_all(origin: str, headers: dict[str, str], urls: list[str]) -> float:
    """Queue one stream per URL and wait until all are ready; returns the seconds it took."""
    started = time.perf_counter()
    streams = [{"url": url, "meta": {"name": f"bench {n}"}} for n, url in enumerate(urls)]
    r = httpx.post(f"{origin}/streams/v1/create", headers=headers, json={"streams": streams}, timeout=60)
    r.raise_for_status()
    pending = set(r.json()["ids"])
    while pending:
        time.sleep(0.2)
        for stream_id in list(pending):
            status = httpx.get(f"{origin}/streams/v1/{stream_id}", headers=headers, timeout=10).json()["status"]
            if status == "failed":
                raise RuntimeError(f"stream {stream_id} failed")
            if status == "ready":
                pending.discard(stream_id)
    return time.perf_counter() - started


def run(workers: int, env: dict[str, str], origin: str, headers: dict[str, str], urls: list[str]) -> float:
    """Jobs per minute with ``workers`` worker processes."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mediaedge", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(workers)
    ]
    try:
        time.sleep(WORKER_START)
        seconds = transcode_all(origin, headers, urls)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    return len(urls) / seconds * 60


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=10, help="length of each clip")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mediaedge-workers-"))
    try:
        clip = make_clip(tmp / "clip.mp4", seconds=args.seconds)
        with fresh_pg_database(os.environ.get(PG_DSN_ENV, DEFAULT_PG_DSN)) as db_url:
            env = {
                "MEDIAEDGE_DATABASE_URL": db_url,
                "MEDIAEDGE_JOBS_CONCURRENCY": "1",
                "MEDIAEDGE_JOBS_POLL_INTERVAL": "0.2",
            }
            with stack(tmp / "data", "origin", env=env) as s:
                print(
                    f"{args.clips} stream jobs of a {args.seconds} s 640x360 clip, default ladder, "
                    f"{os.cpu_count()} cores"
                )
                rates = {}
                for workers in (1, 2):
                    urls = [upload(s.origin, s.headers, clip, f"w{workers}-{n}.mp4") for n in range(args.clips)]
                    rates[workers] = run(workers, s.env, s.origin, s.headers, urls)
                    print(f"  {workers} worker(s): {rates[workers]:6.1f} jobs/min")
                print(f"  ratio 2/1: {rates[2] / rates[1]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
