"""Packaging after the encode: name the CMAF renditions and write the HLS playlists that share them.

ffmpeg's dash muxer writes representation ``N`` to ``r{N}/``; here each directory gets its
rendition's name (``360p/``, ``audio-128k/``), the MPD's segment templates follow, and — unless the
ladder's HLS side is MPEG-TS — a media playlist per rendition (``360p/index.m3u8``, segment list
and durations read from the MPD's SegmentTimeline) plus ``master.m3u8`` reference the very same
fMP4 segments. BANDWIDTH is the measured peak segment bitrate, AVERAGE-BANDWIDTH the mean.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediaedge_stream_ffmpeg.command import MASTER, MPD, cmaf_dir
from mediaedge_stream_ffmpeg.ladder import AudioRendition, Ladder, VideoRendition

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"
ET.register_namespace("", DASH_NS)
ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
MEDIA_PLAYLIST = "index.m3u8"
AUDIO_GROUP = "audio"


def mpd_tag(tag: str) -> str:
    return f"{{{DASH_NS}}}{tag}"


@dataclass(frozen=True)
class Track:
    """One packaged CMAF rendition."""

    rendition: VideoRendition | AudioRendition
    codecs: str
    frame_rate: str | None
    segments: tuple[tuple[str, float], ...]  # (file name in the rendition's directory, seconds)
    peak_bps: int
    average_bps: int

    @property
    def name(self) -> str:
        return self.rendition.name

    def summary(self) -> dict[str, Any]:
        r = self.rendition
        out: dict[str, Any] = {
            "name": r.name,
            "codecs": self.codecs,
            "bandwidth": self.peak_bps,
            "average_bandwidth": self.average_bps,
            "packaging": "cmaf",
        }
        if isinstance(r, VideoRendition):
            out.update(type="video", width=r.width, height=r.height, bitrate=r.bitrate, frame_rate=self.frame_rate)
        else:
            out.update(type="audio", bitrate=r.config.bitrate, language=r.config.language)
        return out


def package_cmaf(out: Path, ladder: Ladder) -> list[Track]:
    """Rename ``r{N}/`` to rendition names, rewrite the MPD, and (for CMAF HLS) write the playlists."""
    tree = ET.parse(out / MPD)  # noqa: S314 - ffmpeg's own output, not user input
    tracks = []
    for adaptation in tree.iter(mpd_tag("AdaptationSet")):
        for rep in adaptation.iter(mpd_tag("Representation")):
            index = int(rep.get("id", "-1"))
            rendition = ladder.cmaf[index]
            template = rep.find(mpd_tag("SegmentTemplate"))
            if template is None:
                raise RuntimeError("ffmpeg wrote a representation without a SegmentTemplate")
            segments = _segments(template)
            os.rename(out / cmaf_dir(index), out / rendition.name)
            template.set("initialization", f"{rendition.name}/init.m4s")
            template.set("media", f"{rendition.name}/seg_$Number%05d$.m4s")
            peak, average = _bitrates(out / rendition.name, segments)
            tracks.append(Track(rendition, rep.get("codecs", ""), adaptation.get("frameRate"), segments, peak, average))
    tree.write(out / MPD, xml_declaration=True, encoding="utf-8")
    if not ladder.hls_from_ts:
        for track in tracks:
            (out / track.name / MEDIA_PLAYLIST).write_text(media_playlist(track))
        (out / MASTER).write_text(master_playlist(tracks))
    return sorted(tracks, key=lambda t: ladder.cmaf.index(t.rendition))


def _segments(template: ET.Element) -> tuple[tuple[str, float], ...]:
    timescale = int(template.get("timescale", "1"))
    number = int(template.get("startNumber", "1"))
    timeline = template.find(mpd_tag("SegmentTimeline"))
    segments = []
    for s in timeline if timeline is not None else []:
        for _ in range(int(s.get("r", "0")) + 1):
            segments.append((f"seg_{number:05d}.m4s", int(s.get("d", "0")) / timescale))
            number += 1
    return tuple(segments)


def _bitrates(directory: Path, segments: tuple[tuple[str, float], ...]) -> tuple[int, int]:
    rates = [(directory / name).stat().st_size * 8 / seconds for name, seconds in segments if seconds > 0]
    total = sum(seconds for _, seconds in segments)
    size = sum((directory / name).stat().st_size for name, _ in segments)
    return math.ceil(max(rates, default=0)), math.ceil(size * 8 / total) if total else 0


def media_playlist(track: Track) -> str:
    target = max((round(seconds) for _, seconds in track.segments), default=1)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{max(1, target)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MAP:URI="init.m4s"',
    ]
    for name, seconds in track.segments:
        lines += [f"#EXTINF:{seconds:.6f},", name]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


def master_playlist(tracks: list[Track]) -> str:
    videos = [t for t in tracks if isinstance(t.rendition, VideoRendition)]
    audios = [t for t in tracks if isinstance(t.rendition, AudioRendition)]
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if not videos:  # audio-only ladder: each audio rendition is a variant
        for a in audios:
            lines += [
                f'#EXT-X-STREAM-INF:BANDWIDTH={a.peak_bps},AVERAGE-BANDWIDTH={a.average_bps},CODECS="{a.codecs}"',
                f"{a.name}/{MEDIA_PLAYLIST}",
            ]
        return "\n".join([*lines, ""])
    for i, a in enumerate(audios):
        assert isinstance(a.rendition, AudioRendition)
        config = a.rendition.config
        language = f',LANGUAGE="{config.language}"' if config.language else ""
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="{a.name}"{language},'
            f'DEFAULT={"YES" if i == 0 else "NO"},AUTOSELECT=YES,CHANNELS="{config.channels}",'
            f'URI="{a.name}/{MEDIA_PLAYLIST}"'
        )
    audio_peak = max((a.peak_bps for a in audios), default=0)
    audio_average = max((a.average_bps for a in audios), default=0)
    audio_codecs = audios[0].codecs if audios else ""
    for v in videos:
        assert isinstance(v.rendition, VideoRendition)
        codecs = ",".join(c for c in (v.codecs, audio_codecs) if c)
        attrs = [
            f"BANDWIDTH={v.peak_bps + audio_peak}",
            f"AVERAGE-BANDWIDTH={v.average_bps + audio_average}",
            f'CODECS="{codecs}"',
            f"RESOLUTION={v.rendition.width}x{v.rendition.height}",
        ]
        if v.frame_rate:
            attrs.append(f"FRAME-RATE={_fraction(v.frame_rate):.3f}")
        if audios:
            attrs.append(f'AUDIO="{AUDIO_GROUP}"')
        lines += [f"#EXT-X-STREAM-INF:{','.join(attrs)}", f"{v.name}/{MEDIA_PLAYLIST}"]
    return "\n".join([*lines, ""])


def _fraction(text: str) -> float:
    num, _, den = text.partition("/")
    return float(num) / float(den or 1)
