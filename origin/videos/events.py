"""The ``video`` webhooks: one per status change of a video made through the video objects API.

Each is written to the outbox in the transaction of the change (:func:`origin.webhooks.emit`), so it
exists exactly when the change does, and is signed and delivered like every other webhook.
"""

from __future__ import annotations

from origin.catalogue.status import Dialect, Status, shown_as
from origin.store import Asset, Store
from origin.store.db import Conn
from origin.webhooks import Event, emit

DIALECT: Dialect = "videos"


def video_event(asset: Asset) -> Event:
    """The payload: the video's id, title, status in this API's words, size, duration and any error."""
    return {
        "eventType": "video",
        "data": {
            "id": asset.id,
            "title": asset.title,
            "status": shown_as(DIALECT, Status(asset.status)),
            "size": asset.size,
            "duration": asset.duration,
            "is_public": asset.is_public,
            "error": asset.error,
        },
    }


async def emit_video_event(conn: Conn, asset: Asset) -> None:
    """Queue the webhook of ``asset``'s current status on ``conn`` (videos of this API only)."""
    if asset.dialect == DIALECT:
        await emit(conn, asset.tenant_id, video_event(asset))


async def emit_status_changes(store: Store, conn: Conn, before: list[Asset]) -> None:
    """After assets moved (a stream's transition), the webhooks of those whose status in this API's words
    changed: ``processing`` → ``storing`` is ``transcoding`` both times and sends nothing."""
    for old in before:
        if old.dialect != DIALECT:
            continue
        new = await store.assets.get(old.tenant_id, old.id, conn)
        if new is not None and shown_as(DIALECT, Status(new.status)) != shown_as(DIALECT, Status(old.status)):
            await emit_video_event(conn, new)
