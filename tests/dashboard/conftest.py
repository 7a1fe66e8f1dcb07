"""Dashboard fixtures: a logged-in in-process client (the browser tests are in tests/e2e/test_dashboard.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from origin.app import create_app
from origin.state import OriginState
from tests.fixtures.origin import TenantAuth

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def log_in(client: httpx.AsyncClient, api_key: str) -> httpx.Response:
    page = await client.get("/dashboard/login")
    assert page.status_code == 200
    return await client.post(
        "/dashboard/login", data={"csrf": csrf_of(page.text), "api_key": api_key, "next": "/dashboard/settings"}
    )


@dataclass
class Browser:
    client: httpx.AsyncClient
    auth: TenantAuth
    state: OriginState

    async def csrf(self, path: str = "/dashboard/settings") -> str:
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)

    async def post(self, path: str, data: dict[str, str], page: str = "/dashboard/settings") -> httpx.Response:
        return await self.client.post(path, data={"csrf": await self.csrf(page), **data})


@pytest.fixture
async def browser(origin_state: OriginState, tenant: TenantAuth) -> AsyncIterator[Browser]:
    app = create_app(origin_state.settings, origin_state)
    app.state.origin = origin_state
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://origin.test") as client:
        answer = await log_in(client, tenant.api_key)
        assert answer.status_code == 303, answer.text
        yield Browser(client, tenant, origin_state)
