"""Upload throughput and memory of storage backends' ``write()``.

Streams a generated body (an async generator of 1 MiB chunks, 1 GiB by default) through ``write()`` of
the local-disk backend and of the S3 backend against a moto server this script starts (a separate
process, so its copy of the object does not count), and prints MiB/s and the growth of this process's
peak RSS during the write. Usage (from the repository root)::

    python -m loadtests.bench_storage [--size-mib 1024] [--part-size-mib 8] [--backends local,s3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator

from mediaedge_storage_local import LocalStorage
from mediaedge_storage_s3 import S3Storage

from loadtests._procs import moto_server
from mediaedge.storage import StorageBackend

MiB = 1024 * 1024
KEY = "bench/user/uploads/big.bin"


# -- memory ----------------------------------------------------------------------------------------


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Peak RSS over a block: the kernel's VmHWM after resetting it, or a 5 ms sampler as fallback."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._use_hwm = False

    def __enter__(self) -> PeakRss:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS (Linux >= 4.0)
            self._use_hwm = True
        except OSError:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        self.peak = rss()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc: object) -> None:
        if self._use_hwm:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak = max(self.peak, int(line.split()[1]) * 1024)
        else:
            self._stop.set()
            assert self._thread is not None
            self._thread.join()
            self.peak = max(self.peak, rss())

    @property
    def method(self) -> str:
        return "VmHWM" if self._use_hwm else "sampled"


# -- the benchmark ---------------------------------------------------------------------------------


async def body(size: int, block: bytes) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        chunk = block[: size - sent]
        sent += len(chunk)
        yield chunk


async def measure(name: str, backend: StorageBackend, size: int) -> None:
    block = os.urandom(MiB)
    await backend.write("bench/user/uploads/warmup.bin", body(MiB, block))  # client, pools, imports
    await backend.delete("bench/user/uploads/warmup.bin")
    before = rss()
    with PeakRss() as peak:
        started = time.perf_counter()
        info = await backend.write(KEY, body(size, block), "application/octet-stream")
        elapsed = time.perf_counter() - started
    assert info.size == size, (info.size, size)
    await backend.delete(KEY)
    print(
        f"{name:<6} {size / MiB:8.0f} MiB in {elapsed:6.2f} s = {size / MiB / elapsed:7.1f} MiB/s"
        f" ({size / 1e6 / elapsed:7.1f} MB/s); RSS before {before / MiB:6.1f} MiB,"
        f" peak {peak.peak / MiB:6.1f} MiB, growth {(peak.peak - before) / MiB:6.1f} MiB ({peak.method})",
        flush=True,
    )


async def bench_local(size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="mediaedge-bench-") as root:
        backend = LocalStorage(root)
        try:
            await measure("local", backend, size)
        finally:
            await backend.close()


async def bench_s3(size: int, part_size: int) -> None:
    with moto_server() as endpoint:
        backend = S3Storage.from_options(
            {
                "kind": "s3",
                "bucket": "bench",
                "endpoint_url": endpoint,
                "access_key_id": "testing",
                "secret_access_key": "testing",
                "addressing_style": "path",
                "part_size": part_size,
            }
        )
        try:
            client = await backend._s3()
            await client.create_bucket(Bucket="bench")
            await measure("s3", backend, size)
        finally:
            await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--part-size-mib", type=int, default=8)
    parser.add_argument("--backends", default="local,s3")
    args = parser.parse_args()
    size = args.size_mib * MiB
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, body {args.size_mib} MiB in 1 MiB chunks")
    if "local" in names:
        asyncio.run(bench_local(size))
    if "s3" in names:
        print(f"s3: moto server subprocess, part_size {args.part_size_mib} MiB")
        asyncio.run(bench_s3(size, args.part_size_mib * MiB))


if __name__ == "__main__":
    main()
