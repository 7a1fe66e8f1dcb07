"""The video objects API end to end, on a real ``mediaedge up`` (origin, worker, edge): videos created
with ``/api/videos/create``, real media (ffmpeg lavfi) uploaded in parts with Content-Range and MD5,
completed, transcoded by the worker's ffmpeg, and played through the edge — an fMP4 ladder with an
audio-only group, and an MPEG-TS one — by fetching the playlists and segments, and in headless Chromium
through the videos' player URLs (hls.js, and dash.js for the fMP4 ladder's DASH manifest); then made
private, which the edge enforces at once."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from loadtests.up import mediaedge_up
from tests.e2e.test_player import ARTIFACTS, SEGMENT_SUFFIXES, TEST_PAGE, browser_driver, serve_page
from tests.fixtures.media import make_clip

pytestmark = pytest.mark.slow
__all__ = ["browser_driver"]  # the fixture, shared with the player test

PART = 64 * 1024
CMAF_LADDER = [
    {
        "resolution": "360p",
        "type": "hls",
        "container_type": "mp4",
        "video_config": {"codec": "h264", "bitrate": 800_000},
    },
    {
        "resolution": "240p",
        "type": "hls",
        "container_type": "mp4",
        "video_config": {"codec": "h265", "bitrate": 400_000},
    },
    {
        "resolution": "audio",
        "type": "hls",
        "container_type": "mp4",
        "audio_config": {"codec": "aac", "bitrate": 96_000, "channels": "2", "sample_rate": 44_100, "language": "en"},
    },
]
TS_LADDER = [{"resolution": "240p", "type": "hls", "container_type": "mpegts", "video_config": {"codec": "h264"}}]


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    body: dict[str, Any] = response.json()
    assert body["status"] == "success"
    return body


def _upload(api: httpx.Client, video_id: str, media: bytes) -> None:
    """Parts of :data:`PART` bytes, the last one first."""
    offsets = list(range(0, len(media), PART))
    for index, first in reversed(list(enumerate(offsets))):
        chunk = media[first : first + PART]
        _ok(
            api.post(
                f"/api/videos/{video_id}/part",
                headers={"Content-Range": f"bytes {first}-{first + len(chunk) - 1}/{len(media)}"},
                data={"index": str(index), "hash": hashlib.md5(chunk).hexdigest()},
                files={"file": ("lesson.mp4", chunk, "video/mp4")},
            )
        )


def _wait_done(api: httpx.Client, video_id: str, timeout: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        video: dict[str, Any] = _ok(api.get(f"/api/videos/{video_id}"))["data"]
        if video["status"] in ("done", "fail"):
            assert video["status"] == "done", video
            return video
        assert time.monotonic() < deadline, f"still {video['status']} after {timeout} s"
        time.sleep(0.5)


def _playlist_uris(text: str) -> list[str]:
    """The URIs a playlist references: plain lines and URI="…" attributes."""
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    for line in text.splitlines():
        if 'URI="' in line:
            uris.append(line.split('URI="', 1)[1].split('"', 1)[0])
    return uris


def _play(edge: str, master_url: str) -> dict[str, Any]:
    """Fetch the master playlist, every media playlist and the first segments through the edge."""
    assert urlsplit(master_url).netloc == urlsplit(edge).netloc
    master = httpx.get(master_url)
    assert master.status_code == 200, master.text
    assert master.headers["content-type"].startswith(("application/vnd.apple.mpegurl", "audio/mpegurl"))
    fetched: dict[str, Any] = {"master": master.text, "media": {}, "segments": {}}
    for uri in _playlist_uris(master.text):
        media_url = urljoin(master_url, uri)
        media = httpx.get(media_url)
        assert media.status_code == 200, (media_url, media.text)
        fetched["media"][uri] = media.text
        for segment_uri in _playlist_uris(media.text)[:2]:
            segment = httpx.get(urljoin(media_url, segment_uri))
            assert segment.status_code == 200, (segment_uri, segment.text)
            assert len(segment.content) > 100
            fetched["segments"][f"{uri} {segment_uri}"] = segment.content
    return fetched


def _play_in_chromium(driver: list[str], player_url: str, edge: str, screenshot: Path) -> dict[str, Any]:
    """The video's player URL (302 to the embed page) iframed by another site, driven in headless Chromium."""
    embed = httpx.get(player_url)
    assert embed.status_code == 302, embed.text
    with serve_page(TEST_PAGE.format(source=json.dumps("aauti-embed"), src=embed.headers["location"])) as page:
        run = subprocess.run([*driver, page, str(screenshot), "3"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    assert report["ok"], f"{report.get('error')}\nevents: {report['events'][-5:]}\nconsole: {report['console']}"
    segments = [r for r in report["responses"] if urlsplit(r["url"]).path.endswith(SEGMENT_SUFFIXES)]
    assert len(segments) >= 2, report["responses"]
    assert all(urlsplit(r["url"]).netloc == urlsplit(edge).netloc and r["status"] in (200, 206) for r in segments)
    return report


def test_a_video_made_through_the_api_plays_through_the_edge(tmp_path: Path, browser_driver: list[str]):
    ARTIFACTS.mkdir(exist_ok=True)
    clip = make_clip(tmp_path / "lesson.mp4", seconds=6, size="640x360")
    media = clip.read_bytes()
    assert len(media) > 2 * PART  # really in several parts
    env = {
        "MEDIAEDGE_VIDEOS_MIN_PART_BYTES": str(PART),
        "MEDIAEDGE_PLUGINS_FFMPEG_PRESET": "ultrafast",
        "MEDIAEDGE_JOBS_POLL_INTERVAL": "0.2",
    }
    with mediaedge_up(tmp_path / "var", env=env, log=tmp_path / "mediaedge.log") as node:
        demo = json.loads((node.data_dir / "demo-tenant.json").read_text())
        pair = {"stream-public-key": demo["stream_public_key"], "stream-secret-key": demo["stream_secret_key"]}
        with httpx.Client(base_url=node.origin, headers=pair, timeout=60) as api:
            cmaf = _ok(api.post("/api/videos/create", json={"title": "CMAF lesson", "qualities": CMAF_LADDER}), 201)[
                "data"
            ]
            ts = _ok(api.post("/api/videos/create", json={"title": "TS lesson", "qualities": TS_LADDER}), 201)["data"]
            for video in (cmaf, ts):
                _upload(api, video["id"], media)
                assert _ok(api.get(f"/api/videos/{video['id']}/complete"))["message"] == (
                    "Upload video complete successfully."
                )
            done = {video["id"]: _wait_done(api, video["id"]) for video in (cmaf, ts)}

            # fMP4: the h264 and h265 variants share the audio-only rendition's EXT-X-MEDIA group
            redirect = api.get(done[cmaf["id"]]["assets"]["hls_url"])
            assert redirect.status_code == 302
            master_url = redirect.headers["location"]
            assert master_url.startswith(f"{node.edge}/{cmaf['id']}/")  # public: the video's own id in the URL
            played = _play(node.edge, master_url)
            assert 'TYPE=AUDIO,GROUP-ID="audio"' in played["master"] and 'LANGUAGE="en"' in played["master"]
            assert "hvc1" in played["master"] or "hev1" in played["master"]  # the h265 rendition, libx265
            assert "avc1" in played["master"]
            assert any(s[4:8] in (b"ftyp", b"styp", b"moof") for s in played["segments"].values())
            dash = api.get(done[cmaf["id"]]["assets"]["dash_url"])
            assert dash.status_code == 302 and httpx.get(dash.headers["location"]).text.startswith("<?xml")

            # MPEG-TS: the segments are transport streams (sync byte 0x47 every 188 bytes)
            ts_master = api.get(done[ts["id"]]["assets"]["hls_url"]).headers["location"]
            ts_played = _play(node.edge, ts_master)
            assert ts_played["segments"] and all(
                s[0] == 0x47 and s[188] == 0x47 for s in ts_played["segments"].values()
            )

            # both play in Chromium through their player URL (the embed page, hls.js), segments from the edge
            for video in (cmaf, ts):
                report = _play_in_chromium(
                    browser_driver,
                    done[video["id"]]["assets"]["hls_player_url"],
                    node.edge,
                    ARTIFACTS / f"videos-{video['title'].split()[0].lower()}.png",
                )
                ready = next(e for e in report["events"] if e["event"] == "ready")
                assert ready["playerType"] == "hls.js"
                assert ready["duration"] == pytest.approx(done[video["id"]]["duration"], abs=0.5)

            # the fMP4 video's DASH player URL plays its manifest with dash.js, segments from the edge
            report = _play_in_chromium(
                browser_driver, done[cmaf["id"]]["assets"]["dash_player_url"], node.edge, ARTIFACTS / "videos-dash.png"
            )
            ready = next(e for e in report["events"] if e["event"] == "ready")
            assert ready["playerType"] == "dash.js"
            assert ready["duration"] == pytest.approx(done[cmaf["id"]]["duration"], abs=0.5)
            assert any(urlsplit(r["url"]).path.endswith("/manifest.mpd") for r in report["responses"])
            assert not any(urlsplit(r["url"]).path.endswith(".m3u8") for r in report["responses"])
            times = [e["currentTime"] for e in report["events"] if e["event"] == "timeupdate"]
            assert max(times) - min(times) >= 2.0  # currentTime advanced
            assert not [e for e in report["events"] if e["event"] == "error"]

            # made private: the public URL stops working at the edge, the signed asset URL plays
            _ok(api.patch(f"/api/videos/{cmaf['id']}", json={"is_public": False}))
            assert httpx.get(master_url).status_code in (401, 403)
            private = _ok(api.get(f"/api/videos/{cmaf['id']}"))["data"]
            assert "signature=" in private["assets"]["hls_url"]
            assert httpx.get(private["assets"]["hls_url"].split("?")[0]).status_code == 403
            signed = httpx.get(private["assets"]["hls_url"]).headers["location"]
            assert signed.startswith(f"{node.edge}/eyJ")
            assert _play(node.edge, signed)["segments"]


def _top_level_boxes(data: bytes) -> list[str]:
    """The types of an MP4's top-level boxes in file order (ISO/IEC 14496-12 box headers)."""
    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        elif size == 0:
            size = len(data) - at
        assert size >= 8, f"corrupt box {kind!r} at {at}"
        boxes.append(kind)
        at += size
    return boxes


def _ffprobe(url: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", url],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    found: dict[str, Any] = json.loads(out)
    return found


def test_a_small_quality_plays_through_the_edge_while_a_large_one_transcodes_then_the_mp4(tmp_path: Path):
    clip = make_clip(tmp_path / "hd.mp4", seconds=8, size="1920x1080")
    ladder = [
        {"resolution": "144p", "type": "hls", "container_type": "mp4", "video_config": {"bitrate": 200_000}},
        {"resolution": "1080p", "type": "hls", "container_type": "mp4", "video_config": {"bitrate": 5_000_000}},
    ]
    env = {
        "MEDIAEDGE_VIDEOS_MIN_PART_BYTES": str(PART),
        "MEDIAEDGE_PLUGINS_FFMPEG_PRESET": "veryfast",
        "MEDIAEDGE_JOBS_POLL_INTERVAL": "0.2",
    }
    with mediaedge_up(tmp_path / "var", env=env, log=tmp_path / "mediaedge.log") as node:
        demo = json.loads((node.data_dir / "demo-tenant.json").read_text())
        pair = {"stream-public-key": demo["stream_public_key"], "stream-secret-key": demo["stream_secret_key"]}
        with httpx.Client(base_url=node.origin, headers=pair, timeout=60) as api:
            video = _ok(api.post("/api/videos/create", json={"title": "HD lesson", "qualities": ladder}), 201)["data"]
            _upload(api, video["id"], clip.read_bytes())
            _ok(api.get(f"/api/videos/{video['id']}/complete"))
            deadline = time.monotonic() + 240
            while True:  # until the small quality is done and the large one is not
                now = _ok(api.get(f"/api/videos/{video['id']}"))["data"]
                statuses = [q["status"] for q in now["qualities"]]
                if statuses == ["done", "transcoding"]:
                    break
                assert "done" not in statuses[1:] and time.monotonic() < deadline, now
                time.sleep(0.1)
            assert now["status"] == "transcoding" and now["is_mp4"] is False
            master_url = api.get(now["assets"]["hls_url"]).headers["location"]
            played = _play(node.edge, master_url)  # through the edge, while 1080p is being made
            assert list(played["media"]) == ["144p/index.m3u8"]
            probed = _ffprobe(master_url)
            assert [(s["codec_name"], s["height"]) for s in probed["streams"]] == [("h264", 144)]
            still = _ok(api.get(f"/api/videos/{video['id']}"))["data"]
            assert [q["status"] for q in still["qualities"]][1] == "transcoding"  # it played before 1080p was done

            done = _wait_done(api, video["id"])
            assert [q["status"] for q in done["qualities"]] == ["done", "done"] and done["is_mp4"] is True
            assert "RESOLUTION=1920x1080" in httpx.get(master_url).text
            redirect = api.get(done["assets"]["mp4_url"])
            assert redirect.status_code == 302
            mp4_url = redirect.headers["location"]
            assert mp4_url.startswith(f"{node.edge}/{video['id']}/") and mp4_url.endswith("/video.mp4")
            whole = httpx.get(mp4_url)
            assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
            boxes = _top_level_boxes(whole.content)
            assert boxes.index("moov") < boxes.index("mdat")  # faststart
            part = httpx.get(mp4_url, headers={"Range": "bytes=100-1099"})
            assert part.status_code == 206 and part.content == whole.content[100:1100]
            assert part.headers["content-range"] == f"bytes 100-1099/{len(whole.content)}"
            probed = _ffprobe(mp4_url)
            assert [s["codec_name"] for s in probed["streams"]] == ["h264"]  # video_config only: no audio asked for
            assert probed["streams"][0]["height"] == 1080
            assert float(probed["format"]["duration"]) == pytest.approx(8, abs=0.3)
