"""A real origin and a real worker process for the uploads API, a short clip, and a Bearer client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fixtures.media import make_clip
from tests.fixtures.origin_server import TEST_ENV, OriginProcess
from tests.fixtures.worker import WorkerProcess

#: No retry backoff, quick job polls, the fastest x264 preset: a 2 s clip is done in seconds.
FAST_ENV = {
    **TEST_ENV,
    "MEDIAEDGE_JOBS_POLL_INTERVAL": "0.05",
    "MEDIAEDGE_JOBS_BACKOFF_SCALE": "0",
    "MEDIAEDGE_STREAMS_POLL_INTERVAL": "0.05",
    "MEDIAEDGE_PLUGINS_FFMPEG_PRESET": "ultrafast",
}
UPLOADS = "/api/client/v1/uploads"


@dataclass
class Stack:
    origin: OriginProcess
    worker: WorkerProcess

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.origin.api_key}"}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.origin.url, timeout=30.0)


def running_stack(data_dir: Path, *, worker: bool = True, env: dict[str, str] | None = None) -> Iterator[Stack]:
    """An origin and (unless ``worker=False``) a worker on ``data_dir``, with :data:`FAST_ENV` and ``env``."""
    origin = OriginProcess(data_dir, env={**FAST_ENV, **(env or {})})
    stack = Stack(origin, WorkerProcess(origin))
    try:
        origin.start()
        if worker:
            stack.worker.start()
        yield stack
    finally:
        stack.worker.stop()
        origin.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An origin and a worker shared by a module's tests."""
    yield from running_stack(tmp_path_factory.mktemp("uploads") / "var")


@pytest.fixture
def idle_stack(tmp_path: Path) -> Iterator[Stack]:
    """An origin of the test's own whose worker is not started yet (``stack.worker.start()``)."""
    yield from running_stack(tmp_path / "var", worker=False)


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 320x180 H.264/AAC MP4."""
    return make_clip(tmp_path_factory.mktemp("media") / "my_new_video.mp4", seconds=2, size="320x180")
