"""A worker killed with SIGKILL in the middle of a transcode: another worker takes the job over.

The first worker is a real ``mediaedge worker`` process (``main_worker``) on the SQLite file of the
test's origin, transcoding slowly (preset ``medium``); once the stream shows progress its process
group (worker and ffmpeg) gets SIGKILL. A second worker in this process finds the job's lease
expired, takes it over and finishes the stream.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from mediaedge.settings import Settings
from origin.state import OriginState
from origin.worker import run_worker
from tests.fixtures.origin import make_settings
from tests.streams.conftest import FAST
from tests.streams.test_ladder import probe

pytestmark = pytest.mark.anyio

LEASE = 2.0
WORKER = (
    "import json, sys; from mediaedge.settings import load_settings; from origin.worker import main_worker; "
    "main_worker(load_settings(environ={}, overrides=json.loads(sys.argv[1])))"
)
JOBS = {**FAST["jobs"], "lease_seconds": LEASE, "heartbeat_seconds": 0.4}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var", jobs=JOBS, streams=FAST["streams"], plugins=FAST["plugins"])


async def wait_for(what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_a_killed_workers_transcode_is_taken_over_and_completed(
    origin_client, tenant, origin_state: OriginState, clip: Path, tmp_path: Path
):
    upload = await origin_client.post(
        "/upload/direct-upload", headers=tenant.headers, files={"file": ("talk.mp4", clip.read_bytes())}
    )
    file = upload.json()
    qualities: list[dict[str, Any]] = [
        {"resolution": r, "type": "dash", "video_config": {}} for r in ("360p", "240p", "144p")
    ]
    created = await origin_client.post(
        "/streams/v1/create",
        headers=tenant.headers,
        json={"streams": [{"url": file["url"], "meta": {"name": "Talk"}, "qualities": qualities}]},
    )
    stream_id = created.json()["ids"][0]

    slow = {"data_dir": origin_state.settings.data_dir, "jobs": JOBS, "plugins": {"ffmpeg": {"preset": "medium"}}}
    doomed = subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(slow)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        async def transcoding() -> bool:
            stream = await origin_state.store.streams.get(stream_id)
            return stream is not None and stream.progress > 0

        await wait_for("the first worker to make progress", transcoding, timeout=60)
    finally:
        os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its ffmpeg
        doomed.wait()
    stream = await origin_state.store.streams.get(stream_id)
    assert stream is not None and stream.status == "processing" and stream.job_id
    job = await origin_state.store.jobs.get(stream.job_id)
    assert job is not None and (job.status, job.attempt) == ("running", 1)

    stop = asyncio.Event()
    second = asyncio.create_task(run_worker(origin_state, concurrency=1, stop=stop))
    try:

        async def ready() -> bool:  # the stream turns ready just before its job is marked done
            current = await origin_state.store.streams.get(stream_id)
            if current is None or current.status not in ("ready", "failed") or not current.job_id:
                return False
            job = await origin_state.store.jobs.get(current.job_id)
            return job is not None and job.status in ("succeeded", "failed")

        await wait_for("the second worker to finish the stream", ready, timeout=60)
    finally:
        stop.set()
        await second
    stream = await origin_state.store.streams.get(stream_id)
    assert stream is not None and stream.status == "ready" and stream.job_id, stream
    job = await origin_state.store.jobs.get(stream.job_id)
    assert job is not None and (job.status, job.attempt) == ("succeeded", 2)
    assert job.last_error == "lease expired: the worker stopped heartbeating"
    out = Path(origin_state.backends["local"].local_path(f"{file['key']}.stream/master.m3u8") or "")
    assert {s["height"] for s in probe(out, "-show_entries", "stream=height")["streams"]} == {360, 240, 144}
    assert not (Path(origin_state.settings.streams.work_dir) / stream_id).exists()  # both attempts cleaned up
