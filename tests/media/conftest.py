"""Fixtures for the media API: an in-process origin (local disk, SQLite unless told otherwise) whose
tenant calls it with ``Authorization: Bearer``, fast job settings, and generated media files.

- ``media``: a :class:`Media` — client, Bearer headers, origin state, tenant.
- ``media_on_db``: the same on each metadata backend (``db_url``: SQLite and PostgreSQL).
- ``png`` / ``m4a`` / ``clip`` (session): a 1600x900 PNG, a 3 s AAC file, the 10 s H.264/AAC clip.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pluggy
import pytest

from mediaedge.ffmpeg import ffmpeg_exe
from mediaedge.settings import Settings
from origin.app import create_app
from origin.state import OriginState
from origin.store import Tenant
from origin.worker import Worker
from tests.fixtures.origin import make_settings

FAST: dict[str, Any] = {
    "jobs": {"lease_seconds": 30.0, "heartbeat_seconds": 1.0, "poll_interval": 0.05, "backoff_scale": 0.0},
    "streams": {"poll_interval": 0.01},
    "plugins": {"ffmpeg": {"preset": "ultrafast"}},
}


@dataclass
class Media:
    client: httpx.AsyncClient
    headers: dict[str, str]
    state: OriginState
    tenant: Tenant

    async def declare(self, data: bytes, mime: str, filename: str, **extra: Any) -> httpx.Response:
        body = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "sizeBytes": len(data),
            "mime": mime,
            "filename": filename,
            **extra,
        }
        return await self.client.post("/api/v1/media/upload-url", headers=self.headers, json=body)

    async def post_form(self, ticket: dict[str, Any], data: bytes, mime: str, **fields: str) -> httpx.Response:
        """Post the file to the ticket's form the way a browser would (fields first, then the file)."""
        url = ticket["uploadUrl"]
        target = urlsplit(url).path if url.startswith(self.state.settings.origin.url) else url
        form = {**ticket["uploadFields"], **fields}
        if target.startswith("/"):
            return await self.client.post(target, data=form, files={"file": ("upload.bin", data, mime)})
        async with httpx.AsyncClient() as direct:
            return await direct.post(target, data=form, files={"file": ("upload.bin", data, mime)})

    async def upload(self, data: bytes, mime: str, filename: str, **extra: Any) -> dict[str, Any]:
        """upload-url, the form POST and finalize; the finalized asset."""
        declared = await self.declare(data, mime, filename, **extra)
        assert declared.status_code == 201, declared.text
        ticket = declared.json()["data"]
        posted = await self.post_form(ticket, data, mime)
        assert posted.status_code in (201, 204), posted.text
        finalized = await self.client.post(
            f"/api/v1/media/{ticket['assetId']}/finalize",
            headers=self.headers,
            json={"etag": posted.headers.get("etag")},
        )
        assert finalized.status_code == 200, finalized.text
        result: dict[str, Any] = finalized.json()["data"]
        return result


async def drain(state: OriginState) -> int:
    """Run due jobs (transcodes) until none is left; returns how many ran."""
    worker, ran = Worker(state), 0
    while await worker.run_one():
        ran += 1
    return ran


async def open_media(settings: Settings, pm: pluggy.PluginManager | None = None) -> AsyncIterator[Media]:
    state = await OriginState.open(settings, pm)
    try:
        tenant, api_key = await state.store.tenants.create("acme", settings.storage.default)
        app = create_app(settings, state)
        app.state.origin = state
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://origin.test") as client:
            yield Media(client, {"Authorization": f"Bearer {api_key}"}, state, tenant)
    finally:
        await state.close()


@pytest.fixture
def media_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var", **FAST)


@pytest.fixture
async def media(media_settings: Settings) -> AsyncIterator[Media]:
    async for opened in open_media(media_settings):
        yield opened


@pytest.fixture
async def media_on_db(tmp_path: Path, db_url: str) -> AsyncIterator[Media]:
    async for opened in open_media(make_settings(tmp_path / "var", database={"url": db_url}, **FAST)):
        yield opened


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def png(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("media") / "still.png"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=1600x900:rate=1", "-frames:v", "1", str(path))
    return path.read_bytes()


@pytest.fixture(scope="session")
def m4a(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("media") / "tone.m4a"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac", "-b:a", "64k", str(path))
    return path.read_bytes()
