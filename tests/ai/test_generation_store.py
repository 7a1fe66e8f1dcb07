"""AI generation requests on SQLite and PostgreSQL: identical requests at once make one generation,
and a budget holds when different requests race for it (the per-tenant lock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mediaedge.errors import HTTPError
from origin.ai.service import SpeechRequest, request_speech, usage
from origin.state import OriginState
from origin.store import Tenant
from origin.store.schema import jobs
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio

TEN_WORDS = "one two three four five six seven eight nine {}"  # estimated at 4 s of speech


@pytest.fixture
async def state(tmp_path: Path, db_url: str) -> AsyncIterator[OriginState]:
    opened = await OriginState.open(make_settings(tmp_path / "var", database={"url": db_url}))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def tenant(state: OriginState) -> Tenant:
    created, _ = await state.store.tenants.create("acme", state.settings.storage.default)
    return created


async def test_identical_requests_at_once_make_one_generation_and_one_job(state, tenant):
    req = SpeechRequest("the same words, five times at once", "en-us", "en-US", "mp3")
    results = await asyncio.gather(*(request_speech(state, tenant, "key:k1", req) for _ in range(5)))
    assert sorted(created for _, created in results) == [False, False, False, False, True]
    assert len({generation.id for generation, _ in results}) == 1
    queued = (
        await state.store.db.execute(sa.select(sa.func.count()).select_from(jobs).where(jobs.c.kind == "ai.speech"))
    ).scalar_one()
    assert queued == 1


async def test_a_budget_holds_when_requests_race_for_it(state, tenant):
    await state.store.ai.set_policy(tenant.id, budgets={"audio_seconds": 10})

    async def ask(n: int) -> int:
        try:
            await request_speech(state, tenant, "key:k1", SpeechRequest(TEN_WORDS.format(n), "", "en", "mp3"))
        except HTTPError as exc:
            assert exc.code == "ai.refused.budget"
            return exc.status
        return 202

    answers = await asyncio.gather(*(ask(n) for n in range(5)))
    assert sorted(answers) == [202, 202, 402, 402, 402]
    assert (await usage(state.store, tenant.id))["audio_seconds"] == pytest.approx(8.0)


async def test_a_policy_is_kept_per_tenant_and_replaced_in_parts(state, tenant):
    assert (await state.store.ai.policy(tenant.id)).budgets == {}
    await state.store.ai.set_policy(tenant.id, budgets={"images": 5}, blocklist=["x"])
    await state.store.ai.set_policy(tenant.id, blocklist=["y", "z"])
    policy = await state.store.ai.policy(tenant.id)
    assert (policy.budgets, policy.blocklist) == ({"images": 5}, ["y", "z"])


async def test_a_twin_of_an_accepted_request_is_free_even_when_the_budget_is_then_spent(state, tenant):
    await state.store.ai.set_policy(tenant.id, budgets={"audio_seconds": 4})
    req = SpeechRequest(TEN_WORDS.format("x"), "", "en", "mp3")  # takes the whole budget
    results = await asyncio.gather(*(request_speech(state, tenant, "key:k1", req) for _ in range(4)))
    assert sorted(created for _, created in results) == [False, False, False, True]
