"""The webhook dispatcher: delivers the outbox with leases, signed requests, retries and a log.

Any number of dispatchers (one per origin process) share the outbox: each claims due deliveries
under a lease, POSTs them to the tenant's ``webhook_url`` (or the delivery's own ``target_url``, with
its extra headers) through the SSRF guard, and records the attempt (status, error, the start of the
answer). A 2xx acknowledges; anything else is retried 30 s, 2 m, 8 m and 32 m later (× the
``webhooks.backoff_scale`` setting) until 5 attempts were made. A URL the guard refuses fails at
once. A dispatcher that dies mid-send loses nothing: its lease expires and another sends again
(delivery is at least once; receivers deduplicate by ``Webhook-Id``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

import orjson

from mediaedge.net import NetError, SafeClient
from origin.state import OriginState
from origin.store.webhooks import WebhookAttempt, WebhookDelivery
from origin.webhooks import signature_headers

log = logging.getLogger("mediaedge.origin.webhooks")

BACKOFF_FIRST = 30.0
BACKOFF_FACTOR = 4
#: Bytes of each receiver's answer kept in the delivery log.
RESPONSE_BODY_LIMIT = 2048


def retry_delay(attempts: int, scale: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: 30 s, 2 m, 8 m, 32 m (× ``scale``)."""
    return BACKOFF_FIRST * BACKOFF_FACTOR ** (attempts - 1) * scale


async def webhook_dispatcher(state: OriginState) -> None:
    """Service: deliver due webhooks until cancelled."""
    config = state.settings.webhooks
    async with SafeClient.from_settings(state.settings) as client:
        while True:
            try:
                sent = await dispatch_once(state, client)
            except Exception:
                log.exception("webhook dispatch failed")
                sent = 0
            if sent < config.batch:
                await asyncio.sleep(config.poll_interval)


async def dispatch_once(state: OriginState, client: SafeClient) -> int:
    """Claim up to ``webhooks.batch`` due deliveries and send them concurrently; returns how many."""
    config = state.settings.webhooks
    owner = secrets.token_hex(8)
    deliveries = await state.store.webhooks.claim(owner, config.lease_seconds, config.batch)
    results = await asyncio.gather(
        *(deliver(state, client, delivery, owner) for delivery in deliveries), return_exceptions=True
    )
    for delivery, result in zip(deliveries, results, strict=True):
        if isinstance(result, Exception):  # its lease expires and another attempt is made
            log.error("webhook %s: delivery crashed", delivery.id, exc_info=result)
    return len(deliveries)


def _announce(state: OriginState, delivery: WebhookDelivery) -> None:
    """The ``webhook_event`` plugin hook, once the event is committed and before its first send."""
    try:
        state.pm.hook.webhook_event(tenant_id=delivery.tenant_id, event=orjson.loads(delivery.body))
    except Exception:
        log.exception("webhook_event hook failed for %s", delivery.id)


async def _post(
    client: SafeClient, url: str, headers: dict[str, str], body: bytes, deadline: float
) -> tuple[int | None, str | None, bool, str | None]:
    """One POST: (status code, error or ``None`` when acknowledged, whether a retry may help, the start
    of the receiver's answer — its first :data:`RESPONSE_BODY_LIMIT` bytes, for the delivery log)."""
    try:
        async with client.stream(
            "POST", url, headers=headers, content=body, follow_redirects=False, deadline=deadline
        ) as response:
            status_code = response.status_code
            answer = bytearray()
            async for chunk in response.iter_bytes():
                answer += chunk[: RESPONSE_BODY_LIMIT - len(answer)]
                if len(answer) >= RESPONSE_BODY_LIMIT:
                    break
    except NetError as exc:
        return None, str(exc), exc.retryable, None
    text = answer.decode("utf-8", "replace")
    if 200 <= status_code < 300:
        return status_code, None, False, text
    return status_code, f"Receiver answered HTTP {status_code}", True, text


async def deliver(state: OriginState, client: SafeClient, delivery: WebhookDelivery, owner: str) -> None:
    """Make one attempt at a claimed delivery and record its outcome."""
    if delivery.attempts == 0:
        _announce(state, delivery)
    tenant = await state.store.tenants.get(delivery.tenant_id)
    now = time.time()
    url = delivery.target_url or (tenant.webhook_url if tenant else "")
    if tenant is None or not url:
        await state.store.webhooks.settle(
            delivery.id, owner, status="skipped", next_attempt_at=now, error="No webhook_url configured"
        )
        return
    body = delivery.body.encode()
    headers = {
        **(delivery.headers or {}),
        "Content-Type": "application/json",
        **signature_headers(tenant.webhook_signing_key, delivery.id, int(now), body),
    }
    status_code, error, retryable, answer = await _post(client, url, headers, body, state.settings.webhooks.timeout)
    attempt = delivery.attempts + 1
    if error is None:
        status, due = "delivered", now
    elif retryable and attempt < delivery.max_attempts:
        status, due = "pending", time.time() + retry_delay(attempt, state.settings.webhooks.backoff_scale)
    else:
        status, due = "failed", now
    record = WebhookAttempt(
        attempt=attempt,
        url=url,
        started_at=now,
        duration_ms=round((time.time() - now) * 1000),
        status_code=status_code,
        error=error,
        response_body=answer,
    )
    if not await state.store.webhooks.settle(
        delivery.id, owner, status=status, next_attempt_at=due, error=error, attempt=record
    ):
        log.warning("webhook %s: lease lost during attempt %d", delivery.id, attempt)
