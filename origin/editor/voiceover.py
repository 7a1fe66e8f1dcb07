"""Voiceover recording over WebRTC (aiortc).

``POST /api/voiceovers {sdpOffer, iceCandidates}`` answers the browser's offer with a peer
connection of this process (no STUN/TURN servers: host candidates, for an editor on the same
network as its backend; the answer carries every candidate, so the browser needs no trickle). The
audio it receives is read all along and dropped until ``PUT /api/voiceovers/<id> {name}`` starts the
recording: from then on the frames are encoded (AAC, 48 kHz) into a file of the session's. ``DELETE
/api/voiceovers/<id>?keepRecording=1`` stops and closes the connection; with ``keepRecording`` the
file becomes a ``voiceover`` media file (an audio file of the catalogue whose source is
``voiceover``), otherwise it is deleted.

A voiceover lives in the origin process that answered its ``POST`` (the peer connection is a
socket of that process): run the editor API as one process per host, or route ``/api/voiceovers``
to the same process for a session. A voiceover left alone for :data:`IDLE_SECONDS`, or whose
connection fails, is closed and its recording discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from aiortc import RTCConfiguration, RTCIceCandidate, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from mediaedge.errors import HTTPError
from origin.catalogue.ids import new_asset_id
from origin.editor.sessions import Caller, user_id
from origin.ingest import IngestRequest, ingest_file
from origin.state import OriginState

log = logging.getLogger("mediaedge.editor")

SAMPLE_RATE = 48_000
IDLE_SECONDS = 3600.0
MAX_SDP = 64 * 1024
MAX_VOICEOVERS_PER_SESSION = 4


class _Recorder:
    """Encodes received audio frames to AAC in an MP4 (M4A) file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.container: Any = av.open(str(path), "w", format="mp4")
        self.stream: Any = self.container.add_stream("aac", rate=SAMPLE_RATE)
        self.stream.layout = "stereo"
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        self.samples = 0

    def write(self, frame: av.AudioFrame) -> None:
        for resampled in self.resampler.resample(frame):
            resampled.pts = self.samples
            resampled.time_base = Fraction(1, SAMPLE_RATE)
            self.samples += resampled.samples
            for packet in self.stream.encode(resampled):
                self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


@dataclass
class Voiceover:
    id: str
    session_id: str
    tenant_id: str
    pc: RTCPeerConnection
    work_dir: Path
    name: str | None = None
    recorder: _Recorder | None = None
    reader: asyncio.Task[None] | None = None
    touched: float = field(default_factory=time.monotonic)
    closed: bool = False

    async def read(self, track: MediaStreamTrack) -> None:
        """Take every frame off the track (so nothing queues up); record those after ``PUT``."""
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if self.recorder is not None and isinstance(frame, av.AudioFrame):
                try:
                    self.recorder.write(frame)
                except (av.FFmpegError, ValueError) as exc:  # one bad frame must not end the recording
                    log.warning("voiceover %s: a frame could not be encoded: %s", self.id, exc)


_voiceovers: dict[str, Voiceover] = {}


def _not_found() -> HTTPError:
    return HTTPError(404, "No such voiceover", "not_found")


def _candidates(sdp: str) -> list[dict[str, Any]]:
    """The ICE candidates of an SDP, in the browser's ``RTCIceCandidateInit`` form."""
    found, mline = [], -1
    mid = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            mline += 1
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[6:].strip()
        elif line.startswith("a=candidate:"):
            found.append({"candidate": line[2:].strip(), "sdpMid": mid, "sdpMLineIndex": max(mline, 0)})
    return found


def _remote_candidate(value: Any) -> RTCIceCandidate | None:
    text = value.get("candidate") if isinstance(value, dict) else value
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip().removeprefix("a=").removeprefix("candidate:")
    try:
        candidate = candidate_from_sdp(text)
    except (ValueError, IndexError):
        raise HTTPError(400, f"not an ICE candidate: {text[:80]!r}", "editor.voiceover.invalid") from None
    if isinstance(value, dict):
        candidate.sdpMid = value.get("sdpMid")
        candidate.sdpMLineIndex = value.get("sdpMLineIndex")
    return candidate


