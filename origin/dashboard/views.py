"""The dashboard's pages: login, general settings, webhooks, usage (media and uploads in :mod:`.media`).

Pages are server-rendered; a form posts to its own URL and the answer is the page again, with what
changed (a secret shown once lives only in that answer). Every handler is translation only: it
calls the store's repositories and the services the API dialects use.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mediaedge.errors import HTTPError
from mediaedge.net import InvalidURL, NetError, NetPolicy
from mediaedge.whitelist import TenantPolicy, Whitelist, normalise_entry
from origin.dashboard import session
from origin.dashboard.render import render, size_text
from origin.dashboard.session import CSRF_FIELD, Login
from origin.edge_api import edge_whitelist
from origin.editor import developers
from origin.state import OriginState, get_state
from origin.store import Tenant
from origin.store.stats import DAY
from origin.webhooks import MAX_ATTEMPTS

Handler = Callable[[Request, Login], Awaitable[Response]]
MAX_ENTRIES = 200
MAX_ENTRY = 253
MAX_KEY_NAME = 100
WEBHOOK_PAGE = 50
USAGE_DAYS = 30
WEBHOOK_STATUSES = ("pending", "delivered", "failed", "skipped")
OPERATOR_HOME = "/dashboard/operator"


def _safe_next(value: str | None) -> str:
    """Where to go after login: a dashboard path only (never another site)."""
    if value and value.startswith("/dashboard") and "//" not in value and "\\" not in value:
        return value
    return "/dashboard/settings"


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A logged-in page: no session → to the login form; a POST must carry the session's CSRF token."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        login = await session.current(request)
        if login is None:
            if request.method != "GET":
                raise HTTPError(401, "Log in to the dashboard first", "DASHBOARD_LOGIN_REQUIRED")
            if await session.current_operator(request):
                return RedirectResponse(OPERATOR_HOME, 303)
            return RedirectResponse(f"/dashboard/login?next={quote(request.url.path)}", 303)
        if request.method != "POST":
            return await handler(request, login)
        form = await request.form()
        try:
            session.check_csrf(login.csrf, _text(form, CSRF_FIELD))
            request.state.form = form
            return await handler(request, login)
        finally:
            await form.close()  # a multipart form's uploaded files

    return endpoint


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _form(request: Request) -> FormData:
    form: FormData = request.state.form
    return form


# -- login -----------------------------------------------------------------------------------------


async def index(request: Request) -> Response:
    if await session.current(request):
        return RedirectResponse("/dashboard/settings", 303)
    return RedirectResponse(OPERATOR_HOME if await session.current_operator(request) else "/dashboard/login", 303)


def _login_page(request: Request, status: int = 200, error: str = "") -> Response:
    session.require_enabled(request)
    token = session.login_csrf(request)
    response = render(
        request, "login.html", None, status, csrf=token, error=error, next=_safe_next(request.query_params.get("next"))
    )
    session.set_cookie(request, response, session.LOGIN_CSRF_COOKIE, token, session.LOGIN_CSRF_SECONDS)
    return response


async def login_form(request: Request) -> Response:
    if await session.current(request):
        return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
    if await session.current_operator(request):
        return RedirectResponse(OPERATOR_HOME, 303)
    return _login_page(request)


async def authenticate(state: OriginState, api_key: str) -> tuple[Tenant, str] | None:
    """The active tenant an (unrevoked) API key belongs to, and the key's id."""
    found = await state.store.api_keys.authenticate(api_key) if api_key else None
    return None if found is None else (found[0], found[1].id)


async def login_submit(request: Request) -> Response:
    session.require_enabled(request)
    form = await request.form()
    expected = request.cookies.get(session.cookie_name(request, session.LOGIN_CSRF_COOKIE))
    if not expected:
        raise HTTPError(403, "The login form has expired; reload the page", "CSRF_INVALID")
    session.check_csrf(expected, _text(form, CSRF_FIELD))
    key = _text(form, "api_key")
    if session.is_operator_key(request, key):
        response = RedirectResponse(OPERATOR_HOME, 303)
        await session.start(request, response, None, None)
        return response
    found = await authenticate(get_state(request), key)
    if found is None:
        return _login_page(request, 401, "That API key is not valid.")
    tenant, key_id = found
    response = RedirectResponse(_safe_next(_text(form, "next")), 303)
    await session.start(request, response, tenant, key_id)
    return response


async def logout(request: Request) -> Response:
    """Tenant or operator: end the session (with the session's CSRF token)."""
    login = await session.current(request) or await session.current_operator(request)
    if login is None:
        return RedirectResponse("/dashboard/login", 303)
    form = await request.form()
    session.check_csrf(login.csrf, _text(form, CSRF_FIELD))
    response = RedirectResponse("/dashboard/login", 303)
    await session.end(request, response)
    return response


# -- general settings ------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def parse_domains(text: str) -> tuple[list[str], list[str]]:
    """Whitelist entries as the edge will match them (normalised), and the entries that name no host."""
    entries, bad = [], []
    for line in _lines(text):
        normalised = normalise_entry(line) if len(line) <= MAX_ENTRY else None
        if normalised is None:
            bad.append(line)
        elif normalised not in entries:
            entries.append(normalised)
    return entries, bad


