"""A full editor stack for render tests: origin, worker and edge processes on one data dir (the
origin's ``edge.url`` is the edge's, so output URLs play through it), a developer whose callbacks
go to a loopback receiver and whose ``outputS3Bucket`` is a bucket of a moto server with its own
credentials, and a user session. Media are put in with seed 000's direct upload, so they are
catalogue assets every API sees."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaedge.ffmpeg import ffmpeg_exe
from tests.e2e.procs import start_mediaedge, wait_healthy
from tests.editor.conftest import EDITOR_ENV, Developer, EditorStack, Receiver, Session, open_session, wait_for
from tests.fixtures.origin_server import OriginProcess
from tests.fixtures.servers import free_port

#: The developer's own bucket credentials (not the storage backend's).
BUCKET_KEY_ID = "render-developer-key"
BUCKET_SECRET = "render-developer-secret"  # noqa: S105 - a test credential for moto


@dataclass
class RenderStack(EditorStack):
    edge_url: str = ""
    edge: subprocess.Popen[bytes] | None = None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def render_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RenderStack]:
    data_dir = tmp_path_factory.mktemp("render") / "var"
    edge_port = free_port()
    edge_url = f"http://127.0.0.1:{edge_port}"
    env = {**EDITOR_ENV, "MEDIAEDGE_EDGE_PORT": str(edge_port), "MEDIAEDGE_EDITOR_RENDER_PRESET": "ultrafast"}
    origin = OriginProcess(data_dir, env=env)
    origin.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(start_mediaedge(["worker"], origin._env(), data_dir.parent / "worker.log"))
        edge_env = {**origin._env(), "MEDIAEDGE_EDGE_PORT": str(edge_port), "MEDIAEDGE_EDGE_ORIGIN_URL": origin.url}
        edge_log = data_dir.parent / "edge.log"
        procs.append(start_mediaedge(["edge"], edge_env, edge_log))
        wait_healthy(edge_url, procs[1], edge_log)
        yield RenderStack(origin, procs[0], edge_url, procs[1])
    finally:
        for proc in procs:
            _stop(proc)
        origin.stop()


@pytest.fixture(scope="module")
def output_bucket(s3_server: str, s3_client: Any) -> Iterator[str]:
    name = f"renders-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        from tests.fixtures.s3 import empty_and_delete_bucket

        empty_and_delete_bucket(s3_client, name)


@pytest.fixture(scope="module")
def render_developer(render_stack: RenderStack, receiver: Receiver, s3_server: str, output_bucket: str) -> Developer:
    body = {
        "callBackUrl": receiver.url,
        "outputS3Bucket": {
            "awsBucketName": output_bucket,
            "awsEndPoint": s3_server,
            "awsAccessKey": BUCKET_KEY_ID,
            "awsSecreteKey": BUCKET_SECRET,
        },
    }
    with render_stack.client() as client:
        response = client.post("/api/developer", json=body, headers=render_stack.tenant_headers)
    assert response.status_code == 201, response.text
    profile = response.json()
    return Developer(profile.pop("apiKey"), profile)


@pytest.fixture(scope="module")
def render_session(render_stack: RenderStack, render_developer: Developer) -> Session:
    return open_session(render_stack, render_developer, "rita")


def upload(stack: EditorStack, path: Path) -> str:
    """Put a file in the catalogue through seed 000's direct upload; its media file id."""
    with path.open("rb") as body:
        response = httpx.post(
            f"{stack.url}/upload/direct-upload",
            headers=stack.origin.headers,
            files={"file": (path.name, body)},
            data={"userId": "tests"},
            timeout=60,
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def make_marker_clip(path: Path, *, seconds: int, size: str, fps: int, base: int) -> Path:
    """A clip that flashes white for the first 0.2 s of every second, with a 1 kHz tone exactly
    then (silence otherwise); between flashes the picture is flat grey of luma ``base``."""
    subprocess.run(
        [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i",
            f"color=c=black:s={size}:r={fps}:d={seconds},geq=lum='if(lt(mod(T,1),0.2),235,{base})':cb=128:cr=128",
            "-f", "lavfi", "-i", f"aevalsrc='if(lt(mod(t,1),0.2),0.8*sin(2*PI*1000*t),0)':s=48000:d={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(fps * 2),
            "-c:a", "aac", "-b:a", "128k", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def poll_task(client: httpx.Client, task_id: str, until: tuple[str, ...], timeout: float = 120) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        response = client.get("/api/task/editing", params={"id": task_id})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["status"] in until else None

    return wait_for(check, timeout=timeout, interval=0.2, what=f"task {task_id} to be {until}")  # type: ignore[no-any-return]
