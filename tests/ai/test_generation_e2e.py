"""One video, two APIs, real processes: uploaded through the uploads API to a running origin, captioned
through the media API's generate-caption by a running worker (PocketSphinx), over real HTTP; the
generated track is then listed in the stream's HLS master playlist like a manual caption."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaedge.ai import Cue, Transcript, Word
from mediaedge.settings import load_settings
from mediaedge.testing.ai import SpokenMedia, found_at_their_times, make_spoken_video
from origin.store import open_store
from tests.uploads.conftest import UPLOADS, Stack, running_stack

pytestmark = pytest.mark.anyio


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    yield from running_stack(tmp_path / "var", env={"MEDIAEDGE_PLUGINS_POCKETSPHINX_WORKERS": "1"})


async def poll(http: httpx.AsyncClient, url: str, headers: dict[str, str], done: Any, timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await http.get(url, headers=headers)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        if done(data):
            return data
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not finish within {timeout:g} s: {data}")


async def test_an_upload_is_captioned_through_the_media_api(stack: Stack, tmp_path: Path):
    spoken: SpokenMedia = make_spoken_video(tmp_path)
    async with httpx.AsyncClient(base_url=stack.origin.url, timeout=60.0) as http:
        files = {"video": ("lecture.mp4", spoken.path.read_bytes(), "video/mp4")}
        accepted = await http.post(UPLOADS, headers=stack.bearer, files=files, data={"folder": "root/lectures"})
        assert accepted.status_code == 202, accepted.text
        asset_id = accepted.json()["data"]["id"]
        upload = await poll(http, f"{UPLOADS}/{asset_id}", stack.bearer, lambda d: d["status"] in (6, 7))
        assert upload["status"] == 6, upload

        body = {"assetId": asset_id, "language": "en-US"}
        queued = await http.post("/api/v1/media/ai/generate-caption", headers=stack.bearer, json=body)
        assert queued.status_code == 202, queued.text
        job_url = queued.headers["location"]
        job = await poll(http, job_url, stack.bearer, lambda d: d["status"] in ("ready", "failed"))
        assert job["status"] == "ready", job
        assert job["assetId"] == asset_id and job["captionId"]

    store = await open_store(load_settings(environ=stack.origin._env()).database.url)
    try:
        (caption,) = await store.captions.list(asset_id)
        assert (caption.id, caption.source, caption.approved) == (job["captionId"], "generated", True)
        stored = await store.transcripts.get(asset_id, "en-US")
        asset = await store.assets.by_file(asset_id)  # the asset and its file share the id
        assert asset is not None and asset.stream_id is not None
        stream = await store.streams.get(asset.stream_id)
    finally:
        await store.close()
    assert stored is not None
    assert stream is not None and stream.output_prefix
    master = (stack.origin.data_dir / "objects" / stream.output_prefix / "master.m3u8").read_text()
    assert "#EXT-X-MEDIA:TYPE=SUBTITLES" in master and 'LANGUAGE="en-US"' in master, master  # like a manual one
    transcript = Transcript(
        "en-US",
        tuple(
            Cue(c["start"], c["end"], c["text"], tuple(Word(w["text"], w["start"], w["end"]) for w in c["words"]))
            for c in stored.cues
        ),
    )
    assert len(found_at_their_times(transcript, spoken)) >= 3, stored.text
