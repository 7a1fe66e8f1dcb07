"""TUS ingest vs a direct multipart upload through a real origin, and vs @tus/server, on loopback.

    python -m loadtests.bench_tus [--size-mib 1024] [--chunk-mib 5] [--runs 1]

Uploads one file (1 GiB of random bytes by default) three ways and prints MB/s (10^6 bytes/s) end to
end, best of ``--runs``:

- TUS to the origin (``python -m mediaedge origin``): POST /files, then PATCHes of ``--chunk-mib``;
  the time includes the final PATCH, i.e. the file's move into its bucket and its registration;
- the same file as one ``POST /upload/direct-upload`` (multipart, streamed);
- TUS to @tus/server + @tus/file-store (node, tests/js/tus_server.mjs), when node and
  ``npm ci --prefix tests/js`` are there, and the ratio mediaedge / @tus/server.

The servers run pinned to core 0 and this client to core 1 where taskset exists. The same small
HTTP/1.1 keep-alive TUS client drives both TUS servers. Note the origin fdatasyncs every batch before
recording an offset; @tus/file-store does not sync. Not a test: numbers only.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx

from loadtests._procs import free_port, pinned, stack, wait_http

MiB = 1024 * 1024
SERVER_CORE, CLIENT_CORE = 0, 1
TUS = {"Tus-Resumable": "1.0.0"}
BOUNDARY = "benchtusboundary5e6f"
JS_DIR = Path(__file__).resolve().parents[1] / "tests" / "js"
TARGET_MBPS, TARGET_RATIO = 300.0, 1.0


def make_source(path: Path, size: int) -> None:
    block = os.urandom(MiB)
    with path.open("wb") as f:
        for _ in range(size // MiB):
            f.write(block)
        f.write(block[: size % MiB])


def tus_upload(endpoint: str, headers: dict[str, str], path: Path, chunk: int) -> float:
    """Seconds to create the upload and PATCH the whole file, ``chunk`` bytes at a time."""
    size = path.stat().st_size
    with httpx.Client(timeout=300) as client, path.open("rb") as f:
        started = time.perf_counter()
        created = client.post(
            endpoint,
            headers={
                **headers,
                **TUS,
                "Upload-Length": str(size),
                "Upload-Metadata": "filename " + base64.b64encode(path.name.encode()).decode(),
            },
        )
        created.raise_for_status()
        url = urljoin(endpoint, created.headers["location"])
        offset = 0
        while offset < size:
            sent = client.patch(
                url,
                content=f.read(chunk),
                headers={
                    **headers,
                    **TUS,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
            )
            sent.raise_for_status()
            offset = int(sent.headers["upload-offset"])
        return time.perf_counter() - started


def direct_upload(origin: str, headers: dict[str, str], path: Path) -> float:
    """Seconds for one streamed multipart ``POST /upload/direct-upload`` of the file."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        with path.open("rb") as f:
            while block := f.read(MiB):
                yield block
        yield tail

    length = len(head) + path.stat().st_size + len(tail)
    started = time.perf_counter()
    response = httpx.post(
        f"{origin}/upload/direct-upload",
        content=body(),
        timeout=300,
        headers={
            **headers,
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(length),
        },
    )
    response.raise_for_status()
    return time.perf_counter() - started


def best(runs: int, upload: Callable[[], float]) -> float:
    """The fastest of ``runs`` uploads, each starting with no dirty pages left by the one before."""
    times = []
    for _ in range(runs):
        os.sync()
        times.append(upload())
    return min(times)


def tus_server(directory: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """@tus/server on a free port, or None without node or its npm packages."""
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@tus" / "server").is_dir():
        return None
    port = free_port()
    directory.mkdir(parents=True)
    proc = subprocess.Popen(
        pinned([node, str(JS_DIR / "tus_server.mjs"), str(port), str(directory)], SERVER_CORE),
        stdout=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/files")
    return proc, f"http://127.0.0.1:{port}/files"


def report(name: str, size: int, seconds: float) -> float:
    rate = size / seconds / 1e6
    print(f"  {name:<22} {rate:7.1f} MB/s  ({seconds:.2f} s)")
    return rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--chunk-mib", type=int, default=5)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    size, chunk = args.size_mib * MiB, args.chunk_mib * MiB
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {CLIENT_CORE})
    tmp = Path(tempfile.mkdtemp(prefix="mediaedge-bench-tus-"))
    source, warmup = tmp / "bench.bin", tmp / "warmup.bin"
    make_source(source, size)
    make_source(warmup, 16 * MiB)
    print(f"{size / MiB:.0f} MiB, TUS in {chunk / MiB:.0f} MiB chunks, loopback")
    try:
        with stack(tmp / "origin", env={"MEDIAEDGE_ORIGIN_WORKERS": "1"}) as s:
            s.start("origin", SERVER_CORE)
            endpoint = f"{s.origin}/files"
            tus_upload(endpoint, s.headers, warmup, chunk)
            tus_seconds = best(args.runs, lambda: tus_upload(endpoint, s.headers, source, chunk))
            ours = report("mediaedge TUS", size, tus_seconds)
            report("mediaedge direct", size, best(args.runs, lambda: direct_upload(s.origin, s.headers, source)))
        reference = tus_server(tmp / "tus-server")
        if reference is None:
            print("  @tus/server            skipped: needs node and `npm ci --prefix tests/js`")
            return 0 if ours >= TARGET_MBPS else 1
        proc, endpoint = reference
        try:
            tus_upload(endpoint, {}, warmup, chunk)
            theirs = report("@tus/server TUS", size, best(args.runs, lambda: tus_upload(endpoint, {}, source, chunk)))
        finally:
            proc.terminate()
            proc.wait(10)
        ratio = ours / theirs
        print(f"  mediaedge / @tus/server: {ratio:.2f}x")
        met = ours >= TARGET_MBPS and ratio >= TARGET_RATIO
        print(f"  targets (>= {TARGET_MBPS:.0f} MB/s, >= {TARGET_RATIO:.1f}x): {'met' if met else 'NOT met'}")
        return 0 if met else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