def parse_app_ids(text: str) -> tuple[list[str], list[str]]:
    ids, bad = [], []
    for line in _lines(text):
        if len(line) > MAX_ENTRY or any(c.isspace() or not c.isprintable() for c in line):
            bad.append(line)
        elif line not in ids:
            ids.append(line)
    return ids, bad


def check_policy(state: OriginState, tenant: Tenant, referer: str, app_id: str) -> str | None:
    """What the edge answers a request with this Referer and X-App-ID: None (served) or the refusal code."""
    policy = TenantPolicy(
        tenant.id, Whitelist.of(edge_whitelist(state, tenant.whitelisted_domains)), frozenset(tenant.app_ids)
    )
    return policy.refusal(referer or None, None, app_id or None)


async def check_webhook_url(state: OriginState, url: str) -> str | None:
    """Why the dispatcher would refuse to send to ``url`` (the SSRF guard's reasons), None if it would not."""
    policy = NetPolicy(state.settings.net.allow)
    try:
        parsed = policy.check_url(url)
        await policy.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except (InvalidURL, NetError) as exc:
        return str(exc)
    return None


async def _settings(request: Request, login: Login, status: int = 200, **context: Any) -> Response:
    state = get_state(request)
    tenant = await state.store.tenants.get(login.tenant.id) or login.tenant
    referer = request.query_params.get("referer", "")
    app_id = request.query_params.get("app_id", "")
    tested = "referer" in request.query_params or "app_id" in request.query_params
    context.setdefault("domains_text", "\n".join(tenant.whitelisted_domains))
    context.setdefault("app_ids_text", "\n".join(tenant.app_ids))
    context.setdefault("webhook_url", tenant.webhook_url)
    context.setdefault("keys", await state.store.api_keys.list(tenant.id))
    developer = await state.store.editor.developer(tenant.id)
    context.setdefault(
        "editor",
        developers.public_view(state.settings, developer, developers.own_urls(state.settings.origin.url))
        if developer
        else None,
    )
    return render(
        request,
        "settings.html",
        login,
        status,
        active="settings",
        tenant=tenant,
        test={"referer": referer, "app_id": app_id, "refusal": check_policy(state, tenant, referer, app_id)}
        if tested
        else None,
        origin_host=state.settings.origin.url,
        **context,
    )


@page
async def settings_page(request: Request, login: Login) -> Response:
    return await _settings(request, login)


@page
async def save_whitelist(request: Request, login: Login) -> Response:
    form = _form(request)
    domains, bad_domains = parse_domains(_text(form, "domains"))
    app_ids, bad_ids = parse_app_ids(_text(form, "app_ids"))
    errors = [f"Not a host name: {entry}" for entry in bad_domains] + [f"Not an app ID: {i}" for i in bad_ids]
    if len(domains) > MAX_ENTRIES or len(app_ids) > MAX_ENTRIES:
        errors.append(f"At most {MAX_ENTRIES} entries of each kind")
    if errors:
        return await _settings(
            request, login, 400, errors=errors, domains_text=_text(form, "domains"), app_ids_text=_text(form, "app_ids")
        )
    await get_state(request).store.tenants.update(login.tenant.id, whitelisted_domains=domains, app_ids=app_ids)
    return await _settings(request, login, notice="Whitelist saved. Edges apply it within their tenant cache TTL.")


@page
async def save_webhook(request: Request, login: Login) -> Response:
    state = get_state(request)
    url = _text(_form(request), "webhook_url")
    if url and (reason := await check_webhook_url(state, url)):
        return await _settings(request, login, 400, errors=[f"Webhook URL refused: {reason}"], webhook_url=url)
    await state.store.tenants.update(login.tenant.id, webhook_url=url)
    return await _settings(request, login, notice="Webhook URL saved." if url else "Webhooks turned off.")


@page
async def rotate_signing_key(request: Request, login: Login) -> Response:
    key = await get_state(request).store.tenants.rotate_webhook_signing_key(login.tenant.id)
    return await _settings(
        request, login, new_signing_key=key, notice="New signing key: copy it now, it is not shown again."
    )


@page
async def create_key(request: Request, login: Login) -> Response:
    form = _form(request)
    name = _text(form, "name")
    if not name or len(name) > MAX_KEY_NAME:
        return await _settings(request, login, 400, errors=[f"A key needs a name of 1 to {MAX_KEY_NAME} characters"])
    key, secret = await get_state(request).store.api_keys.create(login.tenant.id, name, pair=bool(_text(form, "pair")))
    return await _settings(
        request,
        login,
        new_key=key,
        new_secret=secret,
        notice=f"API key {name} created: copy it now, it is not shown again.",
    )


