"""Webhooks: the outbox, the dispatcher (leases, retries, restarts), signatures and the delivery log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from mediaedge import hookimpl
from mediaedge.net import SafeClient
from origin.dispatcher import dispatch_once, retry_delay, webhook_dispatcher
from origin.state import OriginState
from origin.store import Store
from origin.webhooks import emit
from tests.fixtures.loopback import serve_asgi
from tests.fixtures.origin import make_settings
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def receiver_port() -> int:
    return free_port()


@pytest.fixture
def settings(tmp_path: Path, receiver_port: int):
    return make_settings(
        tmp_path / "var",
        net={"allow": [f"127.0.0.1:{receiver_port}"]},
        webhooks={"backoff_scale": 0.0, "lease_seconds": 0.5, "poll_interval": 0.02, "batch": 4},
    )


@dataclass
class Received:
    headers: httpx.Headers
    body: bytes
    status: int


@dataclass
class Receiver:
    """The tenant's endpoint. ``/hook`` fails every other request per event (50 %), ``/down`` always
    fails, ``/moved`` redirects; every request is recorded."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    per_event: Counter[str] = field(default_factory=Counter)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        request = Request(scope, receive)
        body = await request.body()
        event_id = request.headers.get("webhook-id", "")
        self.per_event[event_id] += 1
        await asyncio.sleep(0.01)  # in flight long enough for a dispatcher to die mid-send
        response: Response
        if request.url.path == "/moved":
            response = RedirectResponse("/hook", 307)
        elif request.url.path == "/down" or self.per_event[event_id] % 2:
            response = PlainTextResponse("try later", 503)
        else:
            response = PlainTextResponse("ok")
        self.requests.append(Received(request.headers, body, response.status_code))
        await response(scope, receive, send)

    def acknowledged(self) -> set[str]:
        return {r.headers["webhook-id"] for r in self.requests if r.status == 200}


@pytest.fixture
async def receiver(receiver_port: int) -> AsyncIterator[Receiver]:
    endpoint = Receiver()
    async with serve_asgi(endpoint, receiver_port) as url:
        endpoint.url = url
        yield endpoint


@pytest.fixture
async def hooked(origin_state: OriginState, tenant, receiver: Receiver):
    """The tenant with its webhook_url on the receiver's ``/hook``."""
    await origin_state.store.tenants.update(tenant.tenant.id, webhook_url=f"{receiver.url}/hook")
    return tenant


