"""The editor's side of the API, played over real HTTP and WebSockets against a running origin and
worker (``python -m mediaedge origin`` / ``worker``), with loopback servers for what the origin calls
out to (sources to import, the developer's callback URL)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mediaedge.ffmpeg import ffmpeg_exe
from tests.e2e.procs import start_mediaedge
from tests.fixtures.origin_server import TEST_ENV, OriginProcess
from tests.fixtures.servers import free_port

#: Settings of the origin and worker under test: loopback targets allowed for the SSRF guard (the
#: import sources and the callback receiver run here), no retry backoff, fast pings and polls.
EDITOR_ENV = {
    **TEST_ENV,
    "MEDIAEDGE_NET_ALLOW": "127.0.0.1/32",
    "MEDIAEDGE_JOBS_BACKOFF_SCALE": "0",
    "MEDIAEDGE_JOBS_POLL_INTERVAL": "0.1",
    "MEDIAEDGE_WEBHOOKS_POLL_INTERVAL": "0.1",
    "MEDIAEDGE_EDITOR_PING_INTERVAL": "0.5",
    "MEDIAEDGE_EDITOR_SECRET_KEY": "editor-tests-secret",
}
FPS = 10
CLIP_SECONDS = 5


def wait_for(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


@dataclass
class EditorStack:
    """An origin and a worker on one data dir; ``headers`` carry the tenant's key as a Bearer token."""

    origin: OriginProcess
    worker: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return self.origin.url

    @property
    def tenant_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.origin.api_key}"}

    @property
    def env(self) -> dict[str, str]:
        return self.origin._env()

    def client(self, token: str | None = None, **options: Any) -> httpx.Client:
        headers = {"Authorization": token} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60.0, **options)


@pytest.fixture(scope="module")
def editor_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditorStack]:
    data_dir = tmp_path_factory.mktemp("editor") / "var"
    origin = OriginProcess(data_dir, env=dict(EDITOR_ENV))
    origin.start()
    log = data_dir.parent / "worker.log"
    worker = start_mediaedge(["worker"], origin._env(), log)
    try:
        yield EditorStack(origin, worker)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        origin.stop()


@dataclass
class Developer:
    api_key: str
    profile: dict[str, Any]


@dataclass
class Session:
    id: str
    api_auth_token: str


@dataclass
class Receiver:
    """The developer's callback URL: records every request it gets."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def of_type(self, event_type: str) -> list[tuple[dict[str, str], bytes]]:
        import orjson

        return [(h, b) for h, b in self.requests if orjson.loads(b).get("type") == event_type]


class ThreadedServer:
    """uvicorn serving ``app`` on a loopback port in a thread of its own (for synchronous tests)."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, lifespan="off", log_level="critical")
        )
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=10, what="loopback server start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextlib.contextmanager
def serve_routes(routes: list[BaseRoute]) -> Iterator[str]:
    with ThreadedServer(Starlette(routes=routes)) as server:
        yield server.url


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    got = Receiver("")

    async def callback(request: Request) -> Response:
        got.requests.append((dict(request.headers), await request.body()))
        return PlainTextResponse("ok")

    with serve_routes([Route("/callback", callback, methods=["POST"])]) as url:
        got.url = f"{url}/callback"
        yield got


@pytest.fixture(scope="module")
def developer(editor_stack: EditorStack, receiver: Receiver) -> Developer:
    body = {
        "callBackUrl": receiver.url,
        "corsOrigins": ["https://editor.example"],
        "outputS3Bucket": {
            "awsBucketName": "renders",
            "awsEndPoint": "https://s3.example",
            "awsAccessKey": "AKIAEXAMPLE",
            "awsSecreteKey": "s3cr3t-never-shown",
        },
    }
    with editor_stack.client() as client:
        response = client.post("/api/developer", json=body, headers=editor_stack.tenant_headers)
    assert response.status_code == 201, response.text
    profile = response.json()
    return Developer(profile.pop("apiKey"), profile)


def open_session(stack: EditorStack, developer: Developer, name: str = "ann") -> Session:
    token = f"dev-token-{name}-{time.monotonic_ns()}"
    with stack.client() as client:
        response = client.post(
            "/api/users",
            json={"name": name, "data": f"user-data-{name}", "apiKey": developer.api_key, "apiAuthToken": token},
        )
    assert response.status_code == 200, response.text
    return Session(response.json()["id"], token)


@pytest.fixture
def session(editor_stack: EditorStack, developer: Developer) -> Session:
    """A fresh session of the user "ann" for each test (a test may expire sessions)."""
    return open_session(editor_stack, developer)


def make_luma_clip(path: Path, seconds: int = CLIP_SECONDS, fps: int = FPS, size: str = "320x180") -> Path:
    """A clip whose frame n is flat grey of luma 20 + 4n (frame-accurate thumbnails are checkable),
    with an AAC audio track titled ``Narration``."""
    subprocess.run(
        [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"color=c=black:s={size}:r={fps}:d={seconds},geq=lum='20+4*N':cb=128:cr=128",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", "-g", str(fps * 2),
            "-c:a", "aac", "-b:a", "64k", "-metadata:s:a:0", "handler_name=Narration",
            "-shortest", "-movflags", "+faststart", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def pad_mp4(source: Path, dest: Path, size: int) -> Path:
    """``source`` followed by an MP4 ``free`` box up to ``size`` bytes: still a valid MP4."""
    data = source.read_bytes()
    pad = size - len(data)
    assert 8 <= pad < 2**32
    with dest.open("wb") as out:
        out.write(data)
        out.write(pad.to_bytes(4, "big") + b"free")
        zeros = bytes(1 << 20)
        left = pad - 8
        while left:
            n = min(left, len(zeros))
            out.write(zeros[:n])
            left -= n
    return dest


@pytest.fixture(scope="module")
def luma_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_luma_clip(tmp_path_factory.mktemp("luma") / "luma.mp4")


def gray_means(png_or_video: bytes | Path, size: str = "160x90") -> list[float]:
    """Mean luma of each picture (a PNG's bytes, or every frame of a video file), scaled to ``size``."""
    w, h = (int(v) for v in size.split("x"))
    source = ["-i", "pipe:0"] if isinstance(png_or_video, bytes) else ["-i", str(png_or_video)]
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *source, "-vf", f"scale={w}:{h}",
         "-pix_fmt", "gray", "-f", "rawvideo", "pipe:1"],
        input=png_or_video if isinstance(png_or_video, bytes) else None, capture_output=True, check=True,
    ).stdout  # fmt: skip
    frame = w * h
    return [sum(out[i : i + frame]) / frame for i in range(0, len(out), frame)]


def nearest_frame(png: bytes, reference: list[float]) -> int:
    """The index of the reference frame whose mean luma is closest to ``png``'s."""
    (mean,) = gray_means(png)
    return min(range(len(reference)), key=lambda n: abs(reference[n] - mean))


@pytest.fixture(scope="module")
def luma_reference(luma_clip: Path) -> list[float]:
    return gray_means(luma_clip)


def env_with(stack: EditorStack, **extra: str) -> dict[str, str]:
    return {**os.environ, **stack.env, **extra}
