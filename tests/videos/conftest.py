"""Fixtures for the video objects API: a fast origin (small upload parts, quick jobs, ultrafast x264),
a tenant with its Bearer key and its stream key pair, and helpers to upload media in parts."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaedge.settings import Settings
from origin.state import OriginState
from tests.fixtures.origin import make_settings
from tests.streams.conftest import FAST

#: Parts of 64 KiB to 1 MiB in these tests (the API's defaults are 50 MB to 200 MB).
MIN_PART = 64 * 1024
MAX_PART = 1024 * 1024


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var", **FAST, videos={"min_part_bytes": MIN_PART, "max_part_bytes": MAX_PART})


@dataclass
class VideoTenant:
    id: str
    api_key: str
    public_key: str
    secret_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def pair_headers(self) -> dict[str, str]:
        return {"stream-public-key": self.public_key, "stream-secret-key": self.secret_key}


async def make_tenant(state: OriginState, name: str) -> VideoTenant:
    tenant, api_key = await state.store.tenants.create(name, state.settings.storage.default)
    key, secret = await state.store.api_keys.create(tenant.id, "stream", pair=True)
    assert key.public_key
    return VideoTenant(tenant.id, api_key, key.public_key, secret)


@pytest.fixture
async def vtenant(origin_state: OriginState) -> VideoTenant:
    return await make_tenant(origin_state, "studio")


@pytest.fixture
async def client(origin_client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    yield origin_client


async def create_video(client: httpx.AsyncClient, tenant: VideoTenant, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/videos/create", headers=tenant.headers, json={"title": "Lesson", **body})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def send_part(
    client: httpx.AsyncClient,
    tenant: VideoTenant,
    video_id: str,
    data: bytes,
    index: int,
    first: int,
    total: int,
    md5: str | None = None,
    filename: str = "clip.mp4",
) -> httpx.Response:
    headers = {**tenant.headers, "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}"}
    form = {"index": str(index), "hash": md5 or hashlib.md5(data).hexdigest()}
    return await client.post(
        f"/api/videos/{video_id}/part",
        headers=headers,
        data=form,
        files={"file": (filename, data, "application/octet-stream")},
    )


async def upload_in_parts(
    client: httpx.AsyncClient, tenant: VideoTenant, video_id: str, media: bytes, part_size: int = MIN_PART
) -> None:
    """Send ``media`` in parts of ``part_size``, last part first (any order is allowed)."""
    offsets = list(range(0, len(media), part_size))
    for index, first in reversed(list(enumerate(offsets))):
        response = await send_part(client, tenant, video_id, media[first : first + part_size], index, first, len(media))
        assert response.status_code == 200, response.text
