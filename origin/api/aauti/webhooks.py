"""A tenant's webhook delivery log and manual redelivery (docs/webhooks.md)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.aauti.shapes import WebhookDeliveries, WebhookDeliveryDetail
from origin.api.aauti.shapes import WebhookDelivery as DeliveryShape
from origin.auth import require_tenant
from origin.http import JSON, iso_time
from origin.openapi import describe
from origin.state import get_state
from origin.store.webhooks import WebhookAttempt, WebhookDelivery
from origin.webhooks import MAX_ATTEMPTS

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
STATUSES = ("pending", "delivered", "failed", "skipped")


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "eventType": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "maxAttempts": delivery.max_attempts,
        "lastStatusCode": delivery.last_status_code,
        "lastError": delivery.last_error,
        "createdAt": iso_time(delivery.created_at),
        "updatedAt": iso_time(delivery.updated_at),
        "deliveredAt": iso_time(delivery.delivered_at),
        "nextAttemptAt": iso_time(delivery.next_attempt_at) if delivery.status == "pending" else None,
    }


def attempt_json(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "attempt": attempt.attempt,
        "url": attempt.url,
        "startedAt": iso_time(attempt.started_at),
        "durationMs": attempt.duration_ms,
        "statusCode": attempt.status_code,
        "error": attempt.error,
        "responseBody": attempt.response_body,
    }


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 0 < int(raw) <= MAX_LIMIT:
        raise HTTPError(400, f"limit must be a number between 1 and {MAX_LIMIT}")
    return int(raw)


@describe(
    query={
        "status": {"type": "string", "enum": list(STATUSES)},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    responses={200: WebhookDeliveries},
)
async def list_deliveries(request: Request) -> JSON:
    """The tenant's webhook deliveries, most recent first (``?status=``, ``?limit=``)."""
    tenant = await require_tenant(request)
    status = request.query_params.get("status") or None
    if status is not None and status not in STATUSES:
        raise HTTPError(400, f"status must be one of {', '.join(STATUSES)}")
    deliveries = await get_state(request).store.webhooks.recent(tenant.id, _limit(request), status)
    return JSON({"deliveries": [delivery_json(d) for d in deliveries]})


async def _delivery(request: Request) -> WebhookDelivery:
    tenant = await require_tenant(request)
    delivery = await get_state(request).store.webhooks.get(tenant.id, request.path_params["delivery_id"])
    if delivery is None:
        raise HTTPError(404, "Webhook delivery not found", "WEBHOOK_DELIVERY_NOT_FOUND")
    return delivery


@describe(responses={200: WebhookDeliveryDetail})
async def show_delivery(request: Request) -> JSON:
    """One delivery: the exact event sent and every attempt with its response."""
    delivery = await _delivery(request)
    attempts = await get_state(request).store.webhooks.attempts(delivery.id)
    return JSON(
        {
            **delivery_json(delivery),
            "event": orjson.loads(delivery.body),
            "attemptLog": [attempt_json(a) for a in attempts],
        }
    )


@describe(responses={202: DeliveryShape})
async def retry_delivery(request: Request) -> JSON:
    """Send a delivery again (whatever its status) with a fresh budget of attempts."""
    delivery = await _delivery(request)
    again = await get_state(request).store.webhooks.redeliver(delivery.tenant_id, delivery.id, MAX_ATTEMPTS)
    assert again is not None
    return JSON(delivery_json(again), status_code=202)


routes = [
    Route("/webhooks/deliveries", list_deliveries, methods=["GET"]),
    Route("/webhooks/deliveries/{delivery_id}", show_delivery, methods=["GET"]),
    Route("/webhooks/deliveries/{delivery_id}/retry", retry_delivery, methods=["POST"]),
]
