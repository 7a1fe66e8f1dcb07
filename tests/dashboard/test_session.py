"""Dashboard login, session cookie, CSRF, logout and expiry."""

from __future__ import annotations

import httpx
import pytest

from origin.app import create_app
from origin.store.dashboard import session_id
from tests.dashboard.conftest import csrf_of, log_in

pytestmark = pytest.mark.anyio


def _client(origin_state, base_url: str = "http://origin.test") -> httpx.AsyncClient:
    app = create_app(origin_state.settings, origin_state)
    app.state.origin = origin_state
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


async def test_pages_need_a_login(origin_state):
    async with _client(origin_state) as client:
        for path in ("/dashboard", "/dashboard/settings", "/dashboard/webhooks", "/dashboard/usage"):
            answer = await client.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/dashboard/login")
        refused = await client.post("/dashboard/settings/webhook", data={"webhook_url": ""})
        assert refused.status_code == 401
        assert refused.json()["code"] == "DASHBOARD_LOGIN_REQUIRED"


async def test_login_sets_a_strict_http_only_cookie_and_keeps_no_key(origin_state, tenant):
    async with _client(origin_state) as client:
        answer = await log_in(client, tenant.api_key)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/dashboard/settings"
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("mediaedge_dashboard="))
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in flags and "samesite=strict" in flags and "path=/dashboard" in flags
        assert "secure" not in flags  # plain HTTP: a Secure cookie would never come back
        token = cookie.split(";")[0].split("=", 1)[1]
        assert tenant.api_key not in cookie
        assert (await origin_state.store.dashboard_sessions.get(token)).id == session_id(token)
        page = await client.get("/dashboard/settings")
        assert page.status_code == 200
        assert "General settings" in page.text and tenant.tenant.name in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


async def test_cookie_is_secure_under_tls(origin_state, tenant):
    async with _client(origin_state, "https://origin.test") as client:
        answer = await log_in(client, tenant.api_key)
        assert answer.status_code == 303
        cookie = next(c for c in answer.headers.get_list("set-cookie") if "mediaedge_dashboard=" in c)
        assert cookie.startswith("__Secure-mediaedge_dashboard=")
        assert "secure" in [part.strip().lower() for part in cookie.split(";")]
        assert (await client.get("/dashboard/settings")).status_code == 200


async def test_wrong_key_and_missing_login_csrf_are_refused(origin_state, tenant):
    async with _client(origin_state) as client:
        page = await client.get("/dashboard/login")
        wrong = await client.post("/dashboard/login", data={"csrf": csrf_of(page.text), "api_key": "tk_nope"})
        assert wrong.status_code == 401
        assert "not valid" in wrong.text
        assert not [c for c in wrong.headers.get_list("set-cookie") if c.startswith("mediaedge_dashboard=")]
        forged = await client.post("/dashboard/login", data={"csrf": "forged", "api_key": tenant.api_key})
        assert forged.status_code == 403
        assert forged.json()["code"] == "CSRF_INVALID"
    async with _client(origin_state) as fresh:  # no login_csrf cookie at all (a cross-site form)
        answer = await fresh.post("/dashboard/login", data={"csrf": "x", "api_key": tenant.api_key})
        assert answer.status_code == 403
        assert answer.json()["code"] == "CSRF_INVALID"


async def test_login_redirects_only_inside_the_dashboard(origin_state, tenant):
    targets = [
        ("/dashboard/usage", "/dashboard/usage"),
        ("https://evil.example/", "/dashboard/settings"),
        ("//evil.example/dashboard", "/dashboard/settings"),
    ]
    async with _client(origin_state) as client:
        for target, expected in targets:
            client.cookies.clear()
            page = await client.get("/dashboard/login")
            answer = await client.post(
                "/dashboard/login", data={"csrf": csrf_of(page.text), "api_key": tenant.api_key, "next": target}
            )
            assert answer.headers["location"] == expected


async def test_logout_ends_the_session(origin_state, tenant):
    async with _client(origin_state) as client:
        answer = await log_in(client, tenant.api_key)
        token = client.cookies["mediaedge_dashboard"]
        page = await client.get("/dashboard/settings")
        no_csrf = await client.post("/dashboard/logout")
        assert no_csrf.status_code == 403
        out = await client.post("/dashboard/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/dashboard/login"
        assert await origin_state.store.dashboard_sessions.get(token) is None
        client.cookies.set("mediaedge_dashboard", token, domain="origin.test", path="/dashboard")
        assert (await client.get("/dashboard/settings")).status_code == 303
        assert answer.status_code == 303


async def test_sessions_expire(origin_state, tenant):
    sessions = origin_state.store.dashboard_sessions
    _, idle_token = await sessions.create(tenant.tenant.id, None, idle=0.0, lifetime=3600)
    assert await sessions.get(idle_token) is None
    live, token = await sessions.create(tenant.tenant.id, None, idle=3600, lifetime=3600)
    assert (await sessions.get(token)) == live
    # Sliding the idle expiry never passes the lifetime.
    capped = await sessions.touch(live, idle=10_000, lifetime=3600)
    assert capped == pytest.approx(live.created_at + 3600)
    async with _client(origin_state) as client:
        client.cookies.set("mediaedge_dashboard", idle_token, domain="origin.test", path="/dashboard")
        assert (await client.get("/dashboard/settings")).status_code == 303
    # The hourly retention sweep deletes the expired session, not the live one.
    from origin.retention import prune

    await prune(origin_state)
    assert await sessions.prune() == 0
    assert (await sessions.get(token)).id == live.id


async def test_a_disabled_tenant_is_logged_out(browser):
    await browser.state.store.tenants.update(browser.auth.tenant.id, active=False)
    assert (await browser.client.get("/dashboard/settings")).status_code == 303


async def test_dashboard_can_be_turned_off(origin_state, tenant):
    from dataclasses import replace

    origin_state.settings = origin_state.settings.replace(
        dashboard=replace(origin_state.settings.dashboard, enabled=False)
    )
    async with _client(origin_state) as client:
        assert (await client.get("/dashboard/login")).status_code == 404
        assert (await client.get("/dashboard/settings")).status_code == 404


async def test_cors_never_lets_another_site_read_a_dashboard_page(browser):
    page = await browser.client.get("/dashboard/settings", headers={"Origin": "https://evil.example"})
    assert page.status_code == 200
    assert "access-control-allow-credentials" not in page.headers
    preflight = await browser.client.options(
        "/dashboard/settings/webhook",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-credentials" not in preflight.headers
