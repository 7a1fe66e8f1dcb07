"""The editor backend through a real origin and worker on loopback: chunked upload throughput and
thumbnail latency.

    python -m loadtests.bench_editor [--size-mib 512] [--chunk-mib 5] [--thumbs 20]

Registers a developer, opens a session, uploads a ``--size-mib`` MP4 (a 5 s clip padded with an MP4
``free`` box) with ``PUT /api/upload/media`` chunks of ``--chunk-mib`` and prints MB/s (10^6 bytes/s)
to the final 200 (bytes durable, file stored and probed); then, once the timeline strip is
prepared, the median and worst latency of ``--thumbs`` frame-accurate ``/api/clip_thumbnail`` calls
at random times, and of ``/api/clip_thumbnails`` of 20 from the prepared strip. Not a test: numbers only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from loadtests._procs import stack, wait_http
from tests.editor.conftest import make_luma_clip, pad_mp4

MiB = 1024 * 1024
TICKS = 10_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--chunk-mib", type=int, default=5)
    parser.add_argument("--thumbs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-editor-") as tmp:
        root = Path(tmp)
        source = pad_mp4(make_luma_clip(root / "clip.mp4"), root / "big.mp4", args.size_mib * MiB)
        size, chunk = source.stat().st_size, args.chunk_mib * MiB
        with stack(root / "var", "origin") as s:
            worker = subprocess.Popen([sys.executable, "-m", "mediaedge", "worker"], env=s.env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            try:
                wait_http(f"{s.origin}/healthz")
                with httpx.Client(base_url=s.origin, timeout=300) as client:
                    bearer = {"Authorization": f"Bearer {s.tenant['api_key']}"}
                    api_key = client.post("/api/developer", json={}, headers=bearer).json()["apiKey"]
                    client.headers["Authorization"] = client.post("/api/users", json={"apiKey": api_key}).json()["id"]
                    started = time.perf_counter()
                    upload_id = client.post("/api/upload/media", json={"size": size, "name": "big.mp4"}).json()["id"]
                    with source.open("rb") as f:
                        offset = 0
                        while offset < size:
                            data = f.read(chunk)
                            headers = {"Content-Range": f"bytes {offset}-{offset + len(data) - 1}/{size}"}
                            answer = client.put(
                                "/api/upload/media", params={"id": upload_id}, content=data, headers=headers
                            )
                            answer.raise_for_status()
                            offset += len(data)
                    elapsed = time.perf_counter() - started
                    print(f"chunked upload: {size / 1e6:.0f} MB in {args.chunk_mib} MiB chunks: "
                          f"{size / 1e6 / elapsed:.0f} MB/s ({elapsed:.2f} s)")  # fmt: skip
                    while client.get("/api/mediafile/status", params={"id": upload_id}).json()["status"] != "ready":
                        time.sleep(0.1)
                    latencies = []
                    for _ in range(args.thumbs):
                        at = random.randrange(0, 5 * TICKS)
                        t0 = time.perf_counter()
                        client.get("/api/clip_thumbnail", params={"id": upload_id, "time": at}).raise_for_status()
                        latencies.append((time.perf_counter() - t0) * 1000)
                    print(f"clip_thumbnail (frame-accurate, made now): median {statistics.median(latencies):.0f} ms, "
                          f"worst {max(latencies):.0f} ms over {args.thumbs}")  # fmt: skip
                    t0 = time.perf_counter()
                    params = {"id": upload_id, "start_time": 0, "step": TICKS // 4, "count": 20, "cached": "true"}
                    client.get("/api/clip_thumbnails", params=params).raise_for_status()
                    print(f"clip_thumbnails ×20 from the prepared strip: {(time.perf_counter() - t0) * 1000:.0f} ms")
            finally:
                worker.terminate()
                worker.wait(timeout=15)


if __name__ == "__main__":
    main()
