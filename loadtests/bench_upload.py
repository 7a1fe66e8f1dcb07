"""Direct multipart upload of a 1 GiB file through a real origin, to local disk and to S3 (moto).

    python -m loadtests.bench_upload [--size-mib 1024]

Prints MB/s end to end (client → origin → backend) and the origin process's peak RSS growth.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx

from loadtests._procs import moto_server, rss_bytes, stack

MiB = 1024 * 1024
BOUNDARY = "benchboundary0d1e2f"


def body(size: int) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    block = bytes(range(256)) * (MiB // 256)
    for _ in range(size // MiB):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(origin: str, headers: dict[str, str], pid: int, size: int) -> tuple[float, int]:
    """Seconds for the upload and peak RSS growth of ``pid`` during it."""
    base = rss_bytes(pid)
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, rss_bytes(pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        r = httpx.post(
            f"{origin}/upload/direct-upload",
            content=body(size),
            timeout=600,
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    finally:
        done.set()
        sampler.join()
    r.raise_for_status()
    return time.perf_counter() - started, peak - base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mib", type=int, default=1024)
    size = ap.parse_args().size_mib * MiB
    tmp = Path(tempfile.mkdtemp(prefix="mediaedge-upload-"))
    print(f"direct upload of {size / MiB:.0f} MiB through the origin")
    try:
        with stack(tmp / "disk", "origin") as s:
            seconds, grown = upload(s.origin, s.headers, s.procs["origin"].pid, size)
            print(f"  local disk: {size / seconds / 1e6:7.1f} MB/s  ({seconds:.1f} s), RSS +{grown / MiB:.0f} MiB")
        with moto_server() as endpoint:
            boto3.client(
                "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
            ).create_bucket(Bucket="bench")
            env = {
                "MEDIAEDGE_CONFIG": str(_s3_config(tmp, endpoint)),
                "MEDIAEDGE_STORAGE_DEFAULT": "s3",
            }
            with stack(tmp / "s3", "origin", env=env) as s:
                seconds, grown = upload(s.origin, s.headers, s.procs["origin"].pid, size)
                print(f"  S3 (moto):  {size / seconds / 1e6:7.1f} MB/s  ({seconds:.1f} s), RSS +{grown / MiB:.0f} MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _s3_config(tmp: Path, endpoint: str) -> Path:
    path = tmp / "s3.toml"
    path.write_text(
        '[storage.backends.s3]\nkind = "s3"\nbucket = "bench"\n'
        f'endpoint_url = "{endpoint}"\naccess_key_id = "x"\nsecret_access_key = "x"\n'
    )
    return path


if __name__ == "__main__":
    sys.exit(main())
