"""Several edge worker processes on one machine: slots, the purge journal and summed metrics
(:mod:`edge.workers`). Two groups in one process stand for two workers: flock locks taken through
separate opens conflict within a process as they do across processes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from edge.app import create_app
from edge.workers import WorkerGroup
from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.settings import Settings
from tests.edge.conftest import SECRET
from tests.edge.fakes import PUBLIC, FakeCache, FakeOrigin

pytestmark = pytest.mark.anyio

PURGE = {"keys": ["t1/u1/a.mp4"], "prefixes": [], "tenants": []}


async def _eventually(check, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()


def test_each_worker_takes_a_free_slot_with_its_own_directory_and_share_of_the_budgets(
    tmp_path: Path, settings: Settings
):
    first, second = WorkerGroup(tmp_path, 2), WorkerGroup(tmp_path, 2)
    assert {first.slot, second.slot} == {0, 1}
    with pytest.raises(RuntimeError, match="slots"):
        WorkerGroup(tmp_path, 2)
    mine = first.worker_settings(settings).edge
    assert mine.disk_cache_dir == str(tmp_path / f"w{first.slot}")
    assert mine.memory_cache_bytes == settings.edge.memory_cache_bytes // 2
    assert mine.disk_cache_bytes == settings.edge.disk_cache_bytes // 2
    asyncio.run(first.close())  # a worker that exits frees its slot for its replacement
    replacement = WorkerGroup(tmp_path, 2)
    assert replacement.slot == first.slot
    asyncio.run(replacement.close())
    asyncio.run(second.close())


async def test_a_purge_journaled_by_one_worker_reaches_the_others_once(tmp_path: Path):
    first, second = WorkerGroup(tmp_path, 2), WorkerGroup(tmp_path, 2)
    try:
        await first.publish_purge(PURGE)
        assert await second.pending_purges() == [PURGE]
        assert await second.pending_purges() == []
        assert await first.pending_purges() == []  # its own purge, applied already
    finally:
        await first.close()
        await second.close()


async def test_a_restarted_worker_replays_the_purges_it_missed_while_down(tmp_path: Path):
    first, second = WorkerGroup(tmp_path, 2), WorkerGroup(tmp_path, 2)
    await first.publish_purge({"keys": ["old"], "prefixes": [], "tenants": []})
    assert len(await second.pending_purges()) == 1
    await second.mark_applied()
    await second.close()
    await first.publish_purge(PURGE)  # while the second worker is down (its disk tier keeps the key)
    restarted = WorkerGroup(tmp_path, 2)
    try:
        assert await restarted.pending_purges() == [PURGE]
    finally:
        await restarted.close()
        await first.close()


async def test_metrics_published_by_a_worker_are_read_by_the_others(tmp_path: Path):
    first, second = WorkerGroup(tmp_path, 2), WorkerGroup(tmp_path, 2)
    snap = {
        "requests": {"200": 3},
        "bytes_out": 10,
        "tenant_requests": {},
        "tenant_bytes": {},
        "cache": {},
        "histogram": {"buckets": [["+Inf", 0]], "sum": 0.0, "count": 0},
    }
    try:
        first.write_metrics(snap)  # type: ignore[arg-type]
        assert second.peer_metrics() == [snap]
        assert first.peer_metrics() == []  # the second has not published yet
    finally:
        await first.close()
        await second.close()


@pytest.fixture
async def two_workers(
    settings: Settings, origin: FakeOrigin
) -> AsyncIterator[list[tuple[FakeCache, httpx.AsyncClient]]]:
    settings = dataclasses.replace(settings, edge=dataclasses.replace(settings.edge, workers=2))
    workers = []
    apps = []
    for _ in range(2):
        cache = FakeCache()
        cache.add(PUBLIC, b"x" * 100, file_id="f1")
        app = create_app(settings, cache=cache, transport=origin.transport())
        await app.start()
        apps.append(app)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        workers.append((cache, httpx.AsyncClient(transport=transport, base_url="http://edge.test")))
    try:
        yield workers
    finally:
        for (_, client), app in zip(workers, apps, strict=True):
            await client.aclose()
            await app.close()


async def test_purge_through_one_worker_purges_its_sibling(two_workers):
    (cache_a, client_a), (cache_b, _) = two_workers
    r = await client_a.post("/_edge/purge", headers={EDGE_SECRET_HEADER: SECRET}, json={"keys": [PUBLIC]})
    assert r.status_code == 200
    assert cache_a.purged == [(PUBLIC, False)]
    await _eventually(lambda: cache_b.purged == [(PUBLIC, False)])


async def test_metrics_on_any_worker_sum_every_worker(two_workers):
    (_, client_a), (_, client_b) = two_workers
    for client, count in ((client_a, 2), (client_b, 3)):
        for _ in range(count):
            assert (await client.get(f"/f1/{PUBLIC}")).status_code == 200

    async def scraped() -> str:
        return (await client_a.get("/metrics")).text

    for _ in range(100):  # the sibling publishes its counters every second
        if 'mediaedge_edge_tenant_requests_total{tenant="t1"} 5' in await scraped():
            break
        await asyncio.sleep(0.05)
    assert 'mediaedge_edge_tenant_requests_total{tenant="t1"} 5' in await scraped()
