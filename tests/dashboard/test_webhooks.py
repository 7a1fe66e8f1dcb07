"""The dashboard's webhook delivery log: deliveries, their attempts with response codes and bodies, redelivery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from mediaedge.net import SafeClient
from origin.dispatcher import dispatch_once
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
        tmp_path / "var", net={"allow": [f"127.0.0.1:{receiver_port}"]}, webhooks={"backoff_scale": 0.0}
    )


class Receiver:
    """Refuses with a body until told to accept."""

    def __init__(self) -> None:
        self.accept = False
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        self.bodies.append(await request.body())
        response = PlainTextResponse("thanks <b>", 200) if self.accept else PlainTextResponse("nope: <busy>", 500)
        await response(scope, receive, send)


@pytest.fixture
async def receiver(receiver_port: int) -> AsyncIterator[tuple[Receiver, str]]:
    endpoint = Receiver()
    async with serve_asgi(endpoint, receiver_port) as url:
        yield endpoint, url


async def drain(state) -> None:
    async with SafeClient.from_settings(state.settings) as client:
        while await dispatch_once(state, client):
            pass


async def test_log_attempts_and_redelivery(browser, receiver):
    endpoint, url = receiver
    saved = await browser.post("/dashboard/settings/webhook", {"webhook_url": f"{url}/hook"})
    assert saved.status_code == 200, saved.text
    async with browser.state.store.transaction() as tx:
        delivery_id = await emit(tx, browser.auth.tenant.id, {"eventType": "file", "data": {"key": "<f1>"}})
    await drain(browser.state)  # 5 refused attempts → failed

    listing = await browser.client.get("/dashboard/webhooks", params={"status": "failed"})
    assert listing.status_code == 200
    assert f'data-delivery-id="{delivery_id}"' in listing.text
    assert "5 / 5" in listing.text and "Receiver answered HTTP 500" in listing.text
    assert delivery_id not in (await browser.client.get("/dashboard/webhooks", params={"status": "delivered"})).text

    detail = await browser.client.get(f"/dashboard/webhooks/{delivery_id}")
    assert detail.text.count("nope: &lt;busy&gt;") == 5  # each attempt's answer, escaped
    assert "&lt;f1&gt;" in detail.text and "<f1>" not in detail.text  # the event body, escaped

    refused = await browser.client.post(f"/dashboard/webhooks/{delivery_id}/redeliver")
    assert refused.status_code == 403
    endpoint.accept = True
    again = await browser.post(
        f"/dashboard/webhooks/{delivery_id}/redeliver", {}, page=f"/dashboard/webhooks/{delivery_id}"
    )
    assert again.status_code == 200
    assert "Queued for delivery again" in again.text
    assert (await browser.state.store.webhooks.get(browser.auth.tenant.id, delivery_id)).status == "pending"
    await drain(browser.state)
    delivery = await browser.state.store.webhooks.get(browser.auth.tenant.id, delivery_id)
    assert delivery.status == "delivered" and delivery.attempts == 6
    assert "thanks &lt;b&gt;" in (await browser.client.get(f"/dashboard/webhooks/{delivery_id}")).text
    assert len(endpoint.bodies) == 6


async def test_other_tenants_deliveries_are_not_found(browser):
    other, _ = await browser.state.store.tenants.create("other", browser.state.settings.storage.default)
    async with browser.state.store.transaction() as tx:
        delivery_id = await emit(tx, other.id, {"eventType": "file", "data": {}})
    assert (await browser.client.get(f"/dashboard/webhooks/{delivery_id}")).status_code == 404
    assert delivery_id not in (await browser.client.get("/dashboard/webhooks")).text
    answer = await browser.post(f"/dashboard/webhooks/{delivery_id}/redeliver", {}, page="/dashboard/webhooks")
    assert answer.status_code == 404
    assert (await browser.state.store.webhooks.get(other.id, delivery_id)).status == "pending"
