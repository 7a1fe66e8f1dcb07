"""A tenant bucket on S3 (moto's server on loopback): upload, probe, presigned download, register, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from origin.app import create_app
from origin.state import OriginState
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def s3_origin(tmp_path: Path, s3_backend_options: dict[str, Any]):
    settings = make_settings(tmp_path / "var", storage={"backends": {"s3": s3_backend_options}})
    state = await OriginState.open(settings)
    tenant, api_key = await state.store.tenants.create("s3co", settings.storage.default)
    await state.store.buckets.create(tenant.id, "archive", "s3")
    app = create_app(settings, state)
    app.state.origin = state
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as client:
        yield client, {"API-Key": api_key}, state, tenant
    await state.close()


async def test_upload_to_an_s3_bucket_probes_and_presigns(s3_origin, clip: Path):
    client, headers, state, tenant = s3_origin
    response = await client.post(
        "/upload/direct-upload",
        headers=headers,
        files={"file": ("clip.mp4", clip.read_bytes())},
        data={"bucket": "archive", "userId": "u"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert abs(body["duration"] - 10.0) <= 0.1
    info = await state.backends["s3"].stat(body["key"])
    assert info.size == clip.stat().st_size

    download = (await client.get("/files/download", params={"file": body["url"]}, headers=headers)).json()
    assert "X-Amz-Signature" in download["url"]
    async with httpx.AsyncClient() as plain:
        fetched = await plain.get(download["url"])
    assert fetched.content == clip.read_bytes()

    deleted = await client.request("DELETE", "/files/delete", headers=headers, json={"file": body["url"]})
    assert deleted.status_code == 200
    assert [o async for o in state.backends["s3"].list(f"{tenant.id}/")] == []


async def test_register_an_object_uploaded_to_s3_outside_the_platform(s3_origin, clip: Path):
    client, headers, state, tenant = s3_origin
    key = f"{tenant.id}/u/outside/clip.mp4"
    await state.backends["s3"].put_file(key, str(clip))
    response = await client.post("/files/register", headers=headers, json={"filePath": key, "bucket": "archive"})
    assert response.status_code == 201, response.text
    assert abs(response.json()["duration"] - 10.0) <= 0.1
    assert response.json()["file_size"] == clip.stat().st_size
