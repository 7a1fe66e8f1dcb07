"""Overlay images, live statistics and the backend version."""

from __future__ import annotations

import base64
import binascii
import time

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from mediaedge.errors import HTTPError
from origin.api.editor import schemas as s
from origin.api.editor.common import caller
from origin.editor import overlays, stats
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state


@describe(request=s.EditorOverlayRequest, responses={200: s.EditorOverlay}, errors=(413,))
async def add_overlay(request: Request) -> JSON:
    """Keep an overlay image (a PNG) for the session's renders."""
    who = await caller(request)
    data = (await json_body(request)).get("data")
    if not isinstance(data, str):
        raise HTTPError(400, "data must be a base64 PNG image", "editor.overlay.invalid")
    try:
        png = base64.b64decode(data.split(",", 1)[-1] if data.startswith("data:") else data, validate=True)
    except binascii.Error:
        raise HTTPError(400, "data is not base64", "editor.overlay.invalid") from None
    overlay_id = await overlays.add(get_state(request), who.session, png)
    return JSON({"status": "", "id": overlay_id})


@describe(responses={200: s.EditorImage})
async def get_overlay(request: Request) -> JSON:
    """One of the session's overlay images."""
    who = await caller(request)
    png = await overlays.get(get_state(request), who.session, request.path_params["id"])
    return JSON({"data": base64.b64encode(png).decode()})


@describe(responses={200: s.EditorStats})
async def stat(request: Request) -> JSON:
    """Live counts: users online, running thumbnail, render and import tasks, uploads."""
    who = await caller(request)
    return JSON(await stats.live(get_state(request), who.tenant.id, time.time()))


@describe(security=(), responses={200: s.EditorVersion})
async def version(request: Request) -> JSON:
    """The backend's version."""
    return JSON({"version": stats.version(get_state(request).settings)})


routes: list[BaseRoute] = [
    Route("/api/overlay_img", add_overlay, methods=["POST"]),
    Route("/api/overlay_img/{id}", get_overlay, methods=["GET"]),
    Route("/api/stat", stat, methods=["GET"]),
    Route("/api/version", version, methods=["GET"]),
]
