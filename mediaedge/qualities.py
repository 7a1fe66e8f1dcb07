"""Encoding ladders in seed 001's ``qualities`` shape: the rules, parsing, and the default ladder.

:func:`parse_qualities` turns the JSON a client sent into a :class:`QualitiesConfig` or raises
:class:`QualitiesError` whose message names the offending field (``qualities[1].video_config.bitrate:
…``), which the API answers as a 400. The rules, in order (docs/streams.md lists them too):

- ``qualities`` is a non-empty array of at most :data:`MAX_QUALITIES` objects; unknown fields are refused.
- ``type`` is ``hls`` or ``dash`` (default ``hls``); ``container_type`` matches it: ``mpegts`` or ``mp4``
  for hls (default ``mp4``), ``fmp4`` for dash.
- ``video_config`` needs a ``resolution`` from :data:`RESOLUTIONS`; its ``codec`` is ``h264`` (default)
  or ``h265``; ``bitrate`` a positive integer up to the resolution's maximum (default: a rung
  below it); ``index`` a non-negative integer. h265 is refused in ``mpegts`` (Apple plays HEVC only in fMP4).
- ``audio_config``: ``codec`` ``aac``; ``bitrate`` 1…512000 (default 128000); ``channels`` ``"1"`` or
  ``"2"`` (default 2); ``sample_rate`` one of :data:`SAMPLE_RATES` (default 48000); ``language`` an
  ISO 639 code; ``index`` a non-negative integer.
- Neither config: a video resolution gets default video and audio, any other label default audio.
- hls video qualities share one ``container_type``; no two video qualities have the same resolution,
  codec and container family, and no two audio-only qualities the same audio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AUDIO_CODECS",
    "RESOLUTIONS",
    "SAMPLE_RATES",
    "VIDEO_CODECS",
    "AudioConfig",
    "QualitiesConfig",
    "QualitiesError",
    "Quality",
    "Resolution",
    "VideoConfig",
    "default_qualities",
    "parse_qualities",
]


@dataclass(frozen=True)
class Resolution:
    name: str
    width: int  # of a 16:9 picture; other shapes keep this short side
    height: int
    max_bitrate: int
    default_bitrate: int


#: Seed 001's table (144p is an addition from its list of allowed qualities).
RESOLUTIONS: dict[str, Resolution] = {
    r.name: r
    for r in (
        Resolution("144p", 256, 144, 300_000, 200_000),
        Resolution("240p", 426, 240, 700_000, 400_000),
        Resolution("360p", 640, 360, 1_200_000, 800_000),
        Resolution("480p", 854, 480, 2_000_000, 1_400_000),
        Resolution("720p", 1280, 720, 4_000_000, 2_800_000),
        Resolution("1080p", 1920, 1080, 6_000_000, 5_000_000),
        Resolution("1440p", 2560, 1440, 12_000_000, 8_000_000),
        Resolution("2160p", 3840, 2160, 30_000_000, 16_000_000),
        Resolution("4320p", 7680, 4320, 60_000_000, 40_000_000),
    )
}
VIDEO_CODECS = ("h264", "h265")
AUDIO_CODECS = ("aac",)
SAMPLE_RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000)
CHANNELS = ("1", "2")
CONTAINERS = {"hls": ("mpegts", "mp4"), "dash": ("fmp4",)}
DEFAULT_CONTAINER = {"hls": "mp4", "dash": "fmp4"}
MAX_QUALITIES = 12
MAX_AUDIO_BITRATE = 512_000
DEFAULT_LADDER = ("1080p", "720p", "480p", "360p", "240p")

_QUALITY_FIELDS = {"resolution", "type", "container_type", "video_config", "audio_config"}
_VIDEO_FIELDS = {"codec", "bitrate", "index"}
_AUDIO_FIELDS = {"codec", "bitrate", "channels", "sample_rate", "language", "index"}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class QualitiesError(ValueError):
    """An invalid qualities config; the message starts with the field's path."""


@dataclass(frozen=True)
class VideoConfig:
    codec: str
    bitrate: int
    index: int = 0


@dataclass(frozen=True)
class AudioConfig:
    codec: str = "aac"
    bitrate: int = 128_000
    channels: int = 2
    sample_rate: int = 48_000
    language: str | None = None
    index: int = 0


