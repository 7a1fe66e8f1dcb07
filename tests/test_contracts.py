"""Every built-in storage backend and stream provider runs the contract suites of mediaedge.testing,
as a third-party plugin would (tests/plugins/dict_storage.py runs them in one line each)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mediaedge_storage_local import LocalStorage
from mediaedge_storage_s3 import S3Storage
from mediaedge_stream_cloudflare import CloudflareStreamProvider
from mediaedge_stream_ffmpeg import FfmpegProvider
from mediaedge_stream_vdocipher import VdocipherProvider

from mediaedge.storage import MemoryStorage, StorageBackend
from mediaedge.streams import MemoryStreamProvider, StreamProvider, StreamSource
from mediaedge.testing import StorageBackendContract, StreamProviderContract, storage_contract, stream_provider_contract
from tests.fixtures.loopback import serve_asgi
from tests.fixtures.origin import make_settings
from tests.plugins.dict_storage import DictStorage
from tests.streams.fakes import CF_ACCOUNT, CF_TOKEN, VDO_SECRET, FakeCloudflare, FakeVdocipher

TestLocalStorage = storage_contract(LocalStorage, {"kind": "local", "root": "{tmp_path}/objects"})
TestMemoryStorage = storage_contract(MemoryStorage, {"kind": "memory"})
TestDictStorage = storage_contract(DictStorage, {"kind": "dict", "namespace": "contract"})
TestMemoryStreamProvider = stream_provider_contract(MemoryStreamProvider)


class TestS3Storage(StorageBackendContract):
    @pytest.fixture
    async def backend(self, s3_backend_options: dict[str, Any]) -> AsyncIterator[StorageBackend]:
        backend = S3Storage.from_options(s3_backend_options)
        yield backend
        await backend.close()


class TestFfmpegProvider(StreamProviderContract):
    @pytest.fixture
    def provider(self, tmp_path: Path) -> StreamProvider:
        return FfmpegProvider.from_settings(make_settings(tmp_path, plugins={"ffmpeg": {"preset": "ultrafast"}}))

    @pytest.fixture
    def qualities(self) -> Any:
        from mediaedge.qualities import parse_qualities

        return parse_qualities([{"resolution": "144p", "type": "hls", "container_type": "mp4"}])

    @pytest.fixture
    def stream_source(self, tmp_path: Path, clip: Path) -> StreamSource:
        storage = LocalStorage(tmp_path / "objects")
        key = "t1/u1/lectures/clip.mp4"
        storage.path(key).parent.mkdir(parents=True)
        shutil.copyfile(clip, storage.path(key))
        return StreamSource(
            "s1", f"https://edge.test/F1/{key}", "clip", key=key, storage=storage, output_prefix=key + ".stream/"
        )


class TestCloudflareStreamProvider(StreamProviderContract):
    @pytest.fixture
    async def provider(self, tmp_path: Path) -> AsyncIterator[StreamProvider]:
        fake = FakeCloudflare()
        async with serve_asgi(fake.app) as url:
            cloudflare = {"account_id": CF_ACCOUNT, "api_token": CF_TOKEN, "base_url": f"{url}/client/v4"}
            yield CloudflareStreamProvider.from_settings(make_settings(tmp_path, plugins={"cloudflare": cloudflare}))


class TestVdocipherProvider(StreamProviderContract):
    @pytest.fixture
    async def provider(self, tmp_path: Path) -> AsyncIterator[StreamProvider]:
        fake = FakeVdocipher()
        async with serve_asgi(fake.app) as url:
            vdocipher = {"api_secret": VDO_SECRET, "base_url": f"{url}/api"}
            yield VdocipherProvider.from_settings(make_settings(tmp_path, plugins={"vdocipher": vdocipher}))


def test_a_third_party_runs_a_suite_with_one_line_and_sees_what_failed(tmp_path: Path) -> None:
    """Outside this repository (no conftest): the entry-point plugin makes the suite's asserts explain."""
    (tmp_path / "test_theirs.py").write_text(
        "from mediaedge.storage import MemoryStorage, ObjectInfo\n"
        "from mediaedge.testing import storage_contract\n\n"
        "class Sizeless(MemoryStorage):\n"
        "    async def stat(self, key):\n"
        "        info = await super().stat(key)\n"
        "        return ObjectInfo(info.key, 0, info.etag, info.last_modified)\n\n"
        "TestSizeless = storage_contract(Sizeless, {'kind': 'memory'})\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "test_theirs.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert "At index 3 diff: 0 != 16384" in result.stdout  # a rewritten assert, not a bare AssertionError
    assert "2 failed, 15 passed" in result.stdout  # the two tests that check a size
