"""PNG frames of media with ffmpeg: one frame at an exact time, or a strip at a fixed step.

Times in the editor API are in 100 ns units (``10_000_000`` = one second). "The frame at a time" is
the frame shown then: the last one starting at or before it. A strip uses the ``fps``
filter with timestamps rounded up: the n-th picture is the last frame starting at or before
``n × step``, i.e. the frame shown at that time.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
from pathlib import Path

import orjson

from mediaedge.ffmpeg import ffmpeg_exe, ffprobe_exe, run_tool

TICKS = 10_000_000  # 100 ns units per second
#: ``trim`` drops frames from ``end`` on, compared in the stream's time base (which may count whole
#: milliseconds): ending 1 ms after the time keeps a frame that starts exactly then.
TRIM_SLACK = 0.001
FRAME_TIMEOUT = 60.0
STRIP_TIMEOUT = 3600.0


#: Handler names muxers write when a track has no name of its own.
GENERIC_HANDLERS = frozenset({"SoundHandler", "Sound Media Handler", "Core Media Audio", "GPAC ISO Audio Handler"})


class FrameError(Exception):
    """ffmpeg made no picture (unreadable media, or a time past the end)."""


def seconds(ticks: int) -> float:
    return ticks / TICKS


def ticks(seconds_: float | None) -> int:
    return round((seconds_ or 0) * TICKS)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scale(width: int) -> str:
    # Never upscale; even height for any pixel format; square pixels.
    return f"scale='min({width},iw)':-2,setsar=1"


async def frame_png(source: str, at: float, width: int) -> bytes:
    """The frame of ``source`` (a path or URL) shown at ``at`` seconds, ``width`` pixels wide at most.

    ffmpeg seeks to the keyframe at or before ``at`` and decodes from there with the file's own
    timestamps (``-copyts``, counted from its first frame); ``trim`` ends the stream after ``at``, so
    the last picture written is the last frame starting at or before ``at``.
    """
    at = max(at, 0.0)
    with tempfile.TemporaryDirectory(prefix="editor-frame-") as tmp:
        out = os.path.join(tmp, "frame.png")
        code, _, err = await run_tool(
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
            "-ss", f"{at:.7f}", "-noaccurate_seek", "-copyts", "-start_at_zero", "-i", source,
            "-an", "-sn", "-vf", f"trim=end={at + TRIM_SLACK:.7f},{_scale(width)}",
            "-update", "1", "-f", "image2", "-c:v", "png", out,
            deadline=FRAME_TIMEOUT,
        )  # fmt: skip
        png = await asyncio.to_thread(_read_if_any, Path(out))
    if code == 0 and not png:  # ``at`` is before the first frame (streams may start late): show that one
        code, png, err = await run_tool(
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", source,
            "-an", "-sn", "-frames:v", "1", "-vf", _scale(width), "-f", "image2pipe", "-c:v", "png", "pipe:1",
            deadline=FRAME_TIMEOUT,
        )  # fmt: skip
    if code != 0 or not png:
        raise FrameError(err.decode(errors="replace").strip()[-300:] or "no frame at that time")
    return png


def _read_if_any(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


async def strip_pngs(source: str, step: float, width: int, limit: int) -> list[bytes]:
    """Frames at 0, ``step``, 2 × ``step`` … (at most ``limit``), as PNGs."""
    with tempfile.TemporaryDirectory(prefix="editor-strip-") as tmp:
        pattern = os.path.join(tmp, "%06d.png")
        code, _, err = await run_tool(
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", source,
            "-vf", f"fps=1/{step}:round=up,{_scale(width)}", "-frames:v", str(limit), "-f", "image2", pattern,
            deadline=STRIP_TIMEOUT,
        )  # fmt: skip
        if code != 0:
            raise FrameError(err.decode(errors="replace").strip()[-300:])
        return await asyncio.to_thread(_read_all, Path(tmp))


def _read_all(directory: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(directory.glob("*.png"))]


async def audio_tracks(source: str) -> list[str]:
    """A name per audio stream: its ``title`` tag, else its handler's name (MP4 keeps track names
    there) unless it is a muxer's default, else its language, else ``Track N``."""
    probe = ffprobe_exe()
    if probe is None:
        _, _, err = await run_tool(ffmpeg_exe(), "-hide_banner", "-i", source, deadline=FRAME_TIMEOUT)
        count = sum(1 for line in err.decode(errors="replace").splitlines() if ": Audio: " in line)
        return [f"Track {n}" for n in range(1, count + 1)]
    code, out, _ = await run_tool(
        probe, "-v", "error", "-select_streams", "a",
        "-show_entries", "stream=index:stream_tags=title,handler_name,language",
        "-print_format", "json", source, deadline=FRAME_TIMEOUT,
    )  # fmt: skip
    if code != 0:
        return []
    names = []
    for n, stream in enumerate(orjson.loads(out).get("streams") or [], start=1):
        tags = stream.get("tags") or {}
        handler = tags.get("handler_name") if tags.get("handler_name") not in GENERIC_HANDLERS else None
        language = tags.get("language") if tags.get("language") != "und" else None
        names.append(tags.get("title") or handler or language or f"Track {n}")
    return names
