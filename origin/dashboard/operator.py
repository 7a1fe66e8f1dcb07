"""The operator's pages (``dashboard.operator_key``): every tenant with what the edges delivered for it
over the usage window (and the total of all), create one, disable or enable one.

A disabled tenant's API keys stop working in every API and its dashboard sessions end at once; the
edges refuse its files once their tenant cache expires. Creating a tenant shows its first API key
and webhook signing key once, as ``mediaedge tenant create`` prints them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mediaedge.errors import HTTPError
from origin.dashboard import session
from origin.dashboard.render import render
from origin.dashboard.session import CSRF_FIELD, OperatorLogin
from origin.dashboard.views import MAX_KEY_NAME, USAGE_DAYS, _form, _text
from origin.state import get_state
from origin.store import UniqueViolation
from origin.store.stats import DAY, EdgeTotal

Handler = Callable[[Request, OperatorLogin], Awaitable[Response]]


def operator_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An operator page: no operator session → the login form; a POST must carry the CSRF token."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        login = await session.current_operator(request)
        if login is None:
            if request.method != "GET":
                raise HTTPError(401, "Log in to the dashboard as the operator first", "DASHBOARD_LOGIN_REQUIRED")
            return RedirectResponse("/dashboard/login", 303)
        if request.method == "POST":
            form = await request.form()
            session.check_csrf(login.csrf, _text(form, CSRF_FIELD))
            request.state.form = form
        return await handler(request, login)

    return endpoint


async def _tenants_page(request: Request, login: OperatorLogin, status: int = 200, **context: Any) -> Response:
    store = get_state(request).store
    tenants = await store.tenants.list_all()
    today = int(time.time() // DAY)
    served = await store.stats.edge_totals(today - USAGE_DAYS + 1, today)
    total = EdgeTotal(sum(t.requests for t in served.values()), sum(t.bytes for t in served.values()))
    return render(
        request,
        "operator.html",
        None,
        status,
        operator=login,
        tenants=tenants,
        served=served,
        served_total=total,
        days=USAGE_DAYS,
        **context,
    )


@operator_page
async def tenants_page(request: Request, login: OperatorLogin) -> Response:
    return await _tenants_page(request, login)


@operator_page
async def create_tenant(request: Request, login: OperatorLogin) -> Response:
    state = get_state(request)
    name = _text(_form(request), "name")
    if not name or len(name) > MAX_KEY_NAME:
        return await _tenants_page(
            request, login, 400, errors=[f"A tenant needs a name of 1 to {MAX_KEY_NAME} characters"]
        )
    try:
        tenant, api_key = await state.store.tenants.create(name, state.settings.storage.default)
    except UniqueViolation:
        return await _tenants_page(request, login, 409, errors=[f"A tenant named {name} exists already"])
    return await _tenants_page(
        request,
        login,
        created=tenant,
        api_key=api_key,
        notice=f"Tenant {name} created: copy its keys now, they are not shown again.",
    )


@operator_page
async def set_active(request: Request, login: OperatorLogin) -> Response:
    active = _text(_form(request), "active") == "true"
    tenant = await get_state(request).store.tenants.update(request.path_params["tenant_id"], active=active)
    if tenant is None:
        raise HTTPError(404, "Tenant not found", "TENANT_NOT_FOUND")
    return await _tenants_page(request, login, notice=f"Tenant {tenant.name} {'enabled' if active else 'disabled'}.")
