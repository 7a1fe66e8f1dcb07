"""Overlay images (rendered text or pictures an editing task puts over the video): PNGs kept with
the session that sent them, deleted when its last WebSocket closes or the session expires."""

from __future__ import annotations

from mediaedge.errors import HTTPError
from origin.state import OriginState
from origin.store.editor import EditorSession

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 16 * 1024 * 1024


async def add(state: OriginState, session: EditorSession, png: bytes) -> str:
    if not png.startswith(PNG_SIGNATURE):
        raise HTTPError(400, "data must be a PNG image", "editor.overlay.invalid")
    if len(png) > MAX_BYTES:
        raise HTTPError(413, f"An overlay image is at most {MAX_BYTES} bytes", "editor.overlay.invalid")
    return await state.store.editor.add_overlay(session.id, png)


async def get(state: OriginState, session: EditorSession, overlay_id: str) -> bytes:
    png = await state.store.editor.overlay(session.id, overlay_id)
    if png is None:
        raise HTTPError(404, "No such overlay image", "not_found")
    return png
