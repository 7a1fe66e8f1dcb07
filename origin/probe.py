"""Media probing: duration, dimensions, codecs and MIME type of an ingested file.

Uses ffprobe's JSON output; on a machine with only the imageio-ffmpeg wheel, falls back to
parsing ``ffmpeg -i``'s stream summary, which carries the same facts.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass

import orjson

from mediaedge.ffmpeg import ffmpeg_exe, ffprobe_exe, is_cover_art, run_tool

PROBE_TIMEOUT = 60.0
MEDIA_PREFIXES = ("video/", "audio/")

mimetypes.add_type("video/mp4", ".mp4")
mimetypes.add_type("video/mp2t", ".ts")
mimetypes.add_type("video/iso.segment", ".m4s")
mimetypes.add_type("application/vnd.apple.mpegurl", ".m3u8")
mimetypes.add_type("application/dash+xml", ".mpd")
mimetypes.add_type("text/vtt", ".vtt")
mimetypes.add_type("video/x-matroska", ".mkv")
mimetypes.add_type("audio/mp4", ".m4a")


@dataclass(frozen=True)
class ProbeResult:
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None


def guess_mime(filename: str, declared: str | None = None) -> str:
    """MIME type from the extension; a client's declared type only when the extension says nothing."""
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or (declared if declared and "/" in declared else "application/octet-stream")


def is_media(mime: str) -> bool:
    return mime.startswith(MEDIA_PREFIXES)


async def probe(source: str) -> ProbeResult:
    """Probe a local path or an http(s) URL. Unreadable media gives an empty result, not an error."""
    ffprobe = ffprobe_exe()
    try:
        if ffprobe:
            code, out, _ = await run_tool(
                ffprobe,
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                source,
                deadline=PROBE_TIMEOUT,
            )
            return parse_ffprobe(orjson.loads(out)) if code == 0 else ProbeResult()
        _, _, err = await run_tool(ffmpeg_exe(), "-hide_banner", "-i", source, deadline=PROBE_TIMEOUT)
        return parse_ffmpeg_banner(err.decode(errors="replace"))
    except (TimeoutError, orjson.JSONDecodeError, OSError):
        return ProbeResult()


def parse_ffprobe(doc: dict) -> ProbeResult:
    streams = doc.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video" and not is_cover_art(s)), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = (doc.get("format") or {}).get("duration")
    return ProbeResult(
        duration=round(float(duration), 3) if duration not in (None, "N/A") else None,
        width=int(video["width"]) if video and video.get("width") else None,
        height=int(video["height"]) if video and video.get("height") else None,
        video_codec=video.get("codec_name") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
    )


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)")


def parse_ffmpeg_banner(text: str) -> ProbeResult:
    duration = None
    if m := _DURATION.search(text):
        duration = round(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)), 3)
    video, audio = _VIDEO.search(text), _AUDIO.search(text)
    return ProbeResult(
        duration=duration,
        width=int(video.group(2)) if video else None,
        height=int(video.group(3)) if video else None,
        video_codec=video.group(1) if video else None,
        audio_codec=audio.group(1) if audio else None,
    )
