"""Users (editor sessions) and the presence WebSocket."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from mediaedge.errors import HTTPError
from origin.api.editor import schemas as s
from origin.editor import sessions
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import OriginState, get_state

log = logging.getLogger("mediaedge.editor")

#: Seconds a new socket has to send its ``user_event``.
HELLO_TIMEOUT = 10.0
#: WebSocket close codes: the authToken names no live session; the client stopped answering pings.
CLOSE_UNAUTHORIZED = 4401
CLOSE_TIMEOUT = 4408


@describe(security=(), request=s.EditorUserRequest, responses={200: s.EditorId})
async def create_user(request: Request) -> JSON:
    """Open an editor session with the developer's ``apiKey``: its id is the session's token."""
    session = await sessions.create_user(get_state(request), await json_body(request))
    return JSON({"id": session.id})


@describe(security=(), request=s.EditorUserChange, responses={200: s.EditorId})
async def update_user(request: Request) -> JSON:
    """Change a session's name, data or apiAuthToken."""
    session = await sessions.update_user(get_state(request), request.path_params["id"], await json_body(request))
    return JSON({"id": session.id})


@describe(security=(), responses={200: s.EditorUser})
async def get_user(request: Request) -> JSON:
    """A live session's name and data."""
    session = await sessions.live_session(get_state(request), request.path_params["id"])
    return JSON({"name": session.name, "data": session.data})


def _message(raw: str) -> dict[str, Any] | None:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return message if isinstance(message, dict) else None


async def _hello(socket: WebSocket, state: OriginState) -> sessions.Caller | None:
    """Wait for ``user_event {authToken}``; the session it names, or ``None`` (socket closed)."""
    try:
        message = _message(await asyncio.wait_for(socket.receive_text(), HELLO_TIMEOUT))
    except TimeoutError:
        await socket.close(CLOSE_TIMEOUT, "no user_event")
        return None
    payload = message.get("payload") if message and message.get("type") == "user_event" else None
    token = payload.get("authToken") if isinstance(payload, dict) else None
    try:
        return await sessions.authenticate(state, token if isinstance(token, str) else None)
    except HTTPError as exc:
        await socket.send_text(
            orjson.dumps({"type": "error", "payload": {"code": exc.code, "message": exc.message}}).decode()
        )
        await socket.close(CLOSE_UNAUTHORIZED, exc.message)
        return None


async def presence(socket: WebSocket) -> None:
    """``/websocket``: ``user_event`` once, then the server's ``ping`` and the client's ``pong``."""
    state: OriginState = socket.app.state.origin
    await socket.accept()
    try:
        caller = await _hello(socket, state)
    except WebSocketDisconnect:
        return
    if caller is None:
        return
    session = caller.session
    await sessions.socket_opened(state, session)
    await socket.send_text(
        orjson.dumps({"type": "user_event", "payload": {"status": "online", "id": session.id}}).decode()
    )
    interval = state.settings.editor.ping_interval
    try:
        await _ping_pong(socket, state, session, interval)
    except WebSocketDisconnect:
        pass
    finally:
        await sessions.socket_closed(state, session)


async def _ping_pong(socket: WebSocket, state: OriginState, session: Any, interval: float) -> None:
    """Ping every ``interval`` seconds; a pong renews the session's presence. Two missed pongs close."""
    loop = asyncio.get_running_loop()
    missed = 0
    next_ping = loop.time()
    while True:
        if loop.time() >= next_ping:
            if missed >= 2:
                await socket.close(CLOSE_TIMEOUT, "no pong")
                return
            await socket.send_text('{"type":"ping"}')
            missed += 1
            next_ping = loop.time() + interval
        try:
            raw = await asyncio.wait_for(socket.receive_text(), max(next_ping - loop.time(), 0.01))
        except TimeoutError:
            continue
        message = _message(raw)
        if message and message.get("type") == "pong":
            missed = 0
            await sessions.socket_alive(state, session)


routes: list[BaseRoute] = [
    Route("/api/users", create_user, methods=["POST"]),
    Route("/api/users/{id}", get_user, methods=["GET"]),
    Route("/api/users/{id}", update_user, methods=["PATCH"]),
    WebSocketRoute("/websocket", presence),
]
