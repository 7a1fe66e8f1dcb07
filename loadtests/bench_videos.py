"""The video objects API under load: a big upload in parts, and listing a large catalogue.

    python -m loadtests.bench_videos parts [--size-mib 2048] [--part-mib 50]
    python -m loadtests.bench_videos list [--videos 100000] [--backend sqlite postgresql] [--rounds 20] [--explain]

``parts``: a real origin process (local disk); one video created with ``/api/videos/create``, its
bytes sent with ``POST /api/videos/{id}/part`` in ``--part-mib`` parts (Content-Range + MD5, each body
streamed by the client), then ``complete`` joins them (the bytes are not a video, so it ends in
``MEDIA_UNREADABLE`` after the join and the probe, which is what is measured). Prints MB/s and the
origin's peak RSS growth during the parts and during the join.

``list``: ``--videos`` assets of one tenant (plus as many of another) written straight into a fresh
database (its planner statistics refreshed after, as the origin's hourly sweep does), then
``POST /api/videos`` answered in-process for the queries below, ``--rounds`` times each. Prints the
median and the 95th percentile answer time per query, in milliseconds, the median CPU time the
process spent on an answer (on a shared machine the least noisy figure; with SQLite it includes the
database's work, with PostgreSQL not the server's), and the total it counted. ``--explain`` also
prints, after each query's rounds, the plan of each statement the listing ran in its last round:
EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL (whose execution time is the server's
share, which the origin's CPU time leaves out).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from loadtests._procs import rss_bytes, stack
from mediaedge.settings import load_settings
from origin.app import create_app
from origin.catalogue.ids import new_asset_id
from origin.state import OriginState
from origin.store.schema import assets, now
from tests.fixtures.db import DEFAULT_PG_DSN, PG_DSN_ENV, fresh_pg_database

MiB = 1024 * 1024
BOUNDARY = "videopartboundary7f3a"
QUERIES: dict[str, dict[str, Any]] = {
    "newest 25": {},
    "page 100 of 25": {"offset": 2475},
    "title a-z, 100": {"sort_by": "title", "order_by": "asc", "limit": 100},
    "largest": {"sort_by": "size"},
    "recently updated": {"sort_by": "updated_at"},
    "status done": {"status": "done"},
    "tag filter": {"tags": ["tag7"]},
    "metadata filter": {"metadata": {"genre": "g3"}},
    "search": {"search": "lesson 4242"},
    "broad tag (all match)": {"tags": ["course"]},
    "tag + done, by title": {"tags": ["tag7"], "status": "done", "sort_by": "title", "order_by": "asc"},
    "metadata, largest": {"metadata": {"genre": "g3"}, "sort_by": "size"},
    "short search": {"search": "7"},
    "short search, none": {"search": "qz"},
}


# -- parts -------------------------------------------------------------------------------------------


def _part_bytes(index: int, size: int) -> Iterator[bytes]:
    block = (index.to_bytes(4, "big") + bytes(range(252))) * (MiB // 256)
    for _ in range(size // MiB):
        yield block
    if size % MiB:
        yield block[: size % MiB]


def _form(index: int, size: int, md5: str) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="index"\r\n\r\n{index}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="hash"\r\n\r\n{md5}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    yield from _part_bytes(index, size)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


class PeakRss:
    """Samples a process's RSS every 50 ms while the block runs; ``grown`` is the peak minus the start."""

    def __init__(self, pid: int) -> None:
        self.pid, self.base, self.peak = pid, rss_bytes(pid), 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample)

    def _sample(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> PeakRss:
        self.peak = self.base
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()

    @property
    def grown(self) -> int:
        return self.peak - self.base


def bench_parts(size: int, part: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="mediaedge-videos-"))
    count = -(-size // part)
    print(f"video upload of {size / MiB:.0f} MiB in {count} parts of {part / MiB:.0f} MiB through the origin")
    try:
        with stack(tmp / "disk", "origin") as s:
            headers = {"Authorization": f"Bearer {s.tenant['api_key']}"}
            with httpx.Client(base_url=s.origin, headers=headers, timeout=600) as api:
                created = api.post("/api/videos/create", json={"title": "big"})
                created.raise_for_status()
                video = created.json()["data"]["id"]
                sizes = [min(part, size - i * part) for i in range(count)]
                md5s = []
                for index, n in enumerate(sizes):
                    digest = hashlib.md5()
                    for chunk in _part_bytes(index, n):
                        digest.update(chunk)
                    md5s.append(digest.hexdigest())
                pid = s.procs["origin"].pid
                with PeakRss(pid) as upload_rss:
                    started = time.perf_counter()
                    for index, n in enumerate(sizes):
                        first = index * part
                        r = api.post(
                            f"/api/videos/{video}/part",
                            content=_form(index, n, md5s[index]),
                            headers={
                                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                                "Content-Range": f"bytes {first}-{first + n - 1}/{size}",
                            },
                        )
                        r.raise_for_status()
                    upload_seconds = time.perf_counter() - started
                with PeakRss(pid) as join_rss:
                    started = time.perf_counter()
                    completed = api.get(f"/api/videos/{video}/complete")
                    join_seconds = time.perf_counter() - started
                assert completed.json().get("code") == "MEDIA_UNREADABLE", completed.text
        print(
            f"  parts:    {size / upload_seconds / 1e6:7.1f} MB/s ({upload_seconds:.1f} s), "
            f"origin RSS +{upload_rss.grown / MiB:.0f} MiB at peak"
        )
        print(
            f"  complete: {size / join_seconds / 1e6:7.1f} MB/s joined and probed ({join_seconds:.1f} s), "
            f"origin RSS +{join_rss.grown / MiB:.0f} MiB at peak"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- list --------------------------------------------------------------------------------------------


async def _fill(state: OriginState, tenant_id: str, videos: int) -> None:
    statuses = ["ready"] * 8 + ["processing", "queued"]
    batch: list[dict[str, Any]] = []
    base = now() - videos
    for i in range(videos):
        stamp = base + i
        batch.append(
            {
                "id": new_asset_id(),
                "tenant_id": tenant_id,
                "kind": "video",
                "title": f"Lesson {i}",
                "description": f"part {i % 97}",
                "tags": [f"tag{i % 50}", "course"],
                "metadata": {"genre": f"g{i % 20}"},
                "is_public": True,
                "status": statuses[i % len(statuses)],
                "folder": "",
                "user_id": "",
                "mime": "video/mp4",
                "size": (i * 7919) % 10_000_000,
                "duration": 60.0,
                "source": "upload",
                "dialect": "videos",
                "extra": {},
                "progress": 100.0,
                "created_at": stamp,
                "updated_at": stamp + (i * 31) % 1000,
            }
        )
        if len(batch) == 5000 or i == videos - 1:
            async with state.store.transaction() as tx:
                await tx.execute(sa.insert(assets), batch)
            batch = []


def _record_listing_statements(state: OriginState) -> list[sa.Executable]:
    """The statements each ``store.assets.page`` call runs from now on, appended to the list returned."""
    seen: list[sa.Executable] = []
    db, page = state.store.db, state.store.assets.page
    real = db.execute

    async def recorded(statement: sa.Executable, *args: Any, **kwargs: Any) -> Any:
        seen.append(statement)
        return await real(statement, *args, **kwargs)

    async def recording_page(*args: Any, **kwargs: Any) -> Any:
        db.execute = recorded  # type: ignore[method-assign]
        try:
            return await page(*args, **kwargs)
        finally:
            del db.execute  # the method again

    state.store.assets.page = recording_page  # type: ignore[method-assign]
    return seen


async def _explain(state: OriginState, statements: list[sa.Executable]) -> None:
    """EXPLAIN QUERY PLAN (SQLite) or EXPLAIN ANALYZE (PostgreSQL: the server's own time) of each."""
    db = state.store.db
    prefix = "EXPLAIN (ANALYZE, TIMING OFF) " if db.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    for number, statement in enumerate(statements, 1):
        sql = str(statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
        async with db.engine.connect() as conn:
            plan = (await conn.exec_driver_sql(prefix + sql)).all()
        print(f"      statement {number}:")
        for row in plan:
            print(f"        {row[-1]}")


async def _bench_list(
    url: str, videos: int, rounds: int, data_dir: Path, explain: bool = False
) -> dict[str, tuple[float, float, float, int]]:
    settings = load_settings(environ={}, overrides={"data_dir": str(data_dir), "database": {"url": url}})
    state = await OriginState.open(settings)
    try:
        tenant, api_key = await state.store.tenants.create("bench", settings.storage.default)
        other, _ = await state.store.tenants.create("noise", settings.storage.default)
        for tenant_id in (tenant.id, other.id):
            await _fill(state, tenant_id, videos)
        await state.store.db.analyze()
        app = create_app(settings, state)
        app.state.origin = state
        headers = {"Authorization": f"Bearer {api_key}"}
        results = {}
        statements = _record_listing_statements(state)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as client:
            for name, body in QUERIES.items():
                times, cpu, total = [], [], 0
                for _ in range(rounds):
                    started, started_cpu = time.perf_counter(), time.process_time()
                    r = await client.post("/api/videos", headers=headers, json=body)
                    times.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
                    r.raise_for_status()
                    total = r.json()["data"]["total"]
                median, p95 = statistics.median(times), statistics.quantiles(times, n=20)[18]
                results[name] = (median, p95, statistics.median(cpu), total)
                if explain:
                    print(f"    {name}: the listing's statements")
                    await _explain(state, statements[-len(statements) // rounds :])
                statements.clear()
        return results
    finally:
        await state.close()


def bench_list(videos: int, backends: list[str], rounds: int, explain: bool = False) -> None:
    print(f"POST /api/videos over {videos} videos of the tenant (+{videos} of another), {rounds} rounds")
    for backend in backends:
        tmp = Path(tempfile.mkdtemp(prefix="mediaedge-videos-"))
        if explain:
            print(f"  {backend}, the plans:")
        try:
            if backend == "sqlite":
                results = asyncio.run(_bench_list(f"sqlite:///{tmp / 'db.sqlite'}", videos, rounds, tmp, explain))
            else:
                with fresh_pg_database(os.environ.get(PG_DSN_ENV, DEFAULT_PG_DSN)) as dsn:
                    results = asyncio.run(_bench_list(dsn, videos, rounds, tmp, explain))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"  {backend}:")
        for name, (median, p95, cpu, total) in results.items():
            print(
                f"    {name:22} median {median:6.1f} ms  p95 {p95:6.1f} ms  origin CPU {cpu:6.1f} ms  (total {total})"
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    parts = sub.add_parser("parts")
    parts.add_argument("--size-mib", type=int, default=2048)
    parts.add_argument("--part-mib", type=int, default=50)
    listing = sub.add_parser("list")
    listing.add_argument("--videos", type=int, default=100_000)
    listing.add_argument("--backend", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    listing.add_argument("--rounds", type=int, default=20)
    listing.add_argument("--explain", action="store_true", help="print each query's plans after its rounds")
    args = ap.parse_args()
    if args.what == "parts":
        bench_parts(args.size_mib * MiB, args.part_mib * MiB)
    else:
        bench_list(args.videos, args.backend, args.rounds, args.explain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
