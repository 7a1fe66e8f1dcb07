"""The edge over HTTP/3 (QUIC) beside HTTPS/1.1, on the same edge, the same objects, the same core.

    python -m loadtests.bench_http3 [--duration 10] [--concurrency 32] [--rounds 3]

Starts an origin and a lean edge with TLS (a self-signed certificate) and ``edge.http3_port``, pinned
to one core, uploads a 1 KiB object and a 1 MiB segment as signed files, warms both the TCP workers'
and the HTTP/3 process's caches, then runs on the other core, interleaved, ``--rounds`` times:

- wrk over HTTPS/1.1 (C, keep-alive, ``--concurrency`` connections): the edge's TLS ceiling;
- httpx over HTTPS/1.1 and aioquic over HTTP/3 (:mod:`tests.fixtures.h3client`), both Python asyncio
  clients with the same number of requests in flight (HTTP/3: 4 connections, the rest as streams).

The two Python clients are compared with each other (the ``h3/h1`` column): on one core a Python
client, not the edge, is the limit of both, so their ratio says what QUIC costs or saves per request
end to end, and wrk's row says what the edge itself reaches over TCP. Not a test: numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import ssl
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from loadtests._procs import stack
from loadtests.bench_edge import LOAD_CORE, start_edge, wrk
from tests.fixtures.h3client import h3_client
from tests.fixtures.servers import free_port
from tests.fixtures.tls import self_signed

H3_CONNECTIONS = 4

Load = Callable[[str, float, int], Awaitable[tuple[float, float]]]


async def _drive(fetch: Callable[[], Awaitable[int]], duration: float, concurrency: int) -> tuple[float, float]:
    """(requests/s, MB/s) of ``concurrency`` loops of ``fetch`` (which answers the body size) for
    ``duration`` seconds."""
    done = [0, 0]
    end = time.monotonic() + duration

    async def loop() -> None:
        while time.monotonic() < end:
            done[1] += await fetch()
            done[0] += 1

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    return done[0] / elapsed, done[1] / elapsed / 1e6


def h1_load(base: str, trust: ssl.SSLContext) -> Load:
    async def run(path: str, duration: float, concurrency: int) -> tuple[float, float]:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, verify=trust, limits=limits) as client:

            async def fetch() -> int:
                answer = await client.get(path)
                assert answer.status_code == 200, answer.status_code
                return len(answer.content)

            return await _drive(fetch, duration, concurrency)

    return run


def h3_load(port: int, cafile: Path) -> Load:
    async def run(path: str, duration: float, concurrency: int) -> tuple[float, float]:
        streams = max(1, concurrency // H3_CONNECTIONS)

        async def connection() -> tuple[float, float]:
            async with h3_client("127.0.0.1", port, cafile) as h3:

                async def fetch() -> int:
                    answer = await h3.get(path)
                    assert answer.status == 200, answer.status
                    return len(answer.body)

                return await _drive(fetch, duration, streams)

        results = await asyncio.gather(*(connection() for _ in range(H3_CONNECTIONS)))
        return sum(r for r, _ in results), sum(m for _, m in results)

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mediaedge-bench-h3-"))
    cert, key = self_signed(tmp)
    trust = ssl.create_default_context(cafile=str(cert))
    http3_port = free_port(socket.SOCK_DGRAM)
    tls = {
        "MEDIAEDGE_EDGE_TLS_CERT": str(cert),
        "MEDIAEDGE_EDGE_TLS_KEY": str(key),
        "MEDIAEDGE_EDGE_HTTP3_PORT": str(http3_port),
    }
    with stack(tmp / "var", "origin") as s:
        edge = start_edge(s, "lean", tmp / "edge-cache", extra=tls, verify=trust)
        loads = {"HTTP/1.1": h1_load(edge, trust), "HTTP/3": h3_load(http3_port, cert)}
        paths = {}
        with httpx.Client(timeout=60) as client:
            for label, size in (("1 KiB", 1024), ("1 MiB segment", 1024 * 1024)):
                up = client.post(
                    f"{s.origin}/upload/direct-upload",
                    headers=s.headers,
                    files={"file": (f"{size}.bin", os.urandom(size))},
                    data={"userId": "bench", "requireSignedUrl": "true"},
                ).json()
                signed = urlsplit(
                    client.post(
                        f"{s.origin}/auth/url-token", headers=s.headers, json={"url": up["url"], "expiresIn": "1h"}
                    ).json()["url"]
                )
                paths[label] = f"{signed.path}?{signed.query}" if signed.query else signed.path
                for load in loads.values():  # warm the TCP worker's and the HTTP/3 process's caches
                    asyncio.run(load(paths[label], 0.5, 2))
        os.sched_setaffinity(0, {LOAD_CORE})  # the Python clients run on the load core, like wrk
        print(f"median of {args.rounds} interleaved {args.duration} s runs, {args.concurrency} requests in flight")
        print(
            f"{'object':<16}{'wrk h1 req/s':>13}{'MB/s':>8}{'py h1 req/s':>13}{'MB/s':>8}"
            f"{'py h3 req/s':>13}{'MB/s':>8}{'h3/h1':>8}"
        )
        for label, path in paths.items():
            runs: dict[str, list[tuple[float, float]]] = {"wrk": [], **{name: [] for name in loads}}
            for _ in range(args.rounds):
                runs["wrk"].append(wrk(edge + path, args.duration, args.concurrency))
                for name, load in loads.items():
                    runs[name].append(asyncio.run(load(path, args.duration, args.concurrency)))
            (w, wm), (h1, h1m), (h3, h3m) = (
                (statistics.median(r for r, _ in rs), statistics.median(m for _, m in rs)) for rs in runs.values()
            )
            print(f"{label:<16}{w:>13.0f}{wm:>8.0f}{h1:>13.0f}{h1m:>8.0f}{h3:>13.0f}{h3m:>8.0f}{h3 / h1:>8.2f}")


if __name__ == "__main__":
    main()
