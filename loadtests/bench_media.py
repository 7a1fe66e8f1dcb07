"""The media API's SLOs against a real origin and worker, on SQLite and on PostgreSQL.

    python -m loadtests.bench_media [--users 50] [--seconds 60] [--pace 1] [--uploads 20]
                                    [--origin-workers 1] [--db sqlite|postgresql|both]

Per database, each request phase run twice — **closed loop** (every user calls again the moment its
answer arrives: a saturation test, whose latency is users ÷ throughput by Little's law) and **paced**
(every user starts a call every ``--pace`` seconds, as locust's ``constant_pacing`` does: 50 users at
1 s is 50 calls a second) — printing p50 / p95 / p99, the request rate and the origin's CPU time per
request (its processes' user + system time over the phase ÷ requests: the figure a shared machine
does not inflate), beside this client's own (one Python process: when its CPU per request times the
rate nears a core, the closed loop measures the client, not the origin):

1. ``POST /api/v1/media/upload-url``: ``--users`` concurrent users (each its own ``X-User-Id``) declare
   new files (a fresh sha256 each time: the insert path) for ``--seconds``. SLO p95 < 200 ms. The
   closed loop runs a third time with wrk as the client (when installed), so the origin alone is
   measured.
2. ``GET /api/v1/media/{id}/stream/hls/master/index.m3u8`` (the signed 302) of a ready asset, same
   users and duration. SLO p95 < 100 ms.
3. Transcode start: ``--uploads`` distinct 2 s clips uploaded (form + finalize) evenly over
   ``--seconds``; the time from finalize's answer until the asset shows ``transcoding`` (a worker
   took its stream job). SLO p95 < 30 s. One worker process (``jobs.concurrency`` 2).

The origin runs ``--origin-workers`` processes, each with a pool of 20 database connections kept open
(``database.pool_min`` = ``pool_max`` = 20). The per-user rate limit is raised for phases 1 and 2 (the
limiter still counts every request in the database), so the numbers are the endpoints' latency, not
429s. PostgreSQL: ``MEDIAEDGE_TEST_PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/test``); a
fresh database is made and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from loadtests._procs import Stack, cpu_seconds
from tests.fixtures.db import DEFAULT_PG_DSN, PG_DSN_ENV, fresh_pg_database
from tests.fixtures.media import make_clip

SLO_MS = {"upload-url": 200.0, "stream-url": 100.0, "transcode-start": 30_000.0}


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    return at(0.50), at(0.95), at(0.99)


def report(name: str, samples_ms: list[float], errors: int, seconds: float, how: str = "") -> dict[str, Any]:
    p50, p95, p99 = percentiles(samples_ms)
    return report_line(name, how, len(samples_ms), len(samples_ms) / seconds, errors, p50, p95, p99)


def report_line(
    name: str, how: str, n: int, rate: float, errors: int, p50: float, p95: float, p99: float
) -> dict[str, Any]:
    """Print one phase's line against its SLO; the figures as a dict."""
    slo = SLO_MS[name]
    verdict = "meets" if p95 < slo else "MISSES"
    print(
        f"  {name:16s} {how:40s} n={n:6d} ({rate:7.1f}/s) errors={errors:4d}  "
        f"p50={p50:9.1f} ms  p95={p95:9.1f} ms  p99={p99:9.1f} ms   {verdict} p95 < {slo:g} ms",
        flush=True,
    )
    return {"n": n, "p50": p50, "p95": p95, "p99": p99, "errors": errors}


