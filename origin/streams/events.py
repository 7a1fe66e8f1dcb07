"""Stream status changes, each committed with the seed's "Stream Status Update" webhook."""

from __future__ import annotations

from typing import Any

from origin.catalogue.status import from_dialect, vocabulary
from origin.state import OriginState
from origin.store.db import Conn
from origin.store.streams import StreamRecord
from origin.videos.events import emit_status_changes
from origin.webhooks import Event, emit

#: pending → processing → downloading → ready, or → failed once retries are exhausted.
STATUSES = tuple(str(word) for word in vocabulary("aauti"))


def stream_event(stream: StreamRecord) -> Event:
    """The seed's webhook payload for a stream, in its current state."""
    return {
        "eventType": "stream",
        "data": {
            "uid": stream.uid,
            "provider": stream.provider,
            "url": stream.url,
            "hlsUrl": stream.hls_url,
            "dashUrl": stream.dash_url,
            "thumbnail": stream.thumbnail,
            "status": stream.status,
            "duration": stream.duration,
            "encodingData": stream.meta,
        },
    }


async def transition(
    state: OriginState, conn: Conn, stream_id: str, status: str, **changes: Any
) -> StreamRecord | None:
    """Move a stream to ``status`` (with ``changes``) and queue its webhook, both on ``conn``; the
    catalogue assets the stream renders for move with it (forward only).

    ``None`` when the stream no longer exists (deleted while it was being made).
    """
    if status not in STATUSES:
        raise ValueError(f"unknown stream status {status!r}")
    if not await state.store.streams.update(conn, stream_id, status=status, **changes):
        return None
    stream = await state.store.streams.get(stream_id, conn)
    assert stream is not None
    before = await state.store.assets.by_stream(stream_id, conn)
    await state.store.assets.advance_for_stream(
        stream_id, from_dialect("aauti", status), conn, progress=stream.progress, error=stream.error
    )
    await emit_status_changes(state.store, conn, before)
    await emit(conn, stream.tenant_id, stream_event(stream))
    return stream
