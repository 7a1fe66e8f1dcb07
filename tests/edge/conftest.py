"""Fixtures for edge app tests: settings, a fake cache with a few objects, a fake origin, the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from edge.app import EdgeApp, create_app
from mediaedge.settings import Settings, load_settings
from mediaedge.tokens import SigningKey, generate_signing_key
from tests.edge.fakes import (
    DATA,
    FILE_IDS,
    ORIGIN,
    PLAYLIST,
    PUBLIC,
    SECRET,
    SEGMENT,
    SIGNED,
    TENANTS,
    WL_PUBLIC,
    WL_SIGNED,
    FakeCache,
    FakeOrigin,
)
from tests.edge.serving import VIAS, edge_client


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_signing_key("RS256")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        environ={},
        overrides={"data_dir": str(tmp_path), "cluster": {"edge_secret": SECRET}, "edge": {"origin_url": ORIGIN}},
    )


@pytest.fixture
def cache() -> FakeCache:
    cache = FakeCache()
    cache.add(PUBLIC, DATA, file_id=FILE_IDS[PUBLIC])
    cache.add(SIGNED, DATA, access="signed", file_id=FILE_IDS[SIGNED])
    cache.add(PLAYLIST, b"#EXTM3U\n720p/seg-001.ts\n", access="signed", file_id=FILE_IDS[PLAYLIST])
    cache.add(SEGMENT, DATA[:500], access="signed", file_id=FILE_IDS[SEGMENT])
    cache.add(WL_PUBLIC, DATA, file_id=FILE_IDS[WL_PUBLIC])
    cache.add(WL_SIGNED, DATA, access="signed", file_id=FILE_IDS[WL_SIGNED])
    return cache


@pytest.fixture
def origin(signing_key: SigningKey) -> FakeOrigin:
    return FakeOrigin(keys=[signing_key], tenants={k: dict(v) for k, v in TENANTS.items()})


@pytest.fixture
async def app(settings: Settings, cache: FakeCache, origin: FakeOrigin) -> AsyncIterator[EdgeApp]:
    async with create_app(settings, cache=cache, transport=origin.transport()) as edge:
        yield edge


@pytest.fixture(params=VIAS)
def via(request: pytest.FixtureRequest) -> str:
    """How the test reaches the edge: in-process (``asgi``), in-process the way the lean server calls
    it (``fast``: its fast path first, every answer just recorded replayed at once), or over sockets
    through the lean server (``lean``, fast path included)."""
    return str(request.param)


@pytest.fixture
async def client(app: EdgeApp, via: str) -> AsyncIterator[httpx.AsyncClient]:
    async with edge_client(app, via) as http:
        yield http