async def create(state: OriginState, caller: Caller, body: dict[str, Any]) -> tuple[Voiceover, str]:
    """Answer the offer; the voiceover and the SDP answer."""
    offer, candidates = body.get("sdpOffer"), body.get("iceCandidates") or []
    if not isinstance(offer, str) or not offer.startswith("v=") or len(offer) > MAX_SDP:
        raise HTTPError(400, "sdpOffer must be an SDP offer", "editor.voiceover.invalid")
    if not isinstance(candidates, list):
        raise HTTPError(400, "iceCandidates must be a list", "editor.voiceover.invalid")
    if sum(1 for v in _voiceovers.values() if v.session_id == caller.session.id) >= MAX_VOICEOVERS_PER_SESSION:
        raise HTTPError(429, "Too many voiceovers open in this session", "editor.voiceover.limit")
    await _sweep()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    voiceover_id = "vo_" + secrets.token_urlsafe(12)
    work = state.settings.data_path / "voiceovers"
    work.mkdir(parents=True, exist_ok=True)
    voiceover = Voiceover(voiceover_id, caller.session.id, caller.tenant.id, pc, work)

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "audio" and voiceover.reader is None:
            voiceover.reader = asyncio.ensure_future(voiceover.read(track))

    @pc.on("connectionstatechange")
    async def on_state() -> None:
        if pc.connectionState == "failed":
            await _close(voiceover, keep=False)

    try:
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        if not any(t.kind == "audio" for t in pc.getTransceivers()):
            raise HTTPError(400, "the offer has no audio", "editor.voiceover.invalid")
        for value in candidates:
            candidate = _remote_candidate(value)
            if candidate is not None:
                await pc.addIceCandidate(candidate)
        await pc.setLocalDescription(await pc.createAnswer())
    except HTTPError:
        await pc.close()
        raise
    except ValueError as exc:
        await pc.close()
        raise HTTPError(400, f"The offer cannot be answered: {exc}", "editor.voiceover.invalid") from None
    _voiceovers[voiceover_id] = voiceover
    return voiceover, pc.localDescription.sdp


def answer_candidates(sdp: str) -> list[dict[str, Any]]:
    return _candidates(sdp)


def _get(caller: Caller, voiceover_id: str) -> Voiceover:
    voiceover = _voiceovers.get(voiceover_id)
    if voiceover is None or voiceover.session_id != caller.session.id or voiceover.closed:
        raise _not_found()
    voiceover.touched = time.monotonic()
    return voiceover


def _file_name(name: Any) -> str:
    if name is None or name == "":
        return time.strftime("Voiceover %Y-%m-%d %H.%M.%S.m4a", time.gmtime())
    if not isinstance(name, str) or "/" in name or "\\" in name or len(name) > 200:
        raise HTTPError(400, "name must be a file name", "editor.voiceover.invalid")
    return name if name.lower().endswith(".m4a") else f"{name}.m4a"


async def start(caller: Caller, voiceover_id: str, body: dict[str, Any]) -> None:
    voiceover = _get(caller, voiceover_id)
    if voiceover.recorder is not None:
        raise HTTPError(409, "This voiceover is recording already", "editor.voiceover.recording")
    voiceover.name = _file_name(body.get("name"))
    path = voiceover.work_dir / f"{voiceover.id}.m4a"
    voiceover.recorder = await asyncio.to_thread(_Recorder, path)


def status(caller: Caller, voiceover_id: str) -> dict[str, Any]:
    voiceover = _get(caller, voiceover_id)
    recorder = voiceover.recorder
    return {
        "id": voiceover.id,
        "connectionState": voiceover.pc.connectionState,
        "recording": recorder is not None,
        "recordedSeconds": round(recorder.seconds, 3) if recorder else 0.0,
    }


async def stop(state: OriginState, caller: Caller, voiceover_id: str, *, keep: bool) -> str | None:
    """Close the voiceover; with ``keep`` its recording becomes a media file (its id)."""
    voiceover = _get(caller, voiceover_id)
    path = await _close(voiceover, keep=keep)
    if path is None:
        return None
    name = voiceover.name or _file_name(None)
    asset = await state.store.assets.create(
        caller.tenant.id,
        kind="audio",
        title=name,
        asset_id=new_asset_id(),
        user_id=user_id(caller.session),
        source="voiceover",
        dialect="editor",
        extra={"editor": {"stage": "upload"}},
    )
    request = IngestRequest(filename=name, user_id=user_id(caller.session), source="voiceover", asset_id=asset.id)
    record = await ingest_file(state, caller.tenant, str(path), request)
    from origin.editor.imports import adopt_file

    await adopt_file(state, asset, record, caller.session.id)
    return asset.id


async def _close(voiceover: Voiceover, *, keep: bool) -> Path | None:
    """Stop reading, close the peer connection and the file; the file if it is kept."""
    if voiceover.closed:
        return None
    voiceover.closed = True
    _voiceovers.pop(voiceover.id, None)
    await voiceover.pc.close()
    if voiceover.reader is not None:
        voiceover.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await voiceover.reader
    recorder = voiceover.recorder
    if recorder is None:
        return None
    await asyncio.to_thread(recorder.close)
    if keep and recorder.samples > 0:
        return recorder.path
    await asyncio.to_thread(recorder.path.unlink, True)
    return None


async def _sweep() -> None:
    """Close voiceovers nobody touched for :data:`IDLE_SECONDS`."""
    cutoff = time.monotonic() - IDLE_SECONDS
    for voiceover in [v for v in _voiceovers.values() if v.touched < cutoff]:
        log.info("editor: voiceover %s idle, closed", voiceover.id)
        await _close(voiceover, keep=False)


async def close_all() -> None:
    """Close every voiceover of this process (shutdown)."""
    for voiceover in list(_voiceovers.values()):
        await _close(voiceover, keep=False)


async def voiceover_keeper(state: OriginState) -> None:
    """Service: close idle voiceovers every minute, and all of them when the process stops."""
    try:
        while True:
            await asyncio.sleep(60)
            try:
                await _sweep()
            except Exception:
                log.exception("voiceover sweep failed")
    finally:
        await close_all()