class Client:
    def __init__(self, origin: str, api_key: str) -> None:
        self.origin = origin
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.http = httpx.AsyncClient(
            base_url=origin, timeout=60.0, limits=httpx.Limits(max_connections=200, max_keepalive_connections=200)
        )

    async def upload(self, data: bytes, name: str) -> tuple[str, float]:
        """Declare, post the form, finalize; the asset id and when finalize answered (monotonic)."""
        declared = await self.http.post(
            "/api/v1/media/upload-url",
            headers=self.headers,
            json={
                "sha256": hashlib.sha256(data).hexdigest(),
                "sizeBytes": len(data),
                "mime": "video/mp4",
                "filename": name,
            },
        )
        declared.raise_for_status()
        ticket = declared.json()["data"]
        path = urlsplit(ticket["uploadUrl"]).path
        posted = await self.http.post(path, data=ticket["uploadFields"], files={"file": (name, data, "video/mp4")})
        posted.raise_for_status()
        finalized = await self.http.post(
            f"/api/v1/media/{ticket['assetId']}/finalize", headers=self.headers, json={"etag": posted.headers["etag"]}
        )
        finalized.raise_for_status()
        return ticket["assetId"], time.monotonic()

    async def status(self, asset_id: str) -> str:
        response = await self.http.get(f"/api/v1/media/{asset_id}", headers=self.headers)
        response.raise_for_status()
        return str(response.json()["data"]["status"])

    async def wait_for(self, asset_id: str, statuses: set[str], timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = await self.status(asset_id)
            if status in statuses:
                return time.monotonic()
            if status in ("failed", "quarantined"):
                raise RuntimeError(f"{asset_id} is {status}")
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{asset_id} did not reach {statuses} within {timeout:g} s")


FAILURES: Counter[str] = Counter()


async def users_calling(seconds: float, users: int, request: Any, pace: float = 0.0) -> tuple[list[float], int]:
    """``users`` tasks calling ``request(user)`` for ``seconds``, each starting a call every ``pace``
    seconds (0: the moment the last answered); latencies (ms) and errors (what they were is counted in
    :data:`FAILURES`)."""
    samples: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def user(index: int) -> None:
        nonlocal errors
        if pace:  # users spread over the first period, not all at once
            await asyncio.sleep(pace * index / users)
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                ok = await request(index)
            except httpx.HTTPError as exc:
                FAILURES[type(exc).__name__] += 1
                ok = False
            elapsed = time.perf_counter() - started
            if ok:
                samples.append(elapsed * 1000)
            else:
                errors += 1
            if pace > elapsed:
                await asyncio.sleep(pace - elapsed)

    await asyncio.gather(*(user(i) for i in range(users)))
    return samples, errors


def origin_cpu(stack: Stack) -> float:
    return cpu_seconds(stack.procs["origin"].pid)


async def request_phase(
    name: str, stack: Stack, args: argparse.Namespace, request: Any, results: dict[str, Any]
) -> None:
    """``request`` by ``--users`` users closed-loop, then paced; both reported."""
    for mode, pace in (("closed", 0.0), (f"paced {args.pace:g} s", args.pace)):
        cpu_before, client_before = origin_cpu(stack), time.process_time()
        samples, errors = await users_calling(args.seconds, args.users, request, pace)
        calls = max(1, len(samples) + errors)
        cpu_ms = (origin_cpu(stack) - cpu_before) * 1000 / calls
        client_ms = (time.process_time() - client_before) * 1000 / calls
        how = f"{mode}, CPU {cpu_ms:.1f} ms (client {client_ms:.1f})"
        results[f"{name}, {mode}"] = report(name, samples, errors, args.seconds, how)


#: wrk's script for the upload URL closed loop: a fresh sha256 per call, users spread over X-User-Id.
WRK_UPLOAD_URL = """
local hex, counter = "0123456789abcdef", 0
request = function()
  counter = counter + 1
  local digits = {}
  for i = 1, 64 do local r = math.random(1, 16); digits[i] = hex:sub(r, r) end
  local body = '{"sha256":"' .. table.concat(digits) .. '","sizeBytes":1000000,"mime":"video/mp4","filename":"b.mp4"}'
  return wrk.format("POST", "/api/v1/media/upload-url", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY"), ["X-User-Id"] = "user-" .. (counter % USERS)}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("wrk %d %d %d %d %d %d\\n", summary.requests, summary.duration, summary.errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def wrk_upload_url(stack: Stack, args: argparse.Namespace, results: dict[str, Any]) -> None:
    """The upload URL closed loop again with wrk as the client (C, a fraction of the CPU of this
    one), so the origin alone is measured; skipped without wrk."""
    if not shutil.which("wrk"):
        print("  upload-url       (wrk not installed: no wrk closed loop)", flush=True)
        return
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_UPLOAD_URL.replace("USERS", str(args.users)))
        script.flush()
        cpu_before = origin_cpu(stack)
        run = subprocess.run(
            ["wrk", "-t1", f"-c{args.users}", f"-d{args.seconds:g}s", "-s", script.name, stack.origin],
            env={**os.environ, "BENCH_KEY": stack.tenant["api_key"]},
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(line for line in run.stdout.splitlines() if line.startswith("wrk "))
    requests, duration_us, failed, p50, p95, p99 = map(int, line.split()[1:])
    cpu_ms = (origin_cpu(stack) - cpu_before) * 1000 / max(1, requests)
    rate = requests / (duration_us / 1e6)
    results["upload-url, closed, wrk"] = report_line(
        "upload-url", f"closed, wrk, CPU {cpu_ms:.1f} ms", requests, rate, failed, p50 / 1000, p95 / 1000, p99 / 1000
    )


async def run_phases(stack: Stack, args: argparse.Namespace, clips: list[bytes]) -> dict[str, Any]:
    client = Client(stack.origin, stack.tenant["api_key"])
    results: dict[str, Any] = {}
    try:
        seed_id, _ = await client.upload(clips[0], "seed.mp4")
        await client.wait_for(seed_id, {"ready"}, 300)

        async def declare(user: int) -> bool:
            response = await client.http.post(
                "/api/v1/media/upload-url",
                headers={**client.headers, "X-User-Id": f"user-{user}"},
                json={
                    "sha256": secrets.token_hex(32),
                    "sizeBytes": 1_000_000,
                    "mime": "video/mp4",
                    "filename": "bench.mp4",
                },
            )
            if response.status_code != 201:
                FAILURES[f"upload-url {response.status_code}"] += 1
            return response.status_code == 201

        await request_phase("upload-url", stack, args, declare, results)
        await asyncio.to_thread(wrk_upload_url, stack, args, results)

        async def stream(user: int) -> bool:
            response = await client.http.get(
                f"/api/v1/media/{seed_id}/stream/hls/master/index.m3u8",
                headers={**client.headers, "X-User-Id": f"user-{user}"},
            )
            if response.status_code != 302:
                FAILURES[f"stream-url {response.status_code}"] += 1
            return response.status_code == 302

        await request_phase("stream-url", stack, args, stream, results)

        gap = args.seconds / max(1, args.uploads)
        waits: list[asyncio.Task[float]] = []
        errors = 0
        for index, data in enumerate(clips[1 : args.uploads + 1]):
            began = time.monotonic()
            try:
                asset_id, finalized_at = await client.upload(data, f"clip-{index}.mp4")
            except httpx.HTTPError:
                errors += 1
                continue

            async def started(asset_id: str = asset_id, finalized_at: float = finalized_at) -> float:
                seen = await client.wait_for(asset_id, {"transcoding", "ready"}, 600)
                return (seen - finalized_at) * 1000

            waits.append(asyncio.create_task(started()))
            await asyncio.sleep(max(0.0, gap - (time.monotonic() - began)))
        samples = []
        for task in waits:
            try:
                samples.append(await task)
            except (TimeoutError, RuntimeError):
                errors += 1
        results["transcode-start"] = report("transcode-start", samples, errors, args.seconds)
        if FAILURES:
            print(f"  failures: {dict(FAILURES)}", flush=True)
            FAILURES.clear()
    finally:
        await client.http.aclose()
    return results


@contextlib.contextmanager
def database(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    with fresh_pg_database(os.environ.get(PG_DSN_ENV, DEFAULT_PG_DSN)) as url:
        yield url


def bench(kind: str, args: argparse.Namespace, clips: list[bytes]) -> dict[str, Any]:
    print(
        f"{kind}: {args.users} users, {args.seconds:g} s per phase, {args.uploads} uploads, "
        f"{args.origin_workers} origin process(es)",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp, database(kind) as url:
        env = {
            "MEDIAEDGE_MEDIA_UPLOAD_URL_RATE": "100000000",
            "MEDIAEDGE_PLUGINS_FFMPEG_PRESET": "ultrafast",
            "MEDIAEDGE_JOBS_POLL_INTERVAL": "0.2",
            "MEDIAEDGE_DATABASE_POOL_MIN": "20",  # a pool that keeps its connections (overflow ones are closed)
            "MEDIAEDGE_DATABASE_POOL_MAX": "20",
            "MEDIAEDGE_ORIGIN_WORKERS": str(args.origin_workers),
        }
        if url:
            env["MEDIAEDGE_DATABASE_URL"] = url
        stack = Stack(Path(tmp), env)
        worker: subprocess.Popen[bytes] | None = None
        try:
            stack.start("origin")
            with (Path(tmp) / "worker.log").open("wb") as log:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "mediaedge", "worker"], env=stack.env, stdout=log, stderr=log
                )
            try:
                return asyncio.run(run_phases(stack, args, clips))
            except (TimeoutError, RuntimeError):
                print((Path(tmp) / "worker.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(30)
            stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pace", type=float, default=1.0, help="seconds between a paced user's calls")
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--origin-workers", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-media-clips-") as tmp:
        clips = [
            make_clip(Path(tmp) / f"c{i}.mp4", seconds=2, frequency=300 + 10 * i).read_bytes()
            for i in range(args.uploads + 1)
        ]
        for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
            bench(kind, args, clips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
