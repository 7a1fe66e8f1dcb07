"""The uploads API (``POST /api/client/v1/uploads``) against a real origin and worker.

    python -m loadtests.bench_uploads_api [--count 20] [--big-mib 512]

Prints the time to the 202 answer (p50/p95 over ``--count`` uploads of a 10 s 640x360 clip: body
streamed to disk, probed, stored, asset and transcode job committed), the time from the 202 to status
6 (completed: the worker's ffmpeg ladder, 360p + 240p + AAC) for one clip, and the origin's RSS growth
while a ``--big-mib`` MiB MPEG-TS video (the clip's TS repeated, streamed from memory) is uploaded.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from loadtests._procs import rss_bytes, stack
from tests.fixtures.media import make_clip

MiB = 1024 * 1024
UPLOADS = "/api/client/v1/uploads"
BOUNDARY = "benchboundary5a6b7c"


def big_body(chunk: bytes, size: int) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="folder"\r\n\r\nroot/bench\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="video"; filename="big.ts"\r\n'
        "Content-Type: video/mp2t\r\n\r\n"
    ).encode()
    for _ in range(max(1, size // len(chunk))):
        yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--big-mib", type=int, default=512)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mediaedge-uploads-api-"))
    try:
        clip = make_clip(tmp / "clip.mp4", container="mp4").read_bytes()
        ts = make_clip(tmp / "clip.ts", container="mpegts").read_bytes()
        env = {"MEDIAEDGE_PLUGINS_FFMPEG_PRESET": "ultrafast", "MEDIAEDGE_JOBS_POLL_INTERVAL": "0.05"}
        with stack(tmp / "var", "origin", env=env) as s:
            bearer = {"Authorization": f"Bearer {s.tenant['api_key']}"}
            with httpx.Client(base_url=s.origin, headers=bearer, timeout=600) as http:
                accepted = []
                for i in range(args.count):
                    started = time.perf_counter()
                    r = http.post(
                        UPLOADS, files={"video": (f"clip{i}.mp4", clip, "video/mp4")}, data={"folder": "root/bench"}
                    )
                    accepted.append(time.perf_counter() - started)
                    assert r.status_code == 202, r.text
                q = statistics.quantiles(accepted, n=20)
                print(
                    f"202 answer for a {len(clip) / MiB:.1f} MiB clip, {args.count} uploads: "
                    f"p50 {statistics.median(accepted) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms"
                )

                worker = subprocess.Popen(
                    [sys.executable, "-m", "mediaedge", "worker"],
                    env={**s.env, "MEDIAEDGE_JOBS_CONCURRENCY": "1"},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    started = time.perf_counter()
                    r = http.post(
                        UPLOADS, files={"video": ("timed.mp4", clip, "video/mp4")}, data={"folder": "root/bench"}
                    )
                    upload_id = r.json()["data"]["id"]
                    while (status := http.get(f"{UPLOADS}/{upload_id}").json()["data"]["status"]) not in (6, 7):
                        time.sleep(0.05)
                    print(
                        f"202 → {status} ({'completed' if status == 6 else 'failed'}) for the 10 s clip with "
                        f"{args.count} clips queued before it: {time.perf_counter() - started:.1f} s "
                        f"(the worker takes the oldest jobs first)"
                    )
                finally:
                    worker.terminate()
                    worker.wait(timeout=30)

                pid = s.procs["origin"].pid
                base = peak = rss_bytes(pid)
                done = threading.Event()

                def sample() -> None:
                    nonlocal peak
                    while not done.wait(0.05):
                        peak = max(peak, rss_bytes(pid))

                sampler = threading.Thread(target=sample)
                sampler.start()
                started = time.perf_counter()
                try:
                    r = http.post(
                        UPLOADS,
                        content=big_body(ts, args.big_mib * MiB),
                        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                    )
                finally:
                    done.set()
                    sampler.join()
                seconds = time.perf_counter() - started
                assert r.status_code == 202, r.text
                rate = args.big_mib * MiB / seconds / 1e6
                print(
                    f"{args.big_mib} MiB upload: 202 after {seconds:.1f} s ({rate:.0f} MB/s), "
                    f"origin RSS +{(peak - base) / MiB:.0f} MiB"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
