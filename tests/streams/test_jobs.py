"""The durable job queue: enqueue in a transaction, leases, fairness, retries, failure, the worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from origin.jobs import Job, JobKind, PermanentJobError, enqueue, job_kind, register_job
from origin.state import OriginState
from origin.store import Store
from origin.store.db import Conn
from origin.store.schema import jobs
from origin.worker import Worker, run_worker
from tests.fixtures.origin import make_settings
from tests.streams.conftest import FAST, drain

pytestmark = pytest.mark.anyio

calls: dict[str, list[Any]] = {}


async def _echo(state: OriginState, job: Job) -> dict[str, Any]:
    calls.setdefault(job.id, []).append(job.attempt)
    return {"echo": job.payload}


async def _flaky(state: OriginState, job: Job) -> None:
    calls.setdefault(job.id, []).append(job.attempt)
    if job.attempt < job.payload["succeed_on"]:
        raise RuntimeError(f"boom {job.attempt}")


async def _broken(state: OriginState, job: Job) -> None:
    raise PermanentJobError("the input is unusable")


async def _slow(state: OriginState, job: Job) -> dict[str, Any]:
    started = time.monotonic()
    await asyncio.sleep(job.payload["seconds"])
    return {"slept": time.monotonic() - started}


async def _record_failure(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    status = (await tx.execute(select(jobs.c.status).where(jobs.c.id == job.id))).scalar()
    calls.setdefault(job.id, []).append(("on_failed", error, status))


register_job("test.echo", _echo)
register_job("test.flaky", _flaky, on_failed=_record_failure, backoff=(5, 10), max_attempts=3)
register_job("test.broken", _broken, on_failed=_record_failure)
register_job("test.slow", _slow)


@pytest.fixture
async def state(tmp_path: Path, db_url: str) -> AsyncIterator[OriginState]:
    """An origin on SQLite and on PostgreSQL (``db_url`` is parametrised); other tests use SQLite only."""
    opened = await OriginState.open(make_settings(tmp_path / "var", database={"url": db_url}, **FAST))
    try:
        yield opened
    finally:
        await opened.close()


async def queue(state: OriginState, kind: str, tenant: str = "t1", **payload: Any) -> str:
    async with state.store.transaction() as tx:
        return await enqueue(tx, kind, tenant, payload)


async def statuses(state: OriginState, job_ids: list[str]) -> set[str]:
    return {job.status for job in [await state.store.jobs.get(j) for j in job_ids] if job}


async def test_a_job_exists_only_if_the_enqueuing_transaction_commits(origin_state: OriginState):
    with pytest.raises(RuntimeError):
        async with origin_state.store.transaction() as tx:
            doomed = await enqueue(tx, "test.echo", "t1", {"n": 1})
            raise RuntimeError("the state change failed")
    assert await origin_state.store.jobs.get(doomed) is None
    job_id = await queue(origin_state, "test.flaky", succeed_on=1)
    job = await origin_state.store.jobs.get(job_id)
    assert job is not None
    assert (job.status, job.attempt, job.max_attempts, job.payload) == ("queued", 0, 3, {"succeed_on": 1})


async def test_a_job_runs_once_and_keeps_its_result(origin_state: OriginState):
    job_id = await queue(origin_state, "test.echo", n=7)
    assert await drain(origin_state) == 1
    job = await origin_state.store.jobs.get(job_id)
    assert job is not None
    assert (job.status, job.attempt, job.result, job.last_error) == ("succeeded", 1, {"echo": {"n": 7}}, None)
    assert calls[job_id] == [1]


async def test_failures_are_retried_then_the_job_fails_with_its_reason(state: OriginState):
    recovers = await queue(state, "test.flaky", succeed_on=2)
    gives_up = await queue(state, "test.flaky", succeed_on=99)
    await drain(state)  # backoff_scale = 0: retries are due at once
    assert calls[recovers] == [1, 2]
    assert (await state.store.jobs.get(recovers)).status == "succeeded"  # type: ignore[union-attr]
    job = await state.store.jobs.get(gives_up)
    assert job is not None
    assert (job.status, job.attempt, job.last_error) == ("failed", 3, "boom 3")
    assert calls[gives_up] == [1, 2, 3, ("on_failed", "boom 3", "failed")]  # hook ran in the failing transaction


async def test_a_permanent_error_fails_without_retrying(origin_state: OriginState):
    job_id = await queue(origin_state, "test.broken")
    await drain(origin_state)
    job = await origin_state.store.jobs.get(job_id)
    assert job is not None
    assert (job.status, job.attempt, job.last_error) == ("failed", 1, "the input is unusable")
    assert calls[job_id] == [("on_failed", "the input is unusable", "failed")]


async def test_backoff_follows_the_kind_scaled_by_the_setting(origin_state: OriginState):
    kind = job_kind("test.flaky")
    assert isinstance(kind, JobKind)
    assert [kind.delay(attempt, 2.0) for attempt in (1, 2, 3)] == [10, 20, 20]  # the last backoff repeats
    job_id = await queue(origin_state, "test.flaky", succeed_on=99)
    job = await origin_state.store.jobs.claim(["test.flaky"], "w1", 30)
    assert job is not None and job.id == job_id
    assert await origin_state.store.jobs.retry(job_id, "w1", "boom", delay=60)
    assert await origin_state.store.jobs.claim(["test.flaky"], "w1", 30) is None  # not due for a minute


async def test_claims_favour_the_tenant_with_the_fewest_running_jobs(store: Store):
    async with store.transaction() as tx:
        for tenant in ["busy", "busy", "busy", "quiet"]:
            await enqueue(tx, "test.echo", tenant, {})
    first = await store.jobs.claim(["test.echo"], "w", 30)
    second = await store.jobs.claim(["test.echo"], "w", 30)
    third = await store.jobs.claim(["test.echo"], "w", 30)
    assert [j.tenant_id for j in (first, second, third) if j] == ["busy", "quiet", "busy"]


async def test_concurrent_claims_hand_out_each_job_once(store: Store):
    async with store.transaction() as tx:
        ids = {await enqueue(tx, "test.echo", f"t{i % 3}", {"i": i}) for i in range(12)}
    claims = await asyncio.gather(*(store.jobs.claim(["test.echo"], f"w{i}", 30) for i in range(20)))
    claimed = [job.id for job in claims if job]
    assert sorted(claimed) == sorted(ids)


async def test_an_expired_lease_is_taken_over_and_the_old_owner_is_fenced_off(store: Store):
    async with store.transaction() as tx:
        job_id = await enqueue(tx, "test.echo", "t1", {})
    lost = await store.jobs.claim(["test.echo"], "dead-worker", lease_seconds=-1)  # as if it stopped beating
    taken = await store.jobs.claim(["test.echo"], "new-worker", 30)
    assert lost is not None and taken is not None and taken.id == lost.id == job_id
    assert (taken.attempt, taken.last_error) == (2, "lease expired: the worker stopped heartbeating")
    assert not await store.jobs.renew_lease(job_id, "dead-worker", 30)
    assert not await store.jobs.finish(job_id, "dead-worker", {"stale": True})
    assert await store.jobs.finish(job_id, "new-worker", {"ok": True})
    assert (await store.jobs.get(job_id)).result == {"ok": True}  # type: ignore[union-attr]


async def test_heartbeats_keep_a_long_job_and_a_lost_lease_cancels_it(tmp_path: Path):
    settings = make_settings(tmp_path / "var", jobs={**FAST["jobs"], "lease_seconds": 0.6, "heartbeat_seconds": 0.1})
    state = await OriginState.open(settings)
    try:
        long_job = await queue(state, "test.slow", seconds=1.5)  # outlives its first lease
        assert await Worker(state).run_one()
        assert (await state.store.jobs.get(long_job)).status == "succeeded"  # type: ignore[union-attr]

        stolen = await queue(state, "test.slow", seconds=30)
        worker = Worker(state, owner="w1")
        job = await worker.claim()
        assert job is not None
        running = asyncio.create_task(worker.execute(job))
        await asyncio.sleep(0.2)
        await state.store.db.execute(update(jobs).where(jobs.c.id == stolen).values(lease_owner="w2"))
        await asyncio.wait_for(running, 2)  # the next heartbeat notices and stops the run
        after = await state.store.jobs.get(stolen)
        assert after is not None and after.status == "running"  # w2's now; w1 did not touch it
    finally:
        await state.close()


async def test_the_worker_runs_jobs_concurrently_and_hands_back_unfinished_ones(origin_state: OriginState):
    quick = [await queue(origin_state, "test.slow", f"t{i}", seconds=0.3) for i in range(4)]
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(origin_state, concurrency=4, stop=stop))
    try:
        deadline = time.monotonic() + 10
        while await statuses(origin_state, quick) != {"running"}:  # all four at once: side by side
            assert time.monotonic() < deadline, "the four jobs never ran at the same time"
            await asyncio.sleep(0.01)
        while await statuses(origin_state, quick) != {"succeeded"}:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        long_job = await queue(origin_state, "test.slow", seconds=30)
        while await statuses(origin_state, [long_job]) != {"running"}:
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 2)
    job = await origin_state.store.jobs.get(long_job)
    assert job is not None and (job.status, job.attempt) == ("queued", 0)  # the interrupted attempt does not count
