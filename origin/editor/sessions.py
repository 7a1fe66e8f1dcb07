"""Editor users (sessions) and who is online.

``POST /api/users`` with the developer's ``apiKey`` opens a session for the key's tenant; its ``id``
is the session's bearer token (the editor's ``session_id`` and ``auth_token``). The developer's
``apiAuthToken`` (optional) is what the custom URLs receive as ``Authorization``; it is kept sealed
(callbacks carry it back) and found by its hash.

Presence: the editor keeps a WebSocket open (``/websocket``) and sends ``user_event`` with its
``authToken``; the server pings every ``editor.ping_interval`` seconds and the client answers
``pong``. A session is *online* while its pongs arrive (``online_until`` in the store, so every
process counts the same users), and expires ``editor.session_idle`` after it was last seen with no
live socket — the sweeper deletes it with its overlay images.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from origin.editor.sealed import digest, open_sealed, seal
from origin.state import OriginState
from origin.store import Tenant
from origin.store.editor import EditorSession

log = logging.getLogger("mediaedge.editor")

#: A request refreshes ``last_seen_at`` at most this often (seconds), not on every call.
SEEN_EVERY = 30.0
SWEEP_EVERY = 60.0


@dataclass(frozen=True)
class Caller:
    """An authenticated editor request: the session and its tenant."""

    session: EditorSession
    tenant: Tenant


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise HTTPError(400, f"{name} must be a string", "editor.user.invalid")
    return value


async def tenant_of_key(state: OriginState, api_key: str | None) -> Tenant:
    """The tenant of a developer's ``apiKey`` (it must have registered as a developer)."""
    found = await state.store.api_keys.authenticate(api_key) if api_key else None
    if found is None or not found[0].active:
        raise HTTPError(401, "Invalid apiKey", "editor.api_key.invalid")
    tenant = found[0]
    if await state.store.editor.developer(tenant.id) is None:
        raise HTTPError(403, "This tenant is not registered as an editor developer", "editor.developer.missing")
    return tenant


def _token_fields(state: OriginState, token: str | None) -> dict[str, Any]:
    if token is None:
        return {}
    if not token:
        return {"api_auth_token_hash": None, "api_auth_token": None}
    return {"api_auth_token_hash": digest(token), "api_auth_token": seal(state.settings, token)}


async def create_user(state: OriginState, body: dict[str, Any]) -> EditorSession:
    tenant = await tenant_of_key(state, _text(body, "apiKey"))
    fields = {"name": _text(body, "name") or "", "data": _text(body, "data") or ""}
    return await state.store.editor.create_session(
        tenant.id, **fields, **_token_fields(state, _text(body, "apiAuthToken"))
    )


async def update_user(state: OriginState, session_id: str, body: dict[str, Any]) -> EditorSession:
    session = await live_session(state, session_id)
    if "apiKey" in body and (await tenant_of_key(state, _text(body, "apiKey"))).id != session.tenant_id:
        raise HTTPError(403, "apiKey belongs to another developer", "editor.api_key.invalid")
    fields = {name: value for name in ("name", "data") if (value := _text(body, name)) is not None}
    fields.update(_token_fields(state, _text(body, "apiAuthToken")))
    updated = await state.store.editor.update_session(session.id, **fields)
    if updated is None:
        raise user_not_found()
    return updated


def user_id(session: EditorSession) -> str:
    """The catalogue's owner id for what a session uploads or imports: derived from the session id
    (which is a bearer token) so it can appear in storage keys and URLs without revealing it."""
    return "editor-" + digest(session.id)[:20]


def user_not_found() -> HTTPError:
    return HTTPError(404, "No such user", "editor.user.not_found")


def expired(state: OriginState, session: EditorSession, at: float) -> bool:
    online = session.online_until is not None and session.online_until > at
    return not online and session.last_seen_at + parse_duration(state.settings.editor.session_idle) < at


async def live_session(state: OriginState, session_id: str) -> EditorSession:
    """The session ``session_id`` unless it expired (404)."""
    session = await state.store.editor.session(session_id)
    if session is None or expired(state, session, time.time()):
        raise user_not_found()
    return session


def api_auth_token(state: OriginState, session: EditorSession) -> str:
    """The developer's ``apiAuthToken`` of ``session`` in the clear (empty if none was given)."""
    return open_sealed(state.settings, session.api_auth_token) if session.api_auth_token else ""


def bearer(value: str | None) -> str | None:
    """An ``Authorization`` value: the token itself (the seed's form), or after ``Bearer ``."""
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    return rest.strip() if rest and scheme.lower() == "bearer" else value.strip()


async def authenticate(state: OriginState, token: str | None, *, developer_token: bool = True) -> Caller:
    """The session a token names: its id, or (``developer_token``) the developer's ``apiAuthToken``.

    401 ``editor.auth.missing`` / ``editor.auth.invalid``; expired sessions are invalid.
    """
    if not token:
        raise HTTPError(401, "Missing Authorization token", "editor.auth.missing")
    session = await state.store.editor.session(token)
    if session is None and developer_token:
        session = await state.store.editor.session_by_token(digest(token))
    at = time.time()
    tenant = await state.store.tenants.get(session.tenant_id) if session else None
    if session is None or tenant is None or not tenant.active or expired(state, session, at):
        raise HTTPError(401, "Invalid or expired Authorization token", "editor.auth.invalid")
    if at - session.last_seen_at > SEEN_EVERY:
        await state.store.editor.seen(session.id, session.online_until)
    return Caller(session, tenant)


# -- presence ---------------------------------------------------------------------------------------

#: Sockets open in this process, per session.
_sockets: dict[str, int] = {}


def online_window(state: OriginState) -> float:
    """How long one pong keeps a session online: two ping intervals."""
    return 2 * state.settings.editor.ping_interval


async def socket_opened(state: OriginState, session: EditorSession) -> None:
    _sockets[session.id] = _sockets.get(session.id, 0) + 1
    await state.store.editor.seen(session.id, time.time() + online_window(state))


async def socket_alive(state: OriginState, session: EditorSession) -> None:
    await state.store.editor.seen(session.id, time.time() + online_window(state))


async def socket_closed(state: OriginState, session: EditorSession) -> None:
    """The socket went away: the session is offline, and its overlay images are dropped."""
    left = _sockets.get(session.id, 1) - 1
    if left > 0:
        _sockets[session.id] = left
        return
    _sockets.pop(session.id, None)
    await state.store.editor.seen(session.id, None)
    await state.store.editor.drop_overlays(session.id)


async def sweep_sessions(state: OriginState, at: float | None = None) -> list[str]:
    """Delete sessions idle for ``editor.session_idle`` with no live socket; their ids."""
    at = time.time() if at is None else at
    idle = parse_duration(state.settings.editor.session_idle)
    return await state.store.editor.expire_sessions(at - idle, at)


async def session_sweeper(state: OriginState) -> None:
    """Service: expire idle sessions, and mark uploads whose session expired as failed, until cancelled."""
    from origin.editor.uploads import fail_expired

    while True:
        try:
            gone = await sweep_sessions(state)
            if gone:
                log.info("editor: %d idle session(s) expired", len(gone))
            failed = await fail_expired(state, time.time())
            if failed:
                log.info("editor: %d upload(s) expired unfinished", len(failed))
        except Exception:
            log.exception("editor session sweep failed")
        await asyncio.sleep(SWEEP_EVERY)
