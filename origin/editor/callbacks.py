"""Callback events to the developer's ``callBackUrl``, through the webhook outbox.

Every event has the common structure ``{type, userData, apiAuthToken, payload}``; its request carries
``Authorization: <session id>`` (so the receiver can tell it comes from a session it opened) and the
outbox's signature headers (``Webhook-Signature``: ``sha256=`` HMAC of the body with the tenant's
webhook signing key; ``Webhook-Id``, ``Webhook-Timestamp``, ``Webhook-Signature-V2``). Delivery is
durable and retried like every webhook (docs/webhooks.md). A developer without a ``callBackUrl``
gets none.

Events of this part: ``media_ready`` (an upload or import became a ready media file) and
``media_error`` (it failed); the project and render events use the same function.
"""

from __future__ import annotations

from typing import Any

from origin.editor.sessions import api_auth_token
from origin.state import OriginState
from origin.store.db import Conn
from origin.store.editor import EditorSession
from origin.webhooks import emit

EVENT_PREFIX = "editor."


def callback_event(
    state: OriginState, session: EditorSession, event_type: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": event_type,
        "userData": session.data,
        "apiAuthToken": api_auth_token(state, session),
        "payload": payload,
    }


async def emit_callback(
    state: OriginState, conn: Conn, session: EditorSession, event_type: str, payload: dict[str, Any]
) -> str | None:
    """Queue a callback on ``conn`` (the transaction of the change that causes it); its delivery id,
    or ``None`` when the developer has no ``callBackUrl``."""
    developer = await state.store.editor.developer(session.tenant_id)
    if developer is None or not developer.callback_url:
        return None
    return await emit(
        conn,
        session.tenant_id,
        callback_event(state, session, event_type, payload),
        event_type=EVENT_PREFIX + event_type,
        target_url=developer.callback_url,
        headers={"Authorization": session.id},
    )