@dataclass(frozen=True)
class Quality:
    resolution: str
    type: str
    container_type: str
    video: VideoConfig | None = None
    audio: AudioConfig | None = None

    @property
    def fmp4(self) -> bool:
        """Packaged as fragmented MP4 (CMAF) rather than MPEG-TS."""
        return self.container_type != "mpegts"

    @property
    def size(self) -> Resolution:
        """The resolution row of a video quality."""
        return RESOLUTIONS[self.resolution]

    def to_dict(self) -> dict[str, Any]:
        """Seed 001's shape, with every default filled in."""
        out: dict[str, Any] = {"resolution": self.resolution, "type": self.type, "container_type": self.container_type}
        if self.video:
            out["video_config"] = {"codec": self.video.codec, "bitrate": self.video.bitrate, "index": self.video.index}
        if self.audio:
            a = self.audio
            out["audio_config"] = {
                "codec": a.codec,
                "bitrate": a.bitrate,
                "channels": str(a.channels),
                "sample_rate": a.sample_rate,
                "language": a.language,
                "index": a.index,
            }
        return out


@dataclass(frozen=True)
class QualitiesConfig:
    qualities: tuple[Quality, ...]

    @property
    def video(self) -> tuple[Quality, ...]:
        return tuple(q for q in self.qualities if q.video)

    @property
    def audio_only(self) -> tuple[Quality, ...]:
        return tuple(q for q in self.qualities if not q.video)

    def to_list(self) -> list[dict[str, Any]]:
        return [q.to_dict() for q in self.qualities]

    def fitting(self, short_side: int) -> QualitiesConfig:
        """Without the video qualities above a source whose shorter side is ``short_side`` pixels."""
        return QualitiesConfig(tuple(q for q in self.qualities if not q.video or q.size.height <= short_side))


def default_qualities() -> QualitiesConfig:
    """The ladder used when a stream names none: :data:`DEFAULT_LADDER` in CMAF plus one AAC track."""
    video = tuple(
        Quality(name, "dash", "fmp4", VideoConfig("h264", RESOLUTIONS[name].default_bitrate)) for name in DEFAULT_LADDER
    )
    return QualitiesConfig((*video, Quality("audio", "dash", "fmp4", audio=AudioConfig())))


def default_qualities_for(short_side: int | None) -> QualitiesConfig:
    """The default ladder for a source whose shorter side is ``short_side`` pixels: its rungs that fit,
    or, for a source smaller than every rung, one rendition at the largest resolution that fits (so a
    small video still streams); the whole ladder when the size is unknown or below 144p."""
    ladder = default_qualities()
    if not short_side:
        return ladder
    fitting = ladder.fitting(short_side)
    if fitting.video:
        return fitting
    small = [r for r in RESOLUTIONS.values() if r.height <= short_side]
    if not small:
        return ladder
    best = max(small, key=lambda r: r.height)
    video = Quality(best.name, "dash", "fmp4", VideoConfig("h264", best.default_bitrate))
    return QualitiesConfig((video, *(q for q in ladder.qualities if not q.video)))


def parse_qualities(raw: Any) -> QualitiesConfig:
    """Validate seed 001's ``qualities`` array; raises :class:`QualitiesError` naming the field."""
    if not isinstance(raw, list) or not raw:
        raise QualitiesError("qualities: must be a non-empty array")
    if len(raw) > MAX_QUALITIES:
        raise QualitiesError(f"qualities: at most {MAX_QUALITIES} entries")
    config = QualitiesConfig(tuple(_quality(item, f"qualities[{i}]") for i, item in enumerate(raw)))
    _check_ladder(config)
    return config