class EventLog:
    """A plugin observing the ``webhook_event`` hook."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def webhook_event(self, tenant_id: str, event: dict[str, Any]) -> None:
        self.seen.append((tenant_id, event))


def verify(received: Received, secret: str, tolerance: float = 300) -> None:
    """What a receiver does (docs/webhooks.md): both signatures, and a fresh timestamp."""
    key = secret.encode()
    body_mac = "sha256=" + hmac.new(key, received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["webhook-signature"], body_mac)
    timestamp = received.headers["webhook-timestamp"]
    fields = dict(part.split("=", 1) for part in received.headers["webhook-signature-v2"].split(","))
    assert fields["t"] == timestamp
    signed = f"{received.headers['webhook-id']}.{timestamp}.".encode() + received.body
    assert hmac.compare_digest(fields["v1"], hmac.new(key, signed, hashlib.sha256).hexdigest())
    assert abs(time.time() - int(timestamp)) < tolerance


async def drain(state: OriginState) -> None:
    """Dispatch until nothing is due (backoff is scaled to 0 here, so retries are due at once)."""
    async with SafeClient.from_settings(state.settings) as client:
        while await dispatch_once(state, client):
            pass


async def emit_events(state: OriginState, tenant_id: str, count: int) -> list[str]:
    async with state.store.transaction() as tx:
        return [await emit(tx, tenant_id, {"eventType": "test", "data": {"n": n}}) for n in range(count)]


async def deliveries(client: httpx.AsyncClient, headers: dict, **params: Any) -> list[dict]:
    response = await client.get("/webhooks/deliveries", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


async def test_direct_upload_webhook_is_delivered_signed_in_the_seed_shape(
    origin_client, origin_state, hooked, receiver, clip: Path
):
    observer = EventLog()
    origin_state.pm.register(observer)
    uploaded = await origin_client.post(
        "/upload/direct-upload",
        headers=hooked.headers,
        files={"file": ("video.mp4", clip.read_bytes())},
        data={"userId": "user123"},
    )
    body = uploaded.json()

    await drain(origin_state)

    delivered = [r for r in receiver.requests if r.status == 200]
    assert len(delivered) == 1 and len(receiver.requests) == 2  # the receiver fails the first try
    for received in receiver.requests:
        verify(received, hooked.tenant.webhook_signing_key)
        assert received.headers["content-type"] == "application/json"
    event = {
        "eventType": "file",
        "data": {
            "key": body["id"],
            "recordingUrl": body["url"],
            "filename": "video.mp4",
            "file_type": "video/mp4",
            "file_size": body["file_size"],
            "user_id": "user123",
            "duration": body["duration"],
        },
    }
    assert orjson.loads(delivered[0].body) == event
    assert observer.seen == [(hooked.tenant.id, event)]  # once, though delivered in two attempts


async def test_every_event_survives_a_flaky_receiver_and_a_dispatcher_death(
    origin_client, origin_state, settings, hooked, receiver
):
    ids = await emit_events(origin_state, hooked.tenant.id, 12)

    dying = await OriginState.open(settings)
    first = asyncio.create_task(webhook_dispatcher(dying))
    while len(receiver.requests) < 6:
        await asyncio.sleep(0.005)
    first.cancel()  # the origin dies mid-run, some deliveries leased and in flight
    await asyncio.gather(first, return_exceptions=True)
    await dying.close()  # and its database connection with it
    assert not set(ids) <= receiver.acknowledged()

    restarted = await OriginState.open(settings)
    second = asyncio.create_task(webhook_dispatcher(restarted))
    try:
        async with asyncio.timeout(20):
            while any(d["status"] != "delivered" for d in await deliveries(origin_client, hooked.headers)):
                await asyncio.sleep(0.02)
    finally:
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        await restarted.close()

    assert receiver.acknowledged() == set(ids)
    for received in receiver.requests:
        verify(received, hooked.tenant.webhook_signing_key)
    log = await deliveries(origin_client, hooked.headers)
    assert {d["id"] for d in log} == set(ids)
    for entry in log:
        assert entry["status"] == "delivered" and entry["lastStatusCode"] == 200 and entry["lastError"] is None
        assert entry["deliveredAt"] and entry["nextAttemptAt"] is None
        # each event's first request fails; a send cut short by the death is not in the log, only resent
        assert receiver.per_event[entry["id"]] >= 2 and entry["attempts"] >= 1
    assert sum(entry["attempts"] for entry in log) > len(log)
    detail = (await origin_client.get(f"/webhooks/deliveries/{ids[0]}", headers=hooked.headers)).json()
    assert [a["statusCode"] for a in detail["attemptLog"]][-1] == 200
    assert detail["attemptLog"][0]["statusCode"] == 503 and detail["attemptLog"][0]["url"].endswith("/hook")
    assert detail["event"] == {"eventType": "test", "data": {"n": 0}}


async def test_five_attempts_then_failed_and_manual_redelivery(origin_client, origin_state, hooked, receiver):
    await origin_state.store.tenants.update(hooked.tenant.id, webhook_url=f"{receiver.url}/down")
    [delivery_id] = await emit_events(origin_state, hooked.tenant.id, 1)
    await drain(origin_state)

    [entry] = await deliveries(origin_client, hooked.headers, status="failed")
    assert (entry["attempts"], entry["maxAttempts"], entry["lastStatusCode"]) == (5, 5, 503)
    assert entry["lastError"] == "Receiver answered HTTP 503"
    assert receiver.per_event[delivery_id] == 5

    await origin_state.store.tenants.update(hooked.tenant.id, webhook_url=f"{receiver.url}/hook")
    retried = await origin_client.post(f"/webhooks/deliveries/{delivery_id}/retry", headers=hooked.headers)
    assert retried.status_code == 202 and retried.json()["status"] == "pending"
    assert retried.json()["maxAttempts"] == 10
    await drain(origin_state)
    [entry] = await deliveries(origin_client, hooked.headers)
    assert entry["status"] == "delivered" and entry["attempts"] == 6  # /hook's count for the id is now even
    assert receiver.acknowledged() == {delivery_id}
    shown = (await origin_client.get(f"/webhooks/deliveries/{delivery_id}", headers=hooked.headers)).json()
    answers = [(a["statusCode"], a["responseBody"]) for a in shown["attemptLog"]]
    assert answers == [(503, "try later")] * 5 + [(200, "ok")]


async def test_only_2xx_acknowledges_and_redirects_are_not_followed(origin_client, origin_state, hooked, receiver):
    await origin_state.store.tenants.update(hooked.tenant.id, webhook_url=f"{receiver.url}/moved")
    await emit_events(origin_state, hooked.tenant.id, 1)
    async with SafeClient.from_settings(origin_state.settings) as client:
        assert await dispatch_once(origin_state, client) == 1
    [entry] = await deliveries(origin_client, hooked.headers)
    assert (entry["status"], entry["attempts"], entry["lastStatusCode"]) == ("pending", 1, 307)
    assert [r.status for r in receiver.requests] == [307]


@pytest.mark.parametrize("url", ["http://169.254.169.254/hook", "http://127.0.0.1:{closed}/hook", "http://[::1]/"])
async def test_a_blocked_webhook_url_fails_at_once(origin_client, origin_state, hooked, url):
    await origin_state.store.tenants.update(hooked.tenant.id, webhook_url=url.format(closed=free_port()))
    await emit_events(origin_state, hooked.tenant.id, 1)
    await drain(origin_state)
    [entry] = await deliveries(origin_client, hooked.headers)
    assert (entry["status"], entry["attempts"], entry["lastStatusCode"]) == ("failed", 1, None)
    assert "URL resolves to a" in entry["lastError"]


async def test_unreachable_receiver_is_retried(origin_client, origin_state, tenant, receiver_port):
    await origin_state.store.tenants.update(tenant.tenant.id, webhook_url=f"http://127.0.0.1:{receiver_port}/hook")
    await emit_events(origin_state, tenant.tenant.id, 1)
    await drain(origin_state)  # nothing listens on the port
    [entry] = await deliveries(origin_client, tenant.headers)
    assert (entry["status"], entry["attempts"]) == ("failed", 5)
    assert entry["lastError"].startswith("Network error")


async def test_without_a_webhook_url_events_are_skipped_but_observed(origin_client, origin_state, tenant):
    observer = EventLog()
    origin_state.pm.register(observer)
    await emit_events(origin_state, tenant.tenant.id, 2)
    await drain(origin_state)
    log = await deliveries(origin_client, tenant.headers)
    assert [d["status"] for d in log] == ["skipped", "skipped"]
    assert len(observer.seen) == 2


async def test_events_commit_with_the_state_change_or_not_at_all(origin_client, origin_state, tenant):
    with pytest.raises(RuntimeError):
        async with origin_state.store.transaction() as tx:
            await emit(tx, tenant.tenant, {"eventType": "file", "data": {}})
            raise RuntimeError("the state change failed")
    assert await deliveries(origin_client, tenant.headers) == []


async def test_delivery_log_is_per_tenant_and_validated(origin_client, origin_state, tenant):
    [delivery_id] = await emit_events(origin_state, tenant.tenant.id, 1)
    _, other_key = await origin_state.store.tenants.create("other", origin_state.settings.storage.default)
    other = {"API-Key": other_key}
    assert await deliveries(origin_client, other) == []
    assert (await origin_client.get(f"/webhooks/deliveries/{delivery_id}", headers=other)).status_code == 404
    assert (await origin_client.post(f"/webhooks/deliveries/{delivery_id}/retry", headers=other)).status_code == 404
    assert (await origin_client.get("/webhooks/deliveries", headers={"API-Key": "tk_nope"})).status_code == 401
    for params in ({"limit": "0"}, {"limit": "x"}, {"status": "sent"}):
        response = await origin_client.get("/webhooks/deliveries", headers=tenant.headers, params=params)
        assert response.status_code == 400 and response.json()["error"] == "BadRequest"


def test_backoff_is_exponential_and_scaled():
    assert [retry_delay(n, 1.0) for n in range(1, 5)] == [30, 120, 480, 1920]
    assert retry_delay(2, 0.5) == 60


async def test_leases_keep_dispatchers_from_sending_twice(store: Store):
    """Claims on both databases: concurrent claimers split the due deliveries; a lease expires."""
    LEASE = 2.0  # long enough for the six claims and the late one on a loaded machine
    tenant, _ = await store.tenants.create("acme", "local")
    async with store.transaction() as tx:
        ids = {await emit(tx, tenant, {"eventType": "test", "data": {"n": n}}) for n in range(12)}

    claims = await asyncio.gather(*(store.webhooks.claim(f"d{i}", LEASE, 3) for i in range(6)))
    claimed = [d.id for batch in claims for d in batch]
    assert sorted(claimed) == sorted(ids)  # every delivery claimed exactly once
    assert await store.webhooks.claim("late", LEASE, 20) == []
    owner = next(f"d{i}" for i, batch in enumerate(claims) if batch)
    mine = next(batch for batch in claims if batch)[0]
    assert not await store.webhooks.settle(mine.id, "someone-else", status="delivered", next_attempt_at=0, error=None)

    await asyncio.sleep(LEASE + 0.05)  # the leases expire: a successor takes every delivery over
    taken_over = await store.webhooks.claim("successor", 30, 20)
    assert {d.id for d in taken_over} == ids
    assert not await store.webhooks.settle(mine.id, owner, status="delivered", next_attempt_at=0, error=None)
    assert await store.webhooks.settle(mine.id, "successor", status="delivered", next_attempt_at=0, error=None)
