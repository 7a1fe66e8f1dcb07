"""The pull zones' upstream transport (:mod:`edge.cache.http11`) against httpx's own (httpcore):
keep-alive GETs per second through ``httpx.AsyncClient`` to a local upstream.

    python -m loadtests.bench_upstream_transport [--requests 5000] [--concurrency 10] [--rounds 3]
        [--bytes 1024]

The upstream is a raw asyncio HTTP/1.1 server in a process of its own (pinned to one core; the
client runs on the other) answering every request with a 200 of ``--bytes`` bytes. Each round sends
``--requests`` GETs over ``--concurrency`` keep-alive connections with each transport in turn and
reads every body; it prints each transport's median requests per second and their ratio.
Not a test: numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time

import httpx

from edge.cache.http11 import Http11Transport
from loadtests._procs import free_port

SERVER_CORE, LOAD_CORE = 0, 1


def _serve(port: int, size: int) -> None:
    answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: %d\r\n\r\n%s" % (
        size,
        b"x" * size,
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def _run(transport: httpx.AsyncBaseTransport, url: str, requests: int, concurrency: int) -> float:
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30) as client:
        await asyncio.gather(*(client.get("/warm") for _ in range(concurrency)))
        left = requests

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                response = await client.get("/obj")
                assert response.status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bytes", type=int, default=1024)
    args = parser.parse_args()
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, args.bytes), daemon=True)
    server.start()
    if (os.cpu_count() or 1) >= 2 and server.pid is not None:
        os.sched_setaffinity(server.pid, {SERVER_CORE})
        os.sched_setaffinity(0, {LOAD_CORE})
    url = f"http://127.0.0.1:{port}"
    results: dict[str, list[float]] = {"http11": [], "httpcore": []}

    async def rounds() -> None:
        deadline = time.monotonic() + 30
        while True:  # until the upstream listens
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        for _ in range(args.rounds):
            results["http11"].append(await _run(Http11Transport(), url, args.requests, args.concurrency))
            results["httpcore"].append(await _run(httpx.AsyncHTTPTransport(), url, args.requests, args.concurrency))

    try:
        asyncio.run(rounds())
    finally:
        server.terminate()
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, value in medians.items():
        print(f"{name:9s} {value:8.0f} req/s (median of {args.rounds}: {', '.join(f'{v:.0f}' for v in results[name])})")
    print(f"http11 / httpcore: {medians['http11'] / medians['httpcore']:.2f}")


if __name__ == "__main__":
    main()
