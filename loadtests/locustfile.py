"""Locust users that behave like real clients of a seeded mediaedge (see loadtests/README.md).

- ``Player``: HLS through the edge with the signed URL an embed page hands out — master playlist, one
  video rendition's and the audio rendition's media playlists, then their segments in time order, at
  real-time pace (``BUFFER_SECONDS`` ahead of the playhead) or flat out, with the occasional seek.
- ``Mp4Viewer``: a ``<video src=file.mp4>``: sequential byte ranges, at the file's bitrate or flat out,
  the occasional seek to a random offset.
- ``Uploader``: TUS uploads in chunks at ``/files``, then deletes the file.
- ``ApiClient``: ``POST /auth/url-token``, ``GET /files/duration`` and the embed page.

Environment: ``LOADTEST_SEED`` (the JSON written by ``loadtests/seed.py``, required),
``LOADTEST_PACE`` (``realtime``, the default, or ``flat``), ``LOADTEST_SEEK`` (chance of a seek per
segment or range, default 0.1).
"""

from __future__ import annotations

import base64
import bisect
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

SEED: dict[str, Any] = json.loads(Path(os.environ["LOADTEST_SEED"]).read_text())
API_HEADERS = {"API-Key": SEED["api_key"]}
REALTIME = os.environ.get("LOADTEST_PACE", "realtime") == "realtime"
SEEK_CHANCE = float(os.environ.get("LOADTEST_SEEK", "0.1"))
BUFFER_SECONDS = 30.0  # how far ahead of the playhead a player fetches (hls.js: maxBufferLength)
RANGE_BYTES = 256 * 1024
TUS_SIZE, TUS_CHUNK = 1024 * 1024, 256 * 1024
_EXTINF = re.compile(r"#EXTINF:([\d.]+)")
_MAP = re.compile(r'#EXT-X-MAP:.*URI="([^"]+)"')
_AUDIO = re.compile(r'#EXT-X-MEDIA:(?=.*TYPE=AUDIO)(?=.*DEFAULT=YES).*URI="([^"]+)"')
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def variants(master: str, base: str) -> tuple[list[str], str | None]:
    """Absolute URLs of a master playlist's video renditions, and of its default audio rendition."""
    lines = [line.strip() for line in master.splitlines()]
    video = [urljoin(base, lines[i + 1]) for i, line in enumerate(lines[:-1]) if line.startswith("#EXT-X-STREAM-INF")]
    audio = next((m.group(1) for m in map(_AUDIO.match, lines) if m), None)
    return video, urljoin(base, audio) if audio else None


def segments(media: str, base: str) -> tuple[str | None, list[tuple[float, str]]]:
    """A media playlist's init segment (fMP4), and ``(start second, url)`` of each of its segments."""
    init = _MAP.search(media)
    found, start, duration = [], 0.0, 0.0
    for line in (line.strip() for line in media.splitlines()):
        if match := _EXTINF.match(line):
            duration = float(match.group(1))
        elif line and not line.startswith("#"):
            found.append((start, urljoin(base, line)))
            start += duration
    return (urljoin(base, init.group(1)) if init else None), found


class Paced:
    """Real-time pacing: a player fetches media up to ``BUFFER_SECONDS`` ahead of its playhead."""

    def __init__(self) -> None:
        self.restart(0.0)

    def restart(self, position: float) -> None:
        self.started, self.position = time.monotonic(), position

    def wait_for(self, media_time: float) -> None:
        """Sleep until the media at ``media_time`` (seconds after the last restart's position) is due."""
        if REALTIME:
            due = self.started + (media_time - self.position) - BUFFER_SECONDS
            time.sleep(max(0.0, due - time.monotonic()))


