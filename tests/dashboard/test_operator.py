"""The operator login (dashboard.operator_key): every tenant, create, disable and enable; nothing else."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest

from origin.app import create_app
from tests.dashboard.conftest import csrf_of, log_in

pytestmark = pytest.mark.anyio

OPERATOR_KEY = "op_" + "k" * 40


def _client(origin_state) -> httpx.AsyncClient:
    app = create_app(origin_state.settings, origin_state)
    app.state.origin = origin_state
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://origin.test")


def _with_key(origin_state, key: str) -> None:
    dashboard = dataclasses.replace(origin_state.settings.dashboard, operator_key=key)
    origin_state.settings = origin_state.settings.replace(dashboard=dashboard)


async def test_operator_sees_creates_and_disables_tenants(origin_state, tenant):
    _with_key(origin_state, OPERATOR_KEY)
    async with _client(origin_state) as client:
        answer = await log_in(client, OPERATOR_KEY)
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/operator"
        page = await client.get("/dashboard/operator")
        assert page.status_code == 200 and f'data-tenant-id="{tenant.tenant.id}"' in page.text
        # Tenant pages are not the operator's.
        assert (await client.get("/dashboard/settings")).headers["location"] == "/dashboard/operator"

        created = await client.post("/dashboard/operator/tenants", data={"csrf": csrf_of(page.text), "name": "beta"})
        assert created.status_code == 200
        api_key = re.search(r'id="created-api-key">([^<]+)<', created.text).group(1)
        found = await origin_state.store.api_keys.authenticate(api_key)
        assert found is not None and found[0].name == "beta"
        taken = await client.post("/dashboard/operator/tenants", data={"csrf": csrf_of(page.text), "name": "beta"})
        assert taken.status_code == 409

        refused = await client.post(f"/dashboard/operator/tenants/{tenant.tenant.id}/active", data={"active": "false"})
        assert refused.status_code == 403 and refused.json()["code"] == "CSRF_INVALID"
        assert (await origin_state.store.tenants.get(tenant.tenant.id)).active

    async with _client(origin_state) as tenant_browser:  # the tenant is logged in meanwhile
        assert (await log_in(tenant_browser, tenant.api_key)).status_code == 303
        async with _client(origin_state) as client:
            page = await client.get("/dashboard/login")
            await client.post("/dashboard/login", data={"csrf": csrf_of(page.text), "api_key": OPERATOR_KEY})
            page = await client.get("/dashboard/operator")
            off = await client.post(
                f"/dashboard/operator/tenants/{tenant.tenant.id}/active",
                data={"csrf": csrf_of(page.text), "active": "false"},
            )
            assert off.status_code == 200 and "disabled" in off.text
        assert not (await origin_state.store.tenants.get(tenant.tenant.id)).active
        assert await origin_state.store.api_keys.authenticate(tenant.api_key) is None
        assert (await tenant_browser.get("/dashboard/settings")).status_code == 303  # its session ended


async def test_tenant_sessions_cannot_reach_operator_pages(browser):
    _with_key(browser.state, OPERATOR_KEY)
    assert (await browser.client.get("/dashboard/operator")).headers["location"] == "/dashboard/login"
    answer = await browser.post("/dashboard/operator/tenants", {"name": "sneaky"})
    assert answer.status_code == 401
    assert await browser.state.store.tenants.find("sneaky") is None


@pytest.mark.parametrize("key", ["", "short-key"])
async def test_no_operator_login_without_a_long_key(origin_state, key):
    _with_key(origin_state, key)
    async with _client(origin_state) as client:
        answer = await log_in(client, key or "anything")
        assert answer.status_code == 401
        assert (await client.get("/dashboard/operator")).status_code == 303


async def test_an_operator_session_ends_when_the_key_is_removed(origin_state):
    _with_key(origin_state, OPERATOR_KEY)
    async with _client(origin_state) as client:
        await log_in(client, OPERATOR_KEY)
        assert (await client.get("/dashboard/operator")).status_code == 200
        _with_key(origin_state, "")
        assert (await client.get("/dashboard/operator")).status_code == 303
