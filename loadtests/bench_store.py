"""Metadata-store write throughput on PostgreSQL with 1 and 4 origin processes.

    python -m loadtests.bench_store [--seconds 5] [--tasks 8] [--processes 1 4] [--serialised]

Each process opens the store as an origin does (its own connection pool) and runs ``--tasks``
coroutines, in a throwaway database at MEDIAEDGE_TEST_PG_DSN (default
postgresql://postgres@127.0.0.1:5432/test):

- **files registered**: what an upload writes, reserve the name (an INSERT racing on the key), then
  mark it ready and queue its webhook in one transaction, for ``--seconds``;
- **jobs claimed**: claim (``FOR UPDATE SKIP LOCKED``) and finish jobs from a queue filled beforehand,
  until the clock runs out.

Prints writes/s for each and the scaling from the first process count to the others.
``--serialised`` makes every write transaction first take one cluster-wide advisory lock, as the
store did before, to compare with.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import sqlalchemy as sa

from origin.store import FileMeta, Store, open_store, schema
from origin.store.db import Conn, Database
from origin.store.schema import now
from origin.store.webhooks import insert_delivery
from tests.fixtures.db import DEFAULT_PG_DSN, PG_DSN_ENV, fresh_pg_database

KIND = "bench.noop"
#: The lock every PostgreSQL transaction of the store took before (``--serialised``).
OLD_TRANSACTION_LOCK = 0x6D65_6400
META = FileMeta(size=1_000_000, etag="e", mime="video/mp4", duration=10.0, width=640, height=360)


def serialise(db: Database) -> None:
    """Make ``db``'s write transactions take the old cluster-wide lock first."""
    plain = db.transaction

    @contextlib.asynccontextmanager
    async def locked() -> AsyncIterator[Conn]:
        async with plain() as tx:
            await tx.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": OLD_TRANSACTION_LOCK})
            yield tx

    db.transaction = locked  # type: ignore[method-assign]


async def register_files(store: Store, tenant_id: str, worker: str, deadline: float) -> int:
    done = 0
    while time.monotonic() < deadline:
        record = await store.files.reserve(
            tenant_id, "default", "bench", worker, f"clip{done}.mp4", require_signed=False, source="direct"
        )
        async with store.transaction() as tx:
            await store.files.complete(record.id, META, tx)
            await insert_delivery(tx, tenant_id, "upload", '{"eventType": "upload"}', 5)
        done += 1
    return done


async def claim_jobs(store: Store, _tenant_id: str, worker: str, deadline: float) -> int:
    done = 0
    while time.monotonic() < deadline:
        job = await store.jobs.claim([KIND], worker, 60)
        if job is None:
            raise RuntimeError("the queue ran dry: queue more jobs (--jobs)")
        await store.jobs.finish(job.id, worker, {"ok": True})
        done += 1
    return done


Task = Callable[[Store, str, str, float], Coroutine[Any, Any, int]]
TASKS: dict[str, Task] = {"files registered": register_files, "jobs claimed": claim_jobs}


async def _process(url: str, what: str, tenant_id: str, tasks: int, start: float, seconds: float, old: bool) -> int:
    store = await open_store(url, migrate_schema=False, pool_min=tasks, pool_max=tasks)
    if old:
        serialise(store.db)
    try:
        await asyncio.sleep(max(start - time.time(), 0))
        deadline = time.monotonic() + seconds
        run = TASKS[what]
        counts = await asyncio.gather(*(run(store, tenant_id, f"{os.getpid()}-{n}", deadline) for n in range(tasks)))
        return sum(counts)
    finally:
        await store.close()


def process_main(args: tuple[str, str, str, int, float, float, bool], results: Any) -> None:
    results.put(asyncio.run(_process(*args)))


async def prepare(url: str, jobs: int) -> str:
    store = await open_store(url)
    try:
        tenant, _ = await store.tenants.create("bench", "local")
        at = now()
        queued = {
            "kind": KIND,
            "tenant_id": tenant.id,
            "payload": {"n": 1},
            "status": "queued",
            "attempt": 0,
            "max_attempts": 4,
            "run_after": at,
            "created_at": at,
            "updated_at": at,
        }
        for first in range(0, jobs, 5000):
            rows = [{**queued, "id": secrets.token_hex(12)} for _ in range(min(5000, jobs - first))]
            async with store.transaction() as tx:
                await tx.execute(sa.insert(schema.jobs), rows)
        return tenant.id
    finally:
        await store.close()


def measure(url: str, what: str, processes: int, tasks: int, seconds: float, jobs: int, old: bool) -> float:
    """Writes/s of ``what`` with ``processes`` processes in a fresh store."""
    tenant_id = asyncio.run(prepare(url, jobs if what == "jobs claimed" else 0))
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start = time.time() + 3.0  # every process has imported and connected by then
    procs = [
        ctx.Process(target=process_main, args=((url, what, tenant_id, tasks, start, seconds, old), results))
        for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    total = sum(results.get(timeout=seconds + 60) for _ in procs)
    for proc in procs:
        proc.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tasks", type=int, default=8, help="concurrent coroutines per process")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--jobs", type=int, default=4000, help="jobs queued before the claim run")
    parser.add_argument("--serialised", action="store_true", help="take the old cluster-wide lock per transaction")
    args = parser.parse_args()
    admin = os.environ.get(PG_DSN_ENV, DEFAULT_PG_DSN)
    mode = "with the old cluster-wide lock" if args.serialised else "row locks / SKIP LOCKED only"
    print(f"PostgreSQL store, {args.tasks} tasks per process, {args.seconds:g} s per run, {mode}")
    for what in TASKS:
        rates = []
        for processes in args.processes:
            with fresh_pg_database(admin) as url:
                rate = measure(url, what, processes, args.tasks, args.seconds, args.jobs, args.serialised)
            rates.append(rate)
            scaling = f"  ×{rate / rates[0]:.2f}" if len(rates) > 1 else ""
            print(f"{what:<17} {processes} process(es): {rate:8.0f} /s{scaling}")


if __name__ == "__main__":
    main()