@page
async def revoke_key(request: Request, login: Login) -> Response:
    key_id = request.path_params["key_id"]
    if not await get_state(request).store.api_keys.revoke(login.tenant.id, key_id):
        raise HTTPError(404, "API key not found", "API_KEY_NOT_FOUND")
    note = " You logged in with it: this session has ended." if key_id == login.session.api_key_id else ""
    return await _settings(request, login, notice="API key revoked." + note)


@page
async def register_editor(request: Request, login: Login) -> Response:
    """The editor's developer registration (the same service as ``POST /api/developer``)."""
    state = get_state(request)
    form = _form(request)
    body: dict[str, Any] = {
        "callBackUrl": _text(form, "callback_url"),
        "corsOrigins": _lines(_text(form, "cors_origins")),
    }
    try:
        done = await developers.register(
            state.store, state.settings, login.tenant.id, body, rotate_key=bool(_text(form, "rotate_key"))
        )
    except HTTPError as exc:
        return await _settings(request, login, 400, errors=[exc.message])
    notice = "Editor registration saved."
    if done.api_key:
        notice += " Its apiKey is shown below once."
    return await _settings(request, login, notice=notice, editor_key=done.api_key)


# -- webhooks --------------------------------------------------------------------------------------


@page
async def webhooks_page(request: Request, login: Login) -> Response:
    status = request.query_params.get("status") or None
    if status not in (None, *WEBHOOK_STATUSES):
        status = None
    deliveries = await get_state(request).store.webhooks.recent(login.tenant.id, WEBHOOK_PAGE, status)
    return render(
        request,
        "webhooks.html",
        login,
        active="webhooks",
        deliveries=deliveries,
        status=status,
        statuses=WEBHOOK_STATUSES,
    )


async def _delivery_page(request: Request, login: Login, status: int = 200, **context: Any) -> Response:
    state = get_state(request)
    delivery = await state.store.webhooks.get(login.tenant.id, request.path_params["delivery_id"])
    if delivery is None:
        raise HTTPError(404, "Webhook delivery not found", "WEBHOOK_DELIVERY_NOT_FOUND")
    attempts = await state.store.webhooks.attempts(delivery.id)
    return render(
        request, "webhook.html", login, status, active="webhooks", delivery=delivery, attempts=attempts, **context
    )


@page
async def webhook_page(request: Request, login: Login) -> Response:
    return await _delivery_page(request, login)


@page
async def redeliver(request: Request, login: Login) -> Response:
    state = get_state(request)
    again = await state.store.webhooks.redeliver(login.tenant.id, request.path_params["delivery_id"], MAX_ATTEMPTS)
    if again is None:
        raise HTTPError(404, "Webhook delivery not found", "WEBHOOK_DELIVERY_NOT_FOUND")
    return await _delivery_page(request, login, notice="Queued for delivery again.")


# -- usage -----------------------------------------------------------------------------------------

USAGE_SERIES = [
    ("uploads", "Files uploaded", "files"),
    ("upload_bytes", "Bytes uploaded", "bytes"),
    ("stored_bytes", "Bytes stored (current files, by upload day)", "bytes"),
    ("edge_bytes", "Egress bytes at the edges", "bytes"),
    ("edge_requests", "Requests at the edges", "requests"),
    ("transcoded_minutes", "Minutes transcoded", "minutes"),
    ("webhooks_delivered", "Webhooks delivered", "deliveries"),
    ("webhooks_failed", "Webhooks failed", "deliveries"),
    ("ai_caption_units", "AI captions", "minutes"),
    ("ai_speech_units", "AI speech", "seconds"),
    ("ai_image_units", "AI images", "images"),
]
#: Units counted in fractions; the others are whole numbers (files, requests, deliveries, images, bytes).
FRACTIONAL_UNITS = frozenset({"minutes", "seconds"})


_SINGULAR = {"files": "file", "requests": "request", "deliveries": "delivery", "images": "image"}


def usage_quantity(value: float, unit: str) -> str:
    """A usage total as the page shows it: ``339.9 KB``, ``1 request``, ``1,204 requests``, ``12.5 minutes``."""
    if unit == "bytes":
        return size_text(value)
    if unit in FRACTIONAL_UNITS:
        return f"{value:,.1f} {unit}"
    return f"{round(value):,} {_SINGULAR.get(unit, unit) if round(value) == 1 else unit}"


@page
async def usage_page(request: Request, login: Login) -> Response:
    today = int(time.time() // DAY)
    usage = await get_state(request).store.stats.daily_usage(login.tenant.id, today - USAGE_DAYS + 1, today)
    charts = []
    for name, title, unit in USAGE_SERIES:
        total = usage.series[name][-1] if name == "stored_bytes" else sum(usage.series[name])
        charts.append(
            {
                "id": name,
                "title": title,
                "unit": unit,
                "whole": unit not in FRACTIONAL_UNITS,
                "values": usage.series[name],
                "total": total,
                "total_text": usage_quantity(total, unit),
            }
        )
    data = {"days": [day * DAY for day in usage.days], "charts": charts}
    return render(request, "usage.html", login, active="usage", charts=charts, data=data, days=USAGE_DAYS)
