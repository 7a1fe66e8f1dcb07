"""Render tasks end to end: XTL in over HTTP, the worker renders with ffmpeg, the output plays from
the edge and lands in the developer's bucket; frames, sound sync and overlay pixels are measured
on the output with ffprobe/ffmpeg."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from mediaedge.ffmpeg import ffmpeg_exe
from tests.editor.conftest import Receiver, Session, wait_for
from tests.editor.render_stack import BUCKET_KEY_ID, RenderStack, make_marker_clip, poll_task, upload
from tests.fixtures.media import make_png

FPS = 25
SAMPLE_RATE = 48_000


@pytest.fixture(scope="module")
def sources(render_stack: RenderStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two sources of different size and rate (640x360 at 25 fps, 320x240 at 30 fps), uploaded."""
    media = tmp_path_factory.mktemp("render-media")
    a = make_marker_clip(media / "a.mp4", seconds=8, size="640x360", fps=25, base=16)
    b = make_marker_clip(media / "b.mp4", seconds=6, size="320x240", fps=30, base=90)
    return {"a": upload(render_stack, a), "b": upload(render_stack, b)}


@pytest.fixture(scope="module")
def overlay_id(render_stack: RenderStack, render_session: Session, tmp_path_factory: pytest.TempPathFactory) -> str:
    png = make_png(tmp_path_factory.mktemp("overlay") / "red.png", "red", "64x48")
    with render_stack.client(render_session.id) as client:
        response = client.post("/api/overlay_img", json={"data": base64.b64encode(png.read_bytes()).decode()})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def ffprobe_streams(path: Path) -> dict[str, dict[str, Any]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,nb_read_frames,width,height,r_frame_rate,duration", "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return {s["codec_type"]: s for s in orjson.loads(out)["streams"]}


def frame_lumas(path: Path) -> list[float]:
    """Mean luma of the middle of every frame (inside any letterbox bars), scaled to 32x18."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-vf", "crop=iw/2:ih/2,scale=32:18",
         "-pix_fmt", "gray", "-f", "rawvideo", "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    size = 32 * 18
    return [sum(raw[i : i + size]) / size for i in range(0, len(raw), size)]


def audio_samples(path: Path) -> list[int]:
    raw = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-ac", "1", "-ar", str(SAMPLE_RATE),
         "-f", "s16le", "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return [int.from_bytes(raw[i : i + 2], "little", signed=True) for i in range(0, len(raw) - 1, 2)]


def onsets(values: list[bool]) -> list[int]:
    """Indexes where a run of ``True`` starts."""
    return [i for i, on in enumerate(values) if on and (i == 0 or not values[i - 1])]


def sound_onsets(samples: list[int], threshold: int = 3000) -> list[float]:
    """Seconds where the tone starts (a loud 5 ms window after at least 50 ms of quiet)."""
    window = SAMPLE_RATE // 200
    loud = [max(abs(s) for s in samples[i : i + window]) > threshold for i in range(0, len(samples), window)]
    starts = []
    for i in onsets(loud):
        if i < 10 or not any(loud[i - 10 : i]):
            starts.append(i * window / SAMPLE_RATE)
    return starts


def pixel_rgb(path: Path, at: float, x: int, y: int) -> tuple[int, int, int]:
    raw = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-ss", f"{at}", "-i", str(path), "-frames:v", "1",
         "-vf", f"format=rgb24,crop=2:2:{x}:{y}", "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return raw[0], raw[1], raw[2]


def xtl(a: str, b: str, overlay: str) -> str:
    return f"""<timelines version="2">
  <timeline>
    <group>
      <track video="1" audio="1" accuracy="frame">
        <clip src="{a}" start="00:00:01:00" stop="00:00:03:00" timeFormat="time10ms" />
        <clip src="{b}" start="00:00:00:50" stop="00:00:02:00" timeFormat="time10ms" />
        <clip src="{a}" start="40000000" stop="52000000" timeFormat="time100ns" />
      </track>
      <track video="1" audio="0">
        <clip src="{overlay}" start="0" stop="20000000" position="5000000" x="40" y="30" />
      </track>
    </group>
  </timeline>
</timelines>"""


def test_three_clips_from_two_sources_with_an_overlay_render_frame_accurately_in_sync(
    render_stack: RenderStack,
    render_session: Session,
    sources: dict[str, str],
    overlay_id: str,
    receiver: Receiver,
    s3_client: Any,
    output_bucket: str,
    tmp_path: Path,
) -> None:
    with render_stack.client(render_session.id) as client:
        created = client.post("/api/task/editing", json={"xtl_task": xtl(sources["a"], sources["b"], overlay_id),
                                                         "projectId": "prj-1"})  # fmt: skip
        assert created.status_code == 200, created.text
        task_id, file_id = created.json()["taskId"], created.json()["fileId"]
        entry = client.get(f"/api/mediafiles/{file_id}").json()
        assert entry["type"] == "output" and entry["taskId"] == task_id
        done = poll_task(client, task_id, ("completed", "error"))
        assert done["status"] == "completed", done
        assert done["progress"] == 100
        entry = client.get(f"/api/mediafiles/{file_id}").json()
    edge_url, bucket_url = done["outputUrls"]
    assert edge_url.startswith(render_stack.edge_url + "/")
    played = httpx.get(edge_url, timeout=30)
    assert played.status_code == 200 and played.headers["content-type"] == "video/mp4"
    output = tmp_path / "out.mp4"
    output.write_bytes(played.content)
    assert entry["type"] == "output" and entry["mediaType"] == "video" and entry["size"] == len(played.content)

    # The same record in the other APIs (seed 002's media, seed 001's video objects), same id.
    bearer = render_stack.tenant_headers
    media = httpx.get(f"{render_stack.url}/api/v1/media/{file_id}", headers=bearer, timeout=30)
    assert media.status_code == 200 and media.json()["data"]["id"] == file_id, media.text
    video = httpx.get(f"{render_stack.url}/api/videos/{file_id}", headers=bearer, timeout=30)
    assert video.status_code == 200 and file_id in video.text, video.text

    # In the developer's bucket too, byte for byte.
    key = bucket_url.split(f"/{output_bucket}/", 1)[1]
    stored = s3_client.get_object(Bucket=output_bucket, Key=key)["Body"].read()
    assert stored == played.content

    # 2 s + 1.5 s + 1.2 s at the first source's 25 fps: 50 + 38 + 30 frames (the 30 fps source resampled).
    streams = ffprobe_streams(output)
    video, audio = streams["video"], streams["audio"]
    expected_frames = 50 + 38 + 30
    assert abs(int(video["nb_read_frames"]) - expected_frames) <= 1
    assert (video["width"], video["height"], video["r_frame_rate"]) == (640, 360, "25/1")
    assert abs(float(audio["duration"]) - expected_frames / FPS) < 0.05

    # Cuts: the sources flash at every whole second of their own time; the output must flash at
    # 0.0, 1.0 (clip 1: 1-3 s), 2.5 (clip 2: 0.5-2 s of b) and 3.52, 4.52 (clip 3: 4-5.2 s, after
    # clip 2's 38 frames).
    lumas = frame_lumas(output)
    flashes = [n / FPS for n in onsets([v > 200 for v in lumas])]
    assert len(flashes) == 5, flashes
    for got, want in zip(flashes, [0.0, 1.0, 2.5, 3.52, 4.52], strict=True):
        assert abs(got - want) <= 1 / FPS + 1e-9, (flashes, got, want)
    # Between flashes the second source's grey (luma 90, letterboxed) shows exactly during clip 2's
    # frames 50-87, the first one's (luma 16) elsewhere: the cuts fall on the frames they should.
    source_of = ["b" if 60 < v < 120 else "a" if v < 40 else "flash" for v in lumas]
    assert [n for n, s in enumerate(source_of) if s == "b"] == [n for n in range(50, 88) if source_of[n] != "flash"]
    assert set(source_of[:50] + source_of[88:]) == {"a", "flash"}
    # Sound in step with the picture: each tone starts within a frame of its flash.
    tones = sound_onsets(audio_samples(output))
    assert len(tones) == len(flashes), (tones, flashes)
    for tone, flash in zip(tones, flashes, strict=True):
        assert abs(tone - flash) <= 1 / FPS, (tones, flashes)

    # The red overlay at (40, 30), 64x48, from 0.5 s for 2 s.
    r, g, b = pixel_rgb(output, 1.5, 70, 50)
    assert r > 200 and g < 60 and b < 60
    r, g, b = pixel_rgb(output, 1.5, 200, 200)
    assert not (r > 200 and g < 60)
    r, g, b = pixel_rgb(output, 0.2, 70, 50)
    assert not (r > 200 and g < 60)
    r, g, b = pixel_rgb(output, 3.0, 70, 50)
    assert not (r > 200 and g < 60)

    # Callbacks: render_start, then render_complete with the download URL.
    completes = wait_for(lambda: receiver.of_type("render_complete"), timeout=30, what="render_complete")
    payload = orjson.loads(completes[-1][1])["payload"]
    assert payload == {"projectId": "prj-1", "downloadUrl": edge_url}
    starts = receiver.of_type("render_start")
    assert orjson.loads(starts[-1][1])["payload"] == {"projectId": "prj-1"}
    assert completes[-1][0]["authorization"] == render_session.id
    assert BUCKET_KEY_ID not in str(receiver.requests)


def test_a_stopped_render_is_aborted_and_leaves_nothing_behind(
    render_stack: RenderStack, render_session: Session, sources: dict[str, str]
) -> None:
    # A long timeline (the same seconds many times over) that takes a while to render.
    clips = "".join(f'<clip src="{sources["a"]}" start="0" stop="80000000"/>' for _ in range(40))
    task = (
        f'<timelines><timeline width="1280" height="720"><group><track>{clips}</track></group></timeline></timelines>'
    )
    work = render_stack.origin.data_dir / "render"
    with render_stack.client(render_session.id) as client:
        created = client.post("/api/task/editing", json={"xtl_task": task})
        assert created.status_code == 200, created.text
        task_id, file_id = created.json()["taskId"], created.json()["fileId"]
        wait_for(lambda: client.get("/api/task/editing", params={"id": task_id}).json()["progress"] > 0,
                 timeout=60, what="the render to make progress")  # fmt: skip
        assert _ffmpeg_children(render_stack) >= 1
        stopped = client.delete("/api/task/editing", params={"id": task_id})
        assert stopped.status_code == 200 and stopped.json() == {"status": ""}
        body = client.get("/api/task/editing", params={"id": task_id}).json()
        assert body["status"] == "aborted" and body["error"]["type"] == "engine_error"
        assert client.get(f"/api/mediafiles/{file_id}").status_code == 404
        wait_for(lambda: _ffmpeg_children(render_stack) == 0, timeout=10, what="ffmpeg to be stopped")
        wait_for(lambda: not any(work.iterdir()), timeout=10, what="the scratch files to be removed")
        # Still aborted: the job does not overwrite the stop.
        assert client.get("/api/task/editing", params={"id": task_id}).json()["status"] == "aborted"


def _ffmpeg_children(stack: RenderStack) -> int:
    """ffmpeg processes the worker runs now."""
    assert stack.worker.pid
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == stack.worker.pid and name == "ffmpeg":
            count += 1
    return count


@pytest.mark.parametrize(
    ("task", "element", "attribute"),
    [
        (
            "<timelines><timeline><group><track><clip src='X' start='1' /></track></group></timeline></timelines>",
            "clip",
            "stop",
        ),
        (
            "<timelines><timeline><group><track><clip src='X' start='00:00:01' stop='00:00:02:00' timeFormat='time10ms'"
            "/></track></group></timeline></timelines>",
            "clip",
            "start",
        ),
        (
            "<timelines><timeline><group><track video='2'><clip src='X' start='0' stop='1'/></track></group>"
            "</timeline></timelines>",
            "track",
            "video",
        ),
        (
            "<timelines><timeline><group><track><clip src='X' start='0' stop='1' speed='2'/></track></group>"
            "</timeline></timelines>",
            "clip",
            "speed",
        ),
        (
            "<timelines><timeline><group><track><clip src='no-such-file' start='0' stop='10000000'/></track></group>"
            "</timeline></timelines>",
            "clip",
            "src",
        ),
        ("<timelines version='3'><timeline/></timelines>", "timelines", "version"),
    ],
)
def test_invalid_xtl_is_400_naming_the_element_and_attribute(
    render_stack: RenderStack, render_session: Session, task: str, element: str, attribute: str
) -> None:
    with render_stack.client(render_session.id) as client:
        response = client.post("/api/task/editing", json={"xtl_task": task})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "editor.xtl.invalid" and body["statusCode"] == 400
    assert f"<{element}> attribute '{attribute}'" in body["message"]


def test_tasks_need_a_session_and_are_the_users_own(
    render_stack: RenderStack, render_session: Session, render_developer: Any, sources: dict[str, str]
) -> None:
    from tests.editor.conftest import open_session

    clip = f'<clip src="{sources["a"]}" start="0" stop="5000000"/>'
    task = f"<timelines><timeline><group><track>{clip}</track></group></timeline></timelines>"
    with render_stack.client() as anonymous:
        response = anonymous.post("/api/task/editing", json={"xtl_task": task})
        assert response.status_code == 401 and response.json()["code"] == "editor.auth.missing"
    with render_stack.client(render_session.id) as client:
        task_id = client.post("/api/task/editing", json={"xtl_task": task}).json()["taskId"]
        assert poll_task(client, task_id, ("completed", "error"))["status"] == "completed"
    other = open_session(render_stack, render_developer, "otto")
    with render_stack.client(other.id) as client:
        assert client.get("/api/task/editing", params={"id": task_id}).status_code == 404
        assert client.delete("/api/task/editing", params={"id": task_id}).status_code == 404


def test_each_timeline_is_an_output_and_an_unreadable_source_is_a_download_error(
    render_stack: RenderStack,
    render_session: Session,
    sources: dict[str, str],
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    two = (
        f'<timelines><timeline name="first"><group><track><clip src="{sources["a"]}" start="0" stop="5000000"/>'
        f'</track></group></timeline><timeline name="second.mp4"><group><track><clip src="{sources["b"]}" '
        f'start="0" stop="10000000"/></track></group></timeline></timelines>'
    )
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video" * 100)
    broken_id = upload(render_stack, broken)
    clip = f'<clip src="{broken_id}" start="0" stop="5000000"/>'
    bad = f"<timelines><timeline><group><track>{clip}</track></group></timeline></timelines>"
    with render_stack.client(render_session.id) as client:
        created = client.post("/api/task/editing", json={"xtl_task": two}).json()
        done = poll_task(client, created["taskId"], ("completed", "error"))
        assert done["status"] == "completed", done
        assert done["fileIds"][0] == created["fileId"] and len(done["fileIds"]) == 2
        assert len(done["outputUrls"]) == 4  # the edge URL and the bucket URL of each output
        names = [client.get(f"/api/mediafiles/{i}").json()["name"] for i in done["fileIds"]]
        assert names == ["first.mp4", "second.mp4"]
        durations = [client.get(f"/api/mediafiles/{i}").json()["duration"] for i in done["fileIds"]]
        # (the container's duration includes the AAC encoder's last frame: up to ~40 ms more)
        assert all(0 <= got - want <= 500_000 for got, want in zip(durations, [5_000_000, 10_000_000], strict=True))

        failing = client.post("/api/task/editing", json={"xtl_task": bad, "projectId": "prj-broken"}).json()
        failed = poll_task(client, failing["taskId"], ("completed", "error"))
        assert failed["status"] == "error" and failed["error"]["type"] == "download_error", failed
        assert broken_id in failed["error"]["message"]
        entry = client.get(f"/api/mediafiles/{failing['fileId']}").json()
        assert entry["error"]["type"] == "internal_server_error" and entry["status"] == "ready"
    completes = wait_for(
        lambda: [e for _, body in receiver.of_type("render_complete") if (e := orjson.loads(body))["payload"]
                 ["projectId"] == "prj-broken"], timeout=30, what="render_complete with the error",
    )  # fmt: skip
    assert completes[0]["payload"]["downloadUrl"] == "" and broken_id in completes[0]["payload"]["error"]