def _quality(item: Any, path: str) -> Quality:
    obj = _object(item, path, _QUALITY_FIELDS)
    kind = obj.get("type", "hls")
    if kind not in CONTAINERS:
        raise QualitiesError(f'{path}.type: must be "hls" or "dash"')
    container = obj.get("container_type", DEFAULT_CONTAINER[kind])
    if container not in CONTAINERS[kind]:
        allowed = " or ".join(f'"{c}"' for c in CONTAINERS[kind])
        raise QualitiesError(f"{path}.container_type: must be {allowed} for type {kind}")
    resolution = obj.get("resolution")
    if resolution is not None and (not isinstance(resolution, str) or not resolution.strip()):
        raise QualitiesError(f"{path}.resolution: must be a non-empty string")
    video_raw, audio_raw = obj.get("video_config"), obj.get("audio_config")
    if video_raw is None and audio_raw is None:  # seed: the server applies defaults for both
        if resolution in RESOLUTIONS:
            video_raw, audio_raw = {}, {}
        else:
            audio_raw = {}
    video = None
    if video_raw is not None:
        if resolution not in RESOLUTIONS:
            raise QualitiesError(f"{path}.resolution: must be one of {', '.join(RESOLUTIONS)} with a video_config")
        video = _video(video_raw, f"{path}.video_config", RESOLUTIONS[resolution])
        if video.codec == "h265" and container == "mpegts":
            raise QualitiesError(
                f'{path}.container_type: h265 needs "mp4" (Apple HLS plays HEVC only in fMP4, not mpegts)'
            )
    audio = _audio(audio_raw, f"{path}.audio_config") if audio_raw is not None else None
    return Quality(resolution or "audio", kind, container, video, audio)


def _video(raw: Any, path: str, size: Resolution) -> VideoConfig:
    obj = _object(raw, path, _VIDEO_FIELDS)
    codec = obj.get("codec", "h264")
    if codec not in VIDEO_CODECS:
        raise QualitiesError(f"{path}.codec: only {', '.join(VIDEO_CODECS)} are supported, got {codec!r}")
    bitrate = _int(obj.get("bitrate", size.default_bitrate), f"{path}.bitrate", 1)
    if bitrate > size.max_bitrate:
        raise QualitiesError(f"{path}.bitrate: {bitrate} exceeds the {size.name} maximum of {size.max_bitrate} bps")
    return VideoConfig(codec, bitrate, _int(obj.get("index", 0), f"{path}.index", 0))


def _audio(raw: Any, path: str) -> AudioConfig:
    obj = _object(raw, path, _AUDIO_FIELDS)
    codec = obj.get("codec", "aac")
    if codec not in AUDIO_CODECS:
        raise QualitiesError(f"{path}.codec: only aac is supported, got {codec!r}")
    bitrate = _int(obj.get("bitrate", AudioConfig.bitrate), f"{path}.bitrate", 1)
    if bitrate > MAX_AUDIO_BITRATE:
        raise QualitiesError(f"{path}.bitrate: at most {MAX_AUDIO_BITRATE} bps")
    channels = str(obj.get("channels", "2"))
    if channels not in CHANNELS:
        raise QualitiesError(f'{path}.channels: must be "1" (mono) or "2" (stereo)')
    sample_rate = obj.get("sample_rate", AudioConfig.sample_rate)
    if sample_rate not in SAMPLE_RATES or isinstance(sample_rate, bool):
        raise QualitiesError(f"{path}.sample_rate: must be one of {', '.join(map(str, SAMPLE_RATES))} Hz")
    language = obj.get("language")
    if language is not None and (not isinstance(language, str) or not _LANGUAGE.match(language)):
        raise QualitiesError(f'{path}.language: must be an ISO 639 code such as "en" or "pt-BR"')
    return AudioConfig(
        codec, bitrate, int(channels), int(sample_rate), language, _int(obj.get("index", 0), f"{path}.index", 0)
    )


def _check_ladder(config: QualitiesConfig) -> None:
    hls_containers = {q.container_type for q in config.video if q.type == "hls"}
    if len(hls_containers) > 1:
        raise QualitiesError("qualities: hls video qualities must share one container_type (mpegts or mp4)")
    seen: set[tuple[Any, ...]] = set()
    for i, q in enumerate(config.qualities):
        identity = (q.resolution, q.video.codec, q.fmp4) if q.video else (q.audio, q.fmp4)
        if identity in seen:
            raise QualitiesError(f"qualities[{i}]: duplicates an earlier quality")
        seen.add(identity)


def _object(raw: Any, path: str, fields: set[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise QualitiesError(f"{path}: must be an object")
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise QualitiesError(f"{path}: unknown field {unknown[0]!r}")
    return raw


def _int(value: Any, path: str, minimum: int) -> int:
    """An integer (JSON numbers such as ``3e6`` count when whole) of at least ``minimum``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise QualitiesError(f"{path}: must be an integer of at least {minimum}")
    return value
