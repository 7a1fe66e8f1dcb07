"""Retried ingests (TUS completion, upload from URL) after a crash: never a second file, a second
webhook or a ``_1`` name — the ingest key finds what the earlier attempt did."""

from __future__ import annotations

from pathlib import Path

import pytest

from origin.ingest import IngestRequest, ingest_file
from origin.state import OriginState
from tests.fixtures.origin import TenantAuth

pytestmark = pytest.mark.anyio


def spool(state: OriginState, name: str, data: bytes) -> str:
    directory = Path(state.settings.origin.spool_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    return str(path)


def request(ingest_key: str | None) -> IngestRequest:
    return IngestRequest(filename="lecture.bin", user_id="u1", source="tus", ingest_key=ingest_key)


async def events(state: OriginState, tenant_id: str) -> int:
    return len(await state.store.webhooks.recent(tenant_id, 100))


async def test_a_retry_after_the_file_was_registered_returns_that_file(origin_state: OriginState, tenant: TenantAuth):
    first = await ingest_file(origin_state, tenant.tenant, spool(origin_state, "a", b"bytes"), request("tus:u1"))
    webhooks = await events(origin_state, tenant.tenant.id)
    assert webhooks == 1
    # The process died before it marked the upload done; the cleaner finishes it again.
    leftover = spool(origin_state, "b", b"bytes")
    again = await ingest_file(origin_state, tenant.tenant, leftover, request("tus:u1"))
    assert again == first
    assert not Path(leftover).exists()  # the retry's spool file is consumed all the same
    assert await events(origin_state, tenant.tenant.id) == webhooks  # no second webhook
    assert [f.id for f in await origin_state.store.files.list_ready(tenant.tenant.id, 10)] == [first.id]


async def test_a_retry_after_an_interrupted_attempt_finishes_its_reservation(
    origin_state: OriginState, tenant: TenantAuth
):
    bucket = await origin_state.store.buckets.get(tenant.tenant.id, None)
    assert bucket is not None
    # The earlier attempt reserved the name, then the process died before the file was ready.
    reserved = await origin_state.store.files.reserve(
        tenant.tenant.id,
        bucket.name,
        "u1",
        "",
        "lecture.bin",
        require_signed=False,
        source="tus",
        ingest_key="tus:u2",
    )
    record = await ingest_file(origin_state, tenant.tenant, spool(origin_state, "c", b"data"), request("tus:u2"))
    assert (record.id, record.key, record.status) == (reserved.id, reserved.key, "ready")
    assert record.key.endswith("/u1/lecture.bin")  # not lecture_1.bin


async def test_without_an_ingest_key_the_same_name_gets_a_suffix(origin_state: OriginState, tenant: TenantAuth):
    first = await ingest_file(origin_state, tenant.tenant, spool(origin_state, "d", b"1"), request(None))
    second = await ingest_file(origin_state, tenant.tenant, spool(origin_state, "e", b"2"), request(None))
    assert second.id != first.id and second.key.endswith("lecture_1.bin")
