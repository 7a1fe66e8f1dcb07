"""What the ladder needs to know about a source: display size, frame rate, duration, tracks."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import orjson

from mediaedge.ffmpeg import ffprobe_exe, is_cover_art, run_tool
from mediaedge.streams import ProviderRejected

PROBE_TIMEOUT = 120.0


@dataclass(frozen=True)
class SourceInfo:
    width: int  # as displayed: sample aspect ratio and rotation applied
    height: int
    fps: float
    duration: float
    video_tracks: int
    audio_tracks: int

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


async def probe_source(source: str) -> SourceInfo:
    """Probe a local path or URL with ffprobe; an unreadable source is refused for good."""
    ffprobe = ffprobe_exe()
    if ffprobe is None:
        raise RuntimeError("the ffmpeg stream provider needs ffprobe on PATH")
    code, out, err = await run_tool(
        ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", source, deadline=PROBE_TIMEOUT
    )
    if code != 0:
        raise ProviderRejected(f"source is not readable media: {err.decode(errors='replace').strip()[:300]}")
    return parse_probe(orjson.loads(out))


def parse_probe(doc: dict[str, Any]) -> SourceInfo:
    streams = doc.get("streams") or []
    videos = [s for s in streams if s.get("codec_type") == "video" and not is_cover_art(s)]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    duration = float((doc.get("format") or {}).get("duration") or 0)
    if duration <= 0:
        raise ProviderRejected("source has no duration")
    width = height = 0
    fps = 0.0
    if videos:
        video = videos[0]
        width, height = _display_size(video)
        fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    return SourceInfo(width, height, fps or 25.0, duration, len(videos), len(audios))


def _display_size(video: dict[str, Any]) -> tuple[int, int]:
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    sar = _rate(video.get("sample_aspect_ratio"))
    if sar and sar != 1:
        width = round(width * sar)
    if abs(_rotation(video)) % 180 == 90:
        width, height = height, width
    return width, height


def _rotation(video: dict[str, Any]) -> int:
    for side in video.get("side_data_list") or []:
        if "rotation" in side:
            return int(side["rotation"])
    return int((video.get("tags") or {}).get("rotate") or 0)


def _rate(text: str | None) -> float:
    try:
        value = Fraction(str(text).replace(":", "/"))
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(value) if value > 0 else 0.0
