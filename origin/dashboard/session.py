"""Dashboard login sessions and CSRF tokens.

- **Login** with one of the tenant's API keys, or with ``dashboard.operator_key`` as the operator.
  The key is checked once and never kept: the browser gets a random session token in a cookie
  (``HttpOnly``, ``SameSite=Strict``, ``Path=/dashboard``; ``Secure`` with the ``__Secure-`` name
  prefix when the request came over TLS), and the store keeps only the token's SHA-256
  (:mod:`origin.store.dashboard`).
- **Expiry**: ``dashboard.session_idle`` after the last request, at most ``dashboard.session_lifetime``
  after the login; logging out deletes the row, so the cookie opens nothing afterwards.
- **CSRF**: every session has its own random token. Every form carries it in a hidden ``csrf`` field
  and every script request in an ``X-CSRF-Token`` header; a state-changing request without the
  session's token is refused with ``403 CSRF_INVALID`` (compared in constant time). The login form,
  which has no session yet, is protected the same way by a token in a short-lived ``login_csrf``
  cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from origin.state import OriginState, get_state
from origin.store import Tenant
from origin.store.dashboard import DashboardSession
from origin.store.schema import now

COOKIE = "mediaedge_dashboard"
LOGIN_CSRF_COOKIE = "mediaedge_login_csrf"
COOKIE_PATH = "/dashboard"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
LOGIN_CSRF_SECONDS = 3600
#: A session's expiry is slid forward at most this often (one write per minute of activity).
TOUCH_EVERY = 60.0


@dataclass(frozen=True)
class Login:
    """The logged-in tenant of a dashboard request."""

    session: DashboardSession
    tenant: Tenant

    @property
    def csrf(self) -> str:
        return self.session.csrf


@dataclass(frozen=True)
class OperatorLogin:
    """The operator's session (``dashboard.operator_key``): every tenant, no tenant's own pages."""

    session: DashboardSession

    @property
    def csrf(self) -> str:
        return self.session.csrf


#: Shorter operator keys are ignored (no operator login).
MIN_OPERATOR_KEY = 32


def is_operator_key(request: Request, key: str) -> bool:
    """Whether ``key`` is the configured operator key (constant-time; never with a short or empty one)."""
    expected = get_state(request).settings.dashboard.operator_key
    return len(expected) >= MIN_OPERATOR_KEY and hmac.compare_digest(key.encode(), expected.encode())


def require_enabled(request: Request) -> None:
    """The dashboard answers 404 everywhere when ``dashboard.enabled`` is false."""
    if not get_state(request).settings.dashboard.enabled:
        raise HTTPError(404, "Not found")


def secure(request: Request) -> bool:
    """Whether the browser reached us over TLS (``X-Forwarded-Proto`` counts behind a trusted proxy)."""
    return request.url.scheme == "https"


def cookie_name(request: Request, name: str = COOKIE) -> str:
    return f"__Secure-{name}" if secure(request) else name


def _lifetimes(state: OriginState) -> tuple[float, float]:
    settings = state.settings.dashboard
    return float(parse_duration(settings.session_idle)), float(parse_duration(settings.session_lifetime))


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        cookie_name(request, name),
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        cookie_name(request, name), path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure(request)
    )


async def start(request: Request, response: Response, tenant: Tenant | None, api_key_id: str | None) -> None:
    """Open a session for ``tenant`` (None: the operator's) and set its cookie on ``response``."""
    state = get_state(request)
    idle, lifetime = _lifetimes(state)
    _, token = await state.store.dashboard_sessions.create(
        tenant.id if tenant else None, api_key_id, idle=idle, lifetime=lifetime, operator=tenant is None
    )
    set_cookie(request, response, COOKIE, token, int(lifetime))
    clear_cookie(request, response, LOGIN_CSRF_COOKIE)


async def end(request: Request, response: Response) -> None:
    token = request.cookies.get(cookie_name(request))
    if token:
        await get_state(request).store.dashboard_sessions.delete(token)
    clear_cookie(request, response, COOKIE)


async def _live(request: Request) -> DashboardSession | None:
    require_enabled(request)
    token = request.cookies.get(cookie_name(request))
    if not token:
        return None
    state = get_state(request)
    session = await state.store.dashboard_sessions.get(token)
    if session is not None and session.last_seen_at + TOUCH_EVERY < now():
        idle, lifetime = _lifetimes(state)
        await state.store.dashboard_sessions.touch(session, idle=idle, lifetime=lifetime)
    return session


async def current(request: Request) -> Login | None:
    """The request's live tenant session and its (active) tenant, sliding the session's expiry."""
    session = await _live(request)
    if session is None or session.operator or session.tenant_id is None:
        return None
    tenant = await get_state(request).store.tenants.get(session.tenant_id)
    if tenant is None or not tenant.active:
        return None
    return Login(session, tenant)


async def current_operator(request: Request) -> OperatorLogin | None:
    """The request's live operator session (only while an operator key is configured)."""
    session = await _live(request)
    if session is None or not session.operator:
        return None
    if len(get_state(request).settings.dashboard.operator_key) < MIN_OPERATOR_KEY:
        return None
    return OperatorLogin(session)


def check_csrf(expected: str, given: str | None) -> None:
    """Refuse a state-changing request whose CSRF token is missing or not the session's."""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPError(
            403, "The form's CSRF token is missing or does not match your session; reload the page", "CSRF_INVALID"
        )


def login_csrf(request: Request) -> str:
    """The login form's CSRF token: the one in the browser's cookie, else a new one (set it with the page)."""
    return request.cookies.get(cookie_name(request, LOGIN_CSRF_COOKIE)) or secrets.token_urlsafe(32)
