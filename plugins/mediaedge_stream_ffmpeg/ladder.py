"""From a qualities config and a probed source to the renditions to make, and which make each quality.

Renditions come in two packagings. fMP4 qualities (``hls``/``mp4``, ``dash``/``fmp4``) become CMAF
renditions: one set of fragmented-MP4 segments that the DASH manifest and the HLS playlists both
reference, with audio as separate renditions. ``mpegts`` qualities become HLS variants with their
audio muxed in (a video-only one takes the first audio-only ``mpegts`` quality's audio, as seed 001
says video-only resolutions use the audio playlist). When a ladder has MPEG-TS variants, the HLS
master lists those and the CMAF renditions appear in the DASH manifest only: players do not switch
between TS and fMP4 variants of one presentation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mediaedge.qualities import AudioConfig, QualitiesConfig, Quality
from mediaedge.streams import ProviderRejected
from mediaedge_stream_ffmpeg.probe import SourceInfo


@dataclass(frozen=True)
class VideoRendition:
    name: str
    width: int
    height: int
    codec: str  # h264 | h265
    bitrate: int
    max_bitrate: int
    track: int  # video track of the source


@dataclass(frozen=True)
class AudioRendition:
    name: str
    config: AudioConfig


@dataclass(frozen=True)
class TsVariant:
    name: str
    video: VideoRendition | None
    audio: AudioConfig | None


@dataclass(frozen=True)
class QualityPlan:
    """One requested quality (as the video objects API lists it) and the renditions that make it."""

    name: str  # the quality's resolution or label
    type: str  # hls | dash
    renditions: tuple[str, ...]


@dataclass(frozen=True)
class Ladder:
    cmaf_video: tuple[VideoRendition, ...]
    cmaf_audio: tuple[AudioRendition, ...]
    ts_variants: tuple[TsVariant, ...]
    qualities: tuple[QualityPlan, ...] = ()

    @property
    def cmaf(self) -> tuple[VideoRendition | AudioRendition, ...]:
        """CMAF renditions in the order ffmpeg's dash output maps them (its representation ids)."""
        return (*self.cmaf_video, *self.cmaf_audio)

    @property
    def video(self) -> tuple[VideoRendition, ...]:
        return (*self.cmaf_video, *(v.video for v in self.ts_variants if v.video))

    @property
    def has_dash(self) -> bool:
        return bool(self.cmaf)

    @property
    def hls_from_ts(self) -> bool:
        return bool(self.ts_variants)


def plan_ladder(config: QualitiesConfig, source: SourceInfo) -> Ladder:
    """The renditions to make; raises :class:`ProviderRejected` when nothing sensible remains."""
    fitting = config.fitting(source.short_side) if source.video_tracks else QualitiesConfig(config.audio_only)
    if config.video and not fitting.video:
        raise ProviderRejected(
            f"every video quality is above the source resolution ({source.width}x{source.height})"
            if source.video_tracks
            else "the source has no video track"
        )
    qualities = [_drop_missing_audio(q, source) for q in fitting.qualities]
    qualities = [q for q in qualities if q.video or q.audio]
    if not qualities:
        raise ProviderRejected("the source has no audio track for the audio-only qualities")
    for q in qualities:
        _check_tracks(q, source)
    names = _Names()
    videos = {i: _video(q, source, names) for i, q in enumerate(qualities) if q.video}
    cmaf_video = tuple(videos[i] for i, q in enumerate(qualities) if q.video and q.fmp4)
    cmaf_audio = tuple(
        AudioRendition(names.take(_audio_name(a)), a) for a in _audio_configs(q for q in qualities if q.fmp4)
    )
    ts_audio = _audio_configs(q for q in qualities if not q.fmp4 and not q.video)
    ts: list[TsVariant] = []
    for i, q in enumerate(qualities):
        if q.video and not q.fmp4:
            ts.append(TsVariant(videos[i].name, videos[i], q.audio or (ts_audio[0] if ts_audio else None)))
    if not ts:
        ts = [TsVariant(names.take(_audio_name(a)), None, a) for a in ts_audio]
    audio_names = {a.config: a.name for a in cmaf_audio}
    plans = []
    for i, q in enumerate(qualities):
        if q.fmp4:
            made = [videos[i].name] if q.video else []
            made += [audio_names[q.audio]] if q.audio else []
        elif q.video:
            made = [videos[i].name]
        else:  # an audio-only mpegts quality: the variants its audio is muxed into (or its own)
            made = [t.name for t in ts if t.audio == q.audio]
        plans.append(QualityPlan(q.resolution, q.type, tuple(made)))
    return Ladder(cmaf_video, cmaf_audio, tuple(ts), tuple(plans))


def scaled_size(short_side: int, width: int, height: int) -> tuple[int, int]:
    """``width``×``height`` scaled so its shorter side is ``short_side``; both sides even."""
    if width >= height:
        return _even(width * short_side / height), short_side
    return short_side, _even(height * short_side / width)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _video(q: Quality, source: SourceInfo, names: _Names) -> VideoRendition:
    assert q.video is not None
    width, height = scaled_size(q.size.height, source.width, source.height)
    suffix = "" if q.video.codec == "h264" else f"-{q.video.codec}"
    return VideoRendition(
        names.take(q.resolution + suffix),
        width,
        height,
        q.video.codec,
        q.video.bitrate,
        q.size.max_bitrate,
        q.video.index,
    )


def _audio_configs(qualities: Iterable[Quality]) -> list[AudioConfig]:
    """The distinct audio configs of ``qualities``, in order."""
    return list(dict.fromkeys(q.audio for q in qualities if q.audio is not None))


def _audio_name(config: AudioConfig) -> str:
    return f"audio-{config.bitrate // 1000}k" + (f"-{config.language}" if config.language else "")


def _drop_missing_audio(q: Quality, source: SourceInfo) -> Quality:
    if q.audio and not source.audio_tracks:
        return Quality(q.resolution, q.type, q.container_type, q.video, None)
    return q


def _check_tracks(q: Quality, source: SourceInfo) -> None:
    if q.video and q.video.index >= source.video_tracks:
        raise ProviderRejected(f"{q.resolution}: the source has no video track {q.video.index}")
    if q.audio and q.audio.index >= source.audio_tracks:
        raise ProviderRejected(f"{q.resolution}: the source has no audio track {q.audio.index}")


class _Names:
    """Unique directory names for renditions: ``720p``, then ``720p-2`` …"""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.used:
            n += 1
            candidate = f"{name}-{n}"
        self.used.add(candidate)
        return candidate