class Player(FastHttpUser):
    host = SEED["edge"]
    weight = 6
    wait_time = between(1, 3)

    def _get(self, url: str, name: str) -> bytes:
        """GET ``url``; anything but a non-empty 200 counts as a failure."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200 or not response.content:
                response.failure(f"{name}: {response.status_code}, {len(response.content or b'')} bytes")
            return response.content or b""

    def _media(self, playlist: str) -> list[tuple[float, str]]:
        """Fetch a media playlist and its init segment; its segments as ``(start second, url)``."""
        init, found = segments(self._get(playlist, "hls media playlist").decode(), playlist)
        if init:
            self._get(init, "hls init segment")
        return found

    @task
    def watch_hls(self) -> None:
        video, audio = variants(self._get(SEED["hls"], "hls master playlist").decode(), SEED["hls"])
        if not video:
            return
        timeline = sorted(self._media(random.choice(video)) + (self._media(audio) if audio else []))
        starts = [start for start, _ in timeline]
        clock, index = Paced(), 0
        while index < len(timeline):
            start, url = timeline[index]
            clock.wait_for(start)
            self._get(url, "hls segment")
            index += 1
            if random.random() < SEEK_CHANCE:
                index = bisect.bisect_left(starts, random.choice(starts))
                clock.restart(starts[index])


class Mp4Viewer(FastHttpUser):
    host = SEED["edge"]
    weight = 3
    wait_time = between(1, 3)

    def _range(self, start: int) -> int | None:
        """Fetch ``RANGE_BYTES`` from ``start``; the object's size from ``Content-Range``, None on failure."""
        headers = {"Range": f"bytes={start}-{start + RANGE_BYTES - 1}"}
        with self.client.get(SEED["mp4"], name="mp4 range", headers=headers, catch_response=True) as response:
            match = _CONTENT_RANGE.match(response.headers.get("content-range") or "")
            if response.status_code != 206 or not match or int(match.group(1)) != start:
                response.failure(f"mp4 range: {response.status_code} {response.headers.get('content-range')}")
                return None
            if len(response.content) != int(match.group(2)) - start + 1:
                response.failure("mp4 range: short body")
                return None
            return int(match.group(3))

    @task
    def watch_mp4(self) -> None:
        size = self._range(0)
        if size is None:
            return
        seconds_per_byte = float(SEED["duration"] or 0) / size
        clock, offset = Paced(), RANGE_BYTES
        while offset < size:
            clock.wait_for(offset * seconds_per_byte)
            if self._range(offset) is None:
                return
            offset += RANGE_BYTES
            if random.random() < SEEK_CHANCE:
                offset = random.randrange(size)
                clock.restart(offset * seconds_per_byte)


class Uploader(FastHttpUser):
    host = SEED["origin"]
    weight = 1
    wait_time = between(2, 5)

    @task
    def tus_upload(self) -> None:
        meta = {
            "filename": f"load-{random.getrandbits(48):x}.bin",
            "filetype": "application/octet-stream",
            "userId": "loadtest",
            "destination": "uploads",
        }
        headers = {**API_HEADERS, "Tus-Resumable": "1.0.0"}
        encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
        with self.client.post(
            "/files",
            name="tus create",
            catch_response=True,
            headers={**headers, "Upload-Length": str(TUS_SIZE), "Upload-Metadata": encoded},
        ) as r:
            if r.status_code != 201 or not r.headers.get("location"):
                r.failure(f"tus create: {r.status_code}")
                return
            location = urljoin(SEED["origin"] + "/files", r.headers["location"])
        body, access_url = random.randbytes(TUS_SIZE), ""
        for offset in range(0, TUS_SIZE, TUS_CHUNK):
            end = min(offset + TUS_CHUNK, TUS_SIZE)
            chunk_headers = {**headers, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
            chunk = body[offset:end]  # bytes: allowed by locust's docstring, missing from its annotation
            with self.client.request(
                "PATCH",
                location,
                name="tus patch",
                data=chunk,  # type: ignore[arg-type]
                headers=chunk_headers,
                catch_response=True,
            ) as r:
                access_url = r.headers.get("x-mediaedge-url") or ""
                if r.status_code != 204 or r.headers.get("upload-offset") != str(end):
                    r.failure(f"tus patch: {r.status_code} offset {r.headers.get('upload-offset')}")
                    return
                if end == TUS_SIZE and not access_url:
                    r.failure("tus patch: the last chunk's answer has no X-Mediaedge-Url")
                    return
        self.client.request(
            "DELETE", "/files/delete", name="file delete", headers=API_HEADERS, json={"file": unquote(access_url)}
        )


class ApiClient(FastHttpUser):
    host = SEED["origin"]
    weight = 1
    wait_time = between(0.5, 2)

    @task(3)
    def url_token(self) -> None:
        with self.client.post(
            "/auth/url-token",
            json={"url": SEED["file_url"], "expiresIn": "1h"},
            headers=API_HEADERS,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or not response.json().get("signed"):
                response.failure(f"url-token: {response.status_code}")

    @task(2)
    def duration(self) -> None:
        with self.client.get(
            f"/files/duration?file={quote(SEED['file_url'], safe='')}",
            name="/files/duration",
            headers=API_HEADERS,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or not response.json().get("duration"):
                response.failure(f"duration: {response.status_code}")

    @task(1)
    def embed_page(self) -> None:
        with self.client.get(
            f"/embed?file={SEED['file_id']}&api_key={quote(SEED['api_key'])}", name="/embed", catch_response=True
        ) as response:
            if response.status_code != 200 or b"embed-config" not in response.content:
                response.failure(f"embed page: {response.status_code}")
