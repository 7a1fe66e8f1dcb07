"""The edge's usage reports (edge.usage): every delivered answer, the fast path's too, counted per UTC
day and tenant and pushed to the origin cumulatively under this process's instance id; a failed report
is carried by the next, past days are dropped once reported, the last counts go out when the edge
stops. The origin side is tests/dashboard/test_edge_usage.py."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from httpx import AsyncClient

from edge.app import EdgeApp, create_app
from edge.usage import DAY, REPORT_BATCH
from mediaedge.settings import Settings
from mediaedge.tokens import SigningKey
from tests.edge.fakes import DATA, PUBLIC, SECRET, SIGNED, FakeCache, FakeOrigin, token_for

pytestmark = pytest.mark.anyio

URL = f"/f1/{PUBLIC}"
GUARD = {"X-Mediaedge-Edge-Secret": SECRET}


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


async def _report(client: AsyncClient) -> dict:
    answer = await client.post("/_edge/usage/report", headers=GUARD)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _counters(origin: FakeOrigin) -> dict[tuple[int, str], tuple[int, int]]:
    return {(c["day"], c["tenant"]): (c["requests"], c["bytes"]) for c in origin.usage_reports[-1]["counters"]}


async def test_delivered_answers_are_reported_per_day_and_tenant(
    app: EdgeApp, client: AsyncClient, origin: FakeOrigin, signing_key: SigningKey, via: str
) -> None:
    for _ in range(3):
        assert (await client.get(URL)).status_code == 200
    ranged = await client.get(f"/{token_for(signing_key, SIGNED)}/{SIGNED}", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206
    assert (await client.get("/f1/t1/u1/nothing.mp4")).status_code == 404  # not delivered: not counted
    if via != "asgi":
        assert app.fast_path is not None and app.fast_path.hits >= 2  # the fast path's answers count too

    assert await _report(client) == {"reported": 1}
    today = int(time.time() // DAY)
    assert _counters(origin) == {(today, "t1"): (4, 3 * len(DATA) + 10)}
    report = origin.usage_reports[-1]
    assert report["instance"] == app.metrics.usage.instance and len(report["instance"]) == 16
    assert report["edge"] == app.settings.edge.registration_url and report["region"] == ""

    # Cumulative: the next report carries everything again, plus what came since.
    await client.get(URL)
    await _report(client)
    assert _counters(origin) == {(today, "t1"): (5, 4 * len(DATA) + 10)}


async def test_the_report_route_needs_the_edge_secret(client: AsyncClient) -> None:
    refused = await client.post("/_edge/usage/report")
    assert (refused.status_code, refused.json()["code"]) == (401, "EDGE_SECRET_INVALID")


async def test_a_failed_report_is_carried_by_the_next(client: AsyncClient, origin: FakeOrigin) -> None:
    await client.get(URL)
    origin.down = True
    failed = await client.post("/_edge/usage/report", headers=GUARD)
    assert (failed.status_code, failed.json()["code"]) == (502, "ORIGIN_UNAVAILABLE")
    await client.get(URL)
    origin.down = False
    await _report(client)
    assert list(_counters(origin).values()) == [(2, 2 * len(DATA))]


async def test_past_days_go_until_reported_once_then_are_dropped(app: EdgeApp, client: AsyncClient, origin) -> None:
    clock = Clock(20_000 * DAY + DAY - 1)  # the last second of day 20000
    app.metrics.usage.clock = clock
    await client.get(URL)
    clock.at += 2  # day 20001
    await client.get(URL)
    await client.get(URL)
    assert await _report(client) == {"reported": 2}
    assert _counters(origin) == {(20_000, "t1"): (1, len(DATA)), (20_001, "t1"): (2, 2 * len(DATA))}
    assert await _report(client) == {"reported": 1}
    assert _counters(origin) == {(20_001, "t1"): (2, 2 * len(DATA))}


async def test_many_tenants_go_in_batches(app: EdgeApp, client: AsyncClient, origin: FakeOrigin) -> None:
    for n in range(REPORT_BATCH + 5):
        app.metrics.usage.add(f"tenant-{n}", n)
    assert await _report(client) == {"reported": REPORT_BATCH + 5}
    assert [len(r["counters"]) for r in origin.usage_reports] == [REPORT_BATCH, 5]
    assert len({r["instance"] for r in origin.usage_reports}) == 1


async def test_the_last_counts_are_reported_when_the_edge_stops_and_a_new_one_has_a_new_instance(
    settings: Settings, cache: FakeCache, origin: FakeOrigin
) -> None:
    instances = []
    for _ in range(2):
        async with create_app(settings, cache=cache, transport=origin.transport()) as edge:
            edge.metrics.observe(200, 100, "t1")
            instances.append(edge.metrics.usage.instance)
        assert origin.usage_reports[-1]["instance"] == instances[-1]
        assert [(c["requests"], c["bytes"]) for c in origin.usage_reports[-1]["counters"]] == [(1, 100)]
    assert instances[0] != instances[1]


async def test_reports_are_sent_every_usage_report_seconds(
    settings: Settings, cache: FakeCache, origin: FakeOrigin
) -> None:
    quick = settings.replace(edge=dataclasses.replace(settings.edge, usage_report=1))
    async with create_app(quick, cache=cache, transport=origin.transport()) as edge:
        edge.metrics.observe(206, 10, "t2")
        for _ in range(50):
            if origin.usage_reports:
                break
            await asyncio.sleep(0.05)
        assert origin.usage_reports, "no report within 2.5 s of a 1 s interval"
        assert [(c["tenant"], c["requests"]) for c in origin.usage_reports[0]["counters"]] == [("t2", 1)]
