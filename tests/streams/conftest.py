"""Fixtures for stream tests: fast settings, an origin with the in-memory provider, the ladder made once.

- ``settings`` / ``origin_state`` override the origin fixtures: ultrafast presets, no retry backoff,
  short leases and polls, and :class:`~mediaedge.streams.MemoryStreamProvider` registered as ``memory``.
- ``ladder`` (session): the 10 s clip transcoded once by the ffmpeg provider to 360p/240p/144p + AAC
  (CMAF), written to a local-disk backend; tests inspect its files.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest
from mediaedge_storage_local import LocalStorage
from mediaedge_stream_ffmpeg import FfmpegProvider

from mediaedge import hookimpl
from mediaedge.plugins import get_plugin_manager
from mediaedge.qualities import parse_qualities
from mediaedge.settings import Settings, load_settings
from mediaedge.storage import StorageBackend
from mediaedge.streams import MemoryStreamProvider, ProviderStream, StreamContext, StreamSource
from origin.state import OriginState
from origin.worker import Worker
from tests.fixtures.origin import make_settings

FAST: dict[str, dict[str, Any]] = {
    "jobs": {"lease_seconds": 5.0, "heartbeat_seconds": 0.5, "poll_interval": 0.05, "backoff_scale": 0.0},
    "streams": {"poll_interval": 0.01},
    "plugins": {"ffmpeg": {"preset": "ultrafast"}},
}

LADDER = [
    {"resolution": "360p", "type": "dash", "container_type": "fmp4", "video_config": {"bitrate": 800_000}},
    {"resolution": "240p", "type": "dash", "container_type": "fmp4", "video_config": {"bitrate": 400_000}},
    {
        "resolution": "144p",
        "type": "hls",
        "container_type": "mp4",
        "video_config": {"codec": "h264", "bitrate": 200_000},
    },
    {
        "resolution": "audio",
        "type": "dash",
        "container_type": "fmp4",
        "audio_config": {"codec": "aac", "bitrate": 128_000, "channels": "2", "sample_rate": 48_000},
    },
]
SOURCE_KEY = "t1/u1/lectures/clip.mp4"
PREFIX = SOURCE_KEY + ".stream/"


class MemoryProviderPlugin:
    @hookimpl
    def register_stream_providers(self) -> list[type]:
        return [MemoryStreamProvider]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var", **FAST)


@pytest.fixture
async def origin_state(settings: Settings) -> AsyncIterator[OriginState]:
    state = await OriginState.open(settings, get_plugin_manager(extra=[MemoryProviderPlugin()]))
    try:
        yield state
    finally:
        await state.close()


async def drain(state: OriginState) -> int:
    """Run due jobs until none is left; returns how many ran."""
    worker, ran = Worker(state), 0
    while await worker.run_one():
        ran += 1
    return ran


async def stream_events(state: OriginState, tenant_id: str) -> list[dict[str, Any]]:
    """The ``stream`` webhooks in the tenant's outbox, oldest first."""
    deliveries = await state.store.webhooks.recent(tenant_id, limit=500)
    return [orjson.loads(d.body) for d in sorted(deliveries, key=lambda d: d.created_at) if d.event_type == "stream"]


@dataclass
class Reports:
    calls: list[tuple[str, float | None]]

    async def __call__(self, status: str, progress: float | None) -> None:
        self.calls.append((status, progress))


@dataclass
class Published:
    """Each stream a provider published while it worked, with the HLS master stored at that moment."""

    root: Path  # the stream's output prefix on disk
    calls: list[tuple[ProviderStream, str | None]]

    async def __call__(self, stream: ProviderStream) -> None:
        master = self.root / "master.m3u8"
        self.calls.append((stream, master.read_text() if master.exists() else None))


def make_context(
    http: httpx.AsyncClient, work_dir: Path, reports: Reports | None = None, published: Published | None = None
) -> StreamContext:
    ctx = StreamContext(http, work_dir, reports or Reports([]), lambda key: f"https://edge.test/F1/{key}")
    if published is not None:
        ctx.publish = published
    return ctx


async def transcode(
    root: Path,
    clip: Path,
    qualities: list[dict[str, Any]] | None,
    options: dict[str, Any] | None = None,
    published: Published | None = None,
) -> tuple[StorageBackend, ProviderStream, Reports]:
    """Run the ffmpeg provider on ``clip`` stored at :data:`SOURCE_KEY` of a local backend in ``root``."""
    storage = LocalStorage(root / "objects")
    target = storage.path(SOURCE_KEY)
    target.parent.mkdir(parents=True)
    shutil.copyfile(clip, target)
    ffmpeg = {"preset": "ultrafast", **(options or {})}
    overrides: dict[str, Any] = {"data_dir": str(root / "var"), "plugins": {"ffmpeg": ffmpeg}}
    provider = FfmpegProvider.from_settings(load_settings(environ={}, overrides=overrides))
    source = StreamSource(
        "s1", f"https://edge.test/F1/{SOURCE_KEY}", "clip", key=SOURCE_KEY, storage=storage, output_prefix=PREFIX
    )
    reports = Reports([])
    (root / "work").mkdir()
    async with httpx.AsyncClient() as http:
        result = await provider.create(
            source,
            parse_qualities(qualities) if qualities else None,
            make_context(http, root / "work", reports, published),
        )
    return storage, result, reports


@dataclass
class Ladder:
    dir: Path  # the stream's output prefix on disk
    result: ProviderStream
    reports: Reports
    published: Published


@pytest.fixture(scope="session")
def ladder(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> Ladder:
    root = tmp_path_factory.mktemp("ladder")
    published = Published(root / "objects" / PREFIX, [])
    _, result, reports = anyio.run(transcode, root, clip, LADDER, None, published)
    return Ladder(root / "objects" / PREFIX, result, reports, published)
