"""The audio plumbing AI providers share, with ffmpeg: extracting speech for recognition, encoding
spoken audio into the output formats, measuring a file's duration.

A media file ffmpeg cannot read, or one without an audio stream, is :class:`AIRejected` (the input is
unusable); an ffmpeg that overruns its deadline is :class:`AIUnavailable`.
"""

from __future__ import annotations

import re
from pathlib import Path

from mediaedge.ai.errors import AIRejected, AIUnavailable
from mediaedge.ai.providers import AudioFormat, SpeechAudio
from mediaedge.ffmpeg import ffmpeg_exe, run_tool

__all__ = ["ENCODERS", "compress_speech", "duration_of", "encode_audio", "extract_audio", "pcm_seconds"]

#: ffmpeg output options per speech output format: MP3 (LAME VBR), Ogg Opus, 16-bit WAV, AAC in MP4.
ENCODERS: dict[str, tuple[str, ...]] = {
    "mp3": ("-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3"),
    "ogg": ("-c:a", "libopus", "-b:a", "48k", "-f", "ogg"),
    "wav": ("-c:a", "pcm_s16le", "-f", "wav"),
    "m4a": ("-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", "-f", "mp4"),
}
#: Bytes per second of the PCM :func:`extract_audio` writes at ``rate`` Hz (16-bit mono).
SAMPLE_BYTES = 2
_DURATION = re.compile(rb"time=(\d+):(\d\d):(\d\d(?:\.\d+)?)")


async def _ffmpeg(*args: str, deadline: float, what: str) -> bytes:
    try:
        code, _, err = await run_tool(ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args, deadline=deadline)
    except TimeoutError:
        raise AIUnavailable(f"{what}: ffmpeg did not finish within {deadline:g} s") from None
    if code:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise AIRejected(f"{what}: ffmpeg could not read the media ({tail[0][:200]})")
    return err


async def _mono_audio(src: Path, dst: Path, rate: int, output: list[str], deadline: float) -> Path:
    """The first audio stream of ``src``, mixed down to mono at ``rate`` Hz, written as ``output`` says."""
    args = ["-loglevel", "error", "-i", str(src), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(rate)]
    await _ffmpeg(*args, *output, str(dst), deadline=deadline, what="extracting the audio")
    return dst


async def extract_audio(src: Path, dst: Path, *, rate: int = 16000, deadline: float = 3600) -> Path:
    """The first audio stream of ``src`` as raw signed 16-bit little-endian mono PCM at ``rate`` Hz."""
    return await _mono_audio(src, dst, rate, ["-f", "s16le"], deadline)


def pcm_seconds(path: Path, rate: int = 16000) -> float:
    """Duration of a file :func:`extract_audio` wrote."""
    return path.stat().st_size / (SAMPLE_BYTES * rate)


async def duration_of(path: Path, *, deadline: float = 600) -> float:
    """Seconds of media in ``path``, by decoding it (exact for formats without a duration header)."""
    err = await _ffmpeg("-i", str(path), "-vn", "-f", "null", "-", deadline=deadline, what="measuring the audio")
    found = _DURATION.findall(err)
    if not found:
        raise AIRejected("measuring the audio: ffmpeg found no audio")
    hours, minutes, seconds = found[-1]
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


async def encode_audio(src: Path, dst_stem: Path, format: AudioFormat, *, deadline: float = 600) -> SpeechAudio:
    """Encode the audio of ``src`` as ``format`` into ``dst_stem`` + ``.format``."""
    if format not in ENCODERS:
        raise AIRejected(f"format: expected one of {', '.join(ENCODERS)}, got {format!r}")
    dst = dst_stem.with_suffix(f".{format}")
    await _ffmpeg(
        "-loglevel",
        "error",
        "-i",
        str(src),
        "-vn",
        "-map_metadata",
        "-1",
        *ENCODERS[format],
        str(dst),
        deadline=deadline,
        what=f"encoding {format}",
    )
    return SpeechAudio(dst, format, await duration_of(dst, deadline=deadline))


async def compress_speech(src: Path, dst: Path, *, deadline: float = 3600) -> Path:
    """The first audio stream of ``src`` as mono 16 kHz 32 kb/s MP3, enough for recognition: an hour is
    14 MB, under the 25 MB upload limit of hosted transcription APIs."""
    return await _mono_audio(src, dst, 16000, ["-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"], deadline)
