"""CORS on the origin API: browsers may upload with TUS and call the API from allowed origins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mediaedge.settings import SettingsError
from origin.app import create_app
from origin.state import OriginState
from tests.fixtures.origin import TenantAuth, make_settings

pytestmark = pytest.mark.anyio

APP = "https://app.example.com"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "api-key, tus-resumable, upload-offset, content-type",
}


@pytest.fixture
async def restricted_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(tmp_path / "var", origin={"cors_origins": [APP]})
    state = await OriginState.open(settings)
    try:
        app = create_app(settings, state)
        app.state.origin = state  # ASGITransport runs no lifespan
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://origin.test") as client:
            yield client
    finally:
        await state.close()


async def test_preflight_for_a_tus_patch_is_allowed_from_any_origin_by_default(origin_client):
    r = await origin_client.options("/files/abc", headers=PREFLIGHT)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "PATCH" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-allow-headers"] == PREFLIGHT["Access-Control-Request-Headers"]


async def test_tus_discovery_options_without_preflight_headers_still_reaches_tus(origin_client, tenant: TenantAuth):
    r = await origin_client.options("/files", headers={"Origin": APP, **tenant.headers})
    assert r.status_code in (200, 204)
    assert r.headers["tus-version"] == "1.0.0"
    assert r.headers["access-control-allow-origin"] == "*"


async def test_browser_can_read_the_location_and_offset_of_a_tus_creation(origin_client, tenant: TenantAuth):
    headers = {"Origin": APP, "Tus-Resumable": "1.0.0", "Upload-Length": "4", **tenant.headers}
    r = await origin_client.post("/files", headers=headers)
    assert r.status_code == 201
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"location", "upload-offset", "tus-resumable"} <= exposed


async def test_errors_carry_cors_headers_so_the_browser_can_read_them(origin_client):
    r = await origin_client.post("/files", headers={"Origin": APP, "Tus-Resumable": "1.0.0"})
    assert r.status_code == 400 and r.json()["statusCode"] == 400
    assert r.headers["access-control-allow-origin"] == "*"


async def test_restricted_origins_reflect_the_allowed_one(restricted_client):
    r = await restricted_client.options("/upload/direct-upload", headers=PREFLIGHT)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == APP
    assert r.headers["vary"] == "Origin"


async def test_restricted_origins_refuse_others_with_the_seed_error(restricted_client):
    r = await restricted_client.options("/files", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert r.status_code == 403
    assert r.json() == {
        "statusCode": 403,
        "message": "This origin may not call the API",
        "error": "Forbidden",
        "code": "ORIGIN_NOT_ALLOWED",
    }
    simple = await restricted_client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers


def test_cors_origins_setting_is_validated(tmp_path: Path):
    with pytest.raises(SettingsError, match="origin.cors_origins"):
        make_settings(tmp_path, origin={"cors_origins": ["app.example.com/path"]})
