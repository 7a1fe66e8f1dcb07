"""Voiceover over real WebRTC: an aiortc client sends a generated 440 Hz tone to the origin, which
records it from ``PUT`` to ``DELETE``; the kept recording is a voiceover media file whose length and
pitch are measured on the bytes the edge serves."""

from __future__ import annotations

import asyncio
import math
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import av
import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from mediaedge.ffmpeg import ffmpeg_exe
from tests.editor.conftest import Session
from tests.editor.render_stack import RenderStack

pytestmark = pytest.mark.anyio
RATE = 48_000
FRAME = 960  # 20 ms
TONE = 440.0


class Tone(MediaStreamTrack):
    """A mono sine tone, paced in real time like a microphone."""

    kind = "audio"

    def __init__(self, frequency: float) -> None:
        super().__init__()
        self.frequency, self.sent, self.started = frequency, 0, 0.0

    async def recv(self) -> av.AudioFrame:
        if not self.started:
            self.started = time.monotonic()
        ahead = self.started + self.sent / RATE - time.monotonic()
        if ahead > 0:
            await asyncio.sleep(ahead)  # pacing of the stream itself, not a wait in the test
        pcm = b"".join(
            int(12000 * math.sin(2 * math.pi * self.frequency * (self.sent + n) / RATE)).to_bytes(
                2, "little", signed=True
            )
            for n in range(FRAME)
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(pcm)
        frame.sample_rate, frame.pts, frame.time_base = RATE, self.sent, Fraction(1, RATE)
        self.sent += FRAME
        return frame


async def until(check: object, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _connect(client: httpx.AsyncClient) -> tuple[RTCPeerConnection, Tone, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tone = Tone(TONE)
    pc.addTrack(tone)
    await pc.setLocalDescription(await pc.createOffer())
    created = await client.post("/api/voiceovers", json={"sdpOffer": pc.localDescription.sdp, "iceCandidates": []})
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["iceCandidates"] and all(c["candidate"].startswith("candidate:") for c in body["iceCandidates"])
    await pc.setRemoteDescription(RTCSessionDescription(body["sdpAnswer"], "answer"))

    async def connected() -> bool:
        return pc.connectionState == "connected"

    await until(connected, what="the WebRTC connection")
    return pc, tone, str(body["id"])


def _decode(path: Path) -> list[int]:
    raw = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE),
         "-f", "s16le", "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return [int.from_bytes(raw[i : i + 2], "little", signed=True) for i in range(0, len(raw) - 1, 2)]


async def test_a_webrtc_voiceover_is_recorded_as_a_media_file(
    render_stack: RenderStack, render_session: Session, tmp_path: Path
) -> None:
    headers = {"Authorization": render_session.id}
    async with httpx.AsyncClient(base_url=render_stack.url, headers=headers, timeout=30) as client:
        pc, tone, voiceover_id = await _connect(client)
        try:

            async def sent_a_second() -> bool:
                return tone.sent >= RATE

            await until(sent_a_second, what="a second of sound before recording")  # not to be recorded
            started = await client.put(f"/api/voiceovers/{voiceover_id}", json={"name": "narration"})
            assert started.status_code == 200 and started.json() == {}
            assert (await client.put(f"/api/voiceovers/{voiceover_id}", json={})).status_code == 409

            async def recorded_two_seconds() -> bool:
                state = (await client.get(f"/api/voiceovers/{voiceover_id}")).json()
                return bool(state["recording"] and state["recordedSeconds"] >= 2.0)

            await until(recorded_two_seconds, what="two seconds recorded")
            recorded = (await client.get(f"/api/voiceovers/{voiceover_id}")).json()["recordedSeconds"]
            stopped = await client.delete(f"/api/voiceovers/{voiceover_id}", params={"keepRecording": 1})
            assert stopped.status_code == 200, stopped.text
        finally:
            await pc.close()
        media_id = stopped.json()["mediaFileId"]
        entry = (await client.get(f"/api/mediafiles/{media_id}")).json()
        voiceovers = (await client.get("/api/mediafiles", params={"filter": "voiceover"})).json()["entries"]
        assert (await client.get(f"/api/voiceovers/{voiceover_id}")).status_code == 404
    assert entry["name"] == "narration.m4a" and entry["mediaType"] == "audio"
    assert media_id in [e["id"] for e in voiceovers]
    path = tmp_path / "voiceover.m4a"
    async with httpx.AsyncClient(timeout=30) as edge:
        played = await edge.get(entry["previewUrl"])
    assert played.status_code == 200
    path.write_bytes(played.content)
    samples = _decode(path)
    seconds = len(samples) / RATE
    # What arrived between PUT and DELETE: about what the server counted, not the second before PUT.
    assert 2.0 <= seconds <= recorded + 0.3, (seconds, recorded)
    body = samples[RATE // 10 : -RATE // 10]  # away from the edges
    crossings = sum(1 for a, b in zip(body, body[1:], strict=False) if (a < 0) != (b < 0))
    frequency = crossings / 2 / (len(body) / RATE)
    assert abs(frequency - TONE) < 5, frequency
    assert max(abs(s) for s in body) > 3000  # a tone, not silence


async def test_a_voiceover_not_kept_leaves_no_media_file(render_stack: RenderStack, render_session: Session) -> None:
    headers = {"Authorization": render_session.id}
    async with httpx.AsyncClient(base_url=render_stack.url, headers=headers, timeout=30) as client:
        before = (await client.get("/api/mediafiles", params={"filter": "voiceover"})).json()["total_count"]
        pc, _, voiceover_id = await _connect(client)
        try:
            assert (await client.put(f"/api/voiceovers/{voiceover_id}", json={})).status_code == 200
            stopped = await client.delete(f"/api/voiceovers/{voiceover_id}")
            assert stopped.status_code == 200 and stopped.json() == {}
        finally:
            await pc.close()
        after = (await client.get("/api/mediafiles", params={"filter": "voiceover"})).json()["total_count"]
        assert after == before
        assert (await client.put(f"/api/voiceovers/{voiceover_id}", json={})).status_code == 404
        bad = await client.post("/api/voiceovers", json={"sdpOffer": "hello"})
        assert bad.status_code == 400 and bad.json()["code"] == "editor.voiceover.invalid"
    assert not list((render_stack.origin.data_dir / "voiceovers").glob("*.m4a"))
