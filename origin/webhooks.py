"""Webhook events: the outbox (:func:`emit`), the seed's payloads, and the signature headers.

An event is written to the outbox in the transaction of the state change that causes it, so it
exists exactly when the change does; :mod:`origin.dispatcher` delivers it after commit. See
docs/webhooks.md for the receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

from origin.store import FileRecord, Tenant
from origin.store.db import Conn
from origin.store.webhooks import insert_delivery

#: Seed: "5 attempts with exponential backoff".
MAX_ATTEMPTS = 5

Event = dict[str, Any]


async def emit(
    conn: Conn,
    tenant: Tenant | str,
    event: Event,
    *,
    event_type: str | None = None,
    target_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    """Queue ``event`` for ``tenant`` (or its id) on ``conn``; returns the delivery id (``Webhook-Id``).

    Pass the open transaction of the state change: if it rolls back, nothing is sent. The body is
    serialised once here; receivers get exactly these bytes, signed. ``target_url`` (with ``headers``)
    sends it to another receiver than the tenant's ``webhook_url`` (the editor's callback URL).
    """
    tenant_id = tenant if isinstance(tenant, str) else tenant.id
    body = orjson.dumps(event).decode()
    kind = event_type or str(event["eventType"])
    return await insert_delivery(conn, tenant_id, kind, body, MAX_ATTEMPTS, target_url=target_url, headers=headers)


def signature_headers(secret: str, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers that let a receiver check who sent ``body``, and when.

    ``Webhook-Signature`` is the seed's ``sha256=`` HMAC of the body alone; ``Webhook-Signature-V2``
    signs ``{id}.{timestamp}.{body}``, so a receiver can also refuse replays of old deliveries.
    """
    key = secret.encode()
    body_mac = hmac.new(key, body, hashlib.sha256).hexdigest()
    stamped_mac = hmac.new(key, f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Webhook-Id": delivery_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": f"sha256={body_mac}",
        "Webhook-Signature-V2": f"t={timestamp},v1={stamped_mac}",
    }


def _file_facts(record: FileRecord) -> dict[str, Any]:
    return {
        "filename": record.filename,
        "file_type": record.mime,
        "file_size": record.size,
        "user_id": record.user_id,
    }


def _video_duration(record: FileRecord) -> dict[str, Any]:
    """``duration`` is only included for video files (seed)."""
    return {"duration": record.duration} if record.mime.startswith("video/") and record.duration else {}


def _meta(meta: dict[str, Any] | None) -> dict[str, Any]:
    """``meta`` is only included if the request provided it (seed)."""
    return {"meta": meta} if meta else {}


def file_uploaded_event(record: FileRecord, access_url: str, meta: dict[str, Any] | None) -> Event:
    """The seed's "File Upload Complete" webhook, for direct and TUS uploads."""
    data = {"key": record.id, "recordingUrl": access_url, **_file_facts(record)}
    return {"eventType": "file", "data": {**data, **_video_duration(record), **_meta(meta)}}


def url_uploaded_event(record: FileRecord, access_url: str, source_url: str, meta: dict[str, Any] | None) -> Event:
    """The seed's upload-from-URL success webhook."""
    data = {"key": record.key, "fileUrl": access_url, **_file_facts(record), "source_url": source_url}
    return {"eventType": "file", "data": {**data, **_meta(meta), **_video_duration(record)}}


def url_failed_event(source_url: str, user_id: str, error: str, meta: dict[str, Any] | None) -> Event:
    """The seed's upload-from-URL failure webhook."""
    data = {"source_url": source_url, "user_id": user_id, "status": "failed", "errorMessage": error}
    return {"eventType": "file", "data": {**data, **_meta(meta)}}
