"""An origin on a machine without ffmpeg and ffprobe says so when it starts, with the fix, and refuses
a stream for the ffmpeg provider at once (503 naming the tools) instead of queueing a job that would
retry and fail minutes later."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures.origin_server import OriginProcess

pytestmark = pytest.mark.slow


def test_without_ffmpeg_the_origin_warns_at_start_and_refuses_ffmpeg_streams(tmp_path: Path) -> None:
    empty = tmp_path / "bin"  # PATH without ffmpeg/ffprobe, and the imageio-ffmpeg wheel's binary gone
    empty.mkdir()
    origin = OriginProcess(tmp_path / "var", env={"PATH": str(empty), "IMAGEIO_FFMPEG_EXE": str(empty / "ffmpeg")})
    origin.start()
    try:
        up = httpx.post(
            f"{origin.url}/upload/direct-upload",
            headers=origin.headers,
            files={"file": ("clip.mp4", b"\0" * 4096)},
            data={"userId": "user1"},
        )
        assert up.status_code == 201, up.text
        stream = {"url": up.json()["url"], "meta": {"name": "clip"}, "provider": "ffmpeg"}
        created = httpx.post(f"{origin.url}/streams/v1/create", headers=origin.headers, json={"streams": [stream]})
    finally:
        origin.stop()
    body = created.json()
    assert (created.status_code, body["code"], body["error"]) == (
        503,
        "STREAM_PROVIDER_UNAVAILABLE",
        "ServiceUnavailable",
    )
    assert body["message"].startswith("streams[0].provider: the ffmpeg provider needs ffmpeg and ffprobe")
    assert "apt-get install ffmpeg" in body["message"]
    log = origin.log_path.read_text()
    assert "the ffmpeg provider needs ffmpeg and ffprobe, not found on this server: install ffmpeg" in log
