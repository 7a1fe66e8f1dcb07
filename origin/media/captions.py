"""Caption files: WebVTT or SRT in, validated with line numbers, stored as WebVTT; and the HLS/DASH
pieces that put captions beside an asset's stream.

Parsing uses the subtitle libraries (webvtt-py for WebVTT, ``srt`` for SubRip) after a line-level
check of every cue timing, so a bad file is refused with the line that is wrong instead of having
its bad cues silently dropped.

In a stream's output directory each caption language gets ``subs/{lang}/``: WebVTT segments
(``seg_00000.vtt`` …, :data:`SEGMENT_SECONDS` each, a cue repeated in every segment it overlaps) and
their media playlist ``index.m3u8``, plus the whole file as ``captions.vtt`` for DASH. The master
playlist lists them as ``#EXT-X-MEDIA:TYPE=SUBTITLES`` renditions of the group ``subs`` and the MPD
as text adaptation sets.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import langcodes
import srt
import webvtt

from mediaedge.ai.transcripts import Cue, format_timestamp, parse_timestamp
from mediaedge.errors import HTTPError

SEGMENT_SECONDS = 10.0
SUBS_GROUP = "subs"
DASH_NS = "urn:mpeg:dash:schema:mpd:2011"
#: Marks the text adaptation sets this module writes into an MPD (replaced on every rewrite).
DASH_ID_PREFIX = "captions-"

_VTT_TIME = r"(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}"
_VTT_TIMING = re.compile(rf"^({_VTT_TIME})[ \t]+-->[ \t]+({_VTT_TIME})(?:[ \t]+.*)?$")
_SRT_TIME = r"\d{1,3}:[0-5]\d:[0-5]\d[,.]\d{1,3}"
_SRT_TIMING = re.compile(rf"^\s*({_SRT_TIME})\s*-->\s*({_SRT_TIME})(?:\s+.*)?$")


@dataclass(frozen=True)
class CaptionFile:
    """A parsed caption file: the format it came in and its cues."""

    source_format: str  # "vtt" | "srt"
    cues: tuple[Cue, ...]

    def to_webvtt(self) -> str:
        return webvtt_document(self.cues)


def webvtt_document(cues: tuple[Cue, ...] | list[Cue]) -> str:
    captions = [webvtt.Caption(format_timestamp(c.start), format_timestamp(c.end), c.text) for c in cues]
    return str(webvtt.WebVTT(captions=captions).content)


def invalid(line: int, message: str) -> HTTPError:
    return HTTPError(400, f"line {line}: {message}", "validation.captions.invalid")


_MARKUP = re.compile(r"<[^>]*>")


def plain_text(cue_text: str) -> str:
    """A cue's text without its markup (``<v Bob>``, ``<i>``, timestamps) and with single spaces."""
    return " ".join(_MARKUP.sub("", cue_text).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").split())


def language_tag(value: object) -> str:
    """A BCP 47 tag in its standard form (``en-us`` → ``en-US``), or 400 ``validation.language.invalid``."""
    if not isinstance(value, str) or not value.strip() or not langcodes.tag_is_valid(value.strip()):
        raise HTTPError(400, f"language: {value!r} is not a BCP 47 language tag", "validation.language.invalid")
    return str(langcodes.standardize_tag(value.strip()))


def language_label(tag: str) -> str:
    """``en-US`` → ``English (United States)``."""
    return str(langcodes.Language.get(tag).display_name())


def parse_captions(content: str) -> CaptionFile:
    """WebVTT (starts with ``WEBVTT``) or SRT; 400 naming the first bad line otherwise."""
    text = content.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise invalid(1, "the caption file is empty")
    first = text.split("\n", 1)[0]
    if first.startswith("WEBVTT"):
        return CaptionFile("vtt", _parse_vtt(text))
    if first.strip().isdigit() or _SRT_TIMING.match(first):
        return CaptionFile("srt", _parse_srt(text))
    raise invalid(1, "expected WEBVTT (a WebVTT file) or a cue number (an SRT file)")


def _check_timings(lines: list[str], timing: re.Pattern[str], kind: str) -> int:
    """Every ``-->`` line must be a valid timing whose end follows its start; returns the cue count."""
    count = 0
    for number, line in enumerate(lines, start=1):
        if "-->" not in line:
            continue
        match = timing.match(line)
        if match is None:
            raise invalid(number, f"invalid {kind} cue timing {line.strip()!r}")
        start, end = parse_timestamp(match.group(1)), parse_timestamp(match.group(2))
        if end <= start:
            raise invalid(number, f"the cue ends ({match.group(2)}) before it starts ({match.group(1)})")
        count += 1
    return count


def _parse_vtt(text: str) -> tuple[Cue, ...]:
    lines = text.split("\n")
    if not re.match(r"^WEBVTT([ \t].*)?$", lines[0]):
        raise invalid(1, "the WEBVTT header must be followed by a space, a tab or the end of the line")
    count = _check_timings(lines, _VTT_TIMING, "WebVTT")
    if count == 0:
        raise invalid(len(lines), "the file has no cues")
    try:
        document = webvtt.from_buffer(io.StringIO(text))
    except webvtt.errors.MalformedFileError as exc:
        raise invalid(1, f"not a WebVTT file: {exc}") from None
    cues = tuple(Cue(parse_timestamp(c.start), parse_timestamp(c.end), c.raw_text) for c in document.captions)
    _all_taken(lines, _VTT_TIMING, cues, count)
    return cues


def _all_taken(lines: list[str], timing: re.Pattern[str], cues: tuple[Cue, ...], count: int) -> None:
    """Refuse a file whose parser took fewer cues than it has timings (two cues run together)."""
    if len(cues) == count:
        return
    taken = {(round(c.start, 3), round(c.end, 3)) for c in cues}
    for number, line in enumerate(lines, start=1):
        match = timing.match(line)
        times = match and (round(parse_timestamp(match.group(1)), 3), round(parse_timestamp(match.group(2)), 3))
        if times and times not in taken:
            raise invalid(
                number,
                "the cue does not start a block of its own (a blank line, or the cue number, is missing before it)",
            )


def _parse_srt(text: str) -> tuple[Cue, ...]:
    lines = text.split("\n")
    count = _check_timings(lines, _SRT_TIMING, "SRT")
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        line = text.count("\n", 0, exc.expected_start) + 1
        raise invalid(line, f"not a valid SRT cue: {text[exc.expected_start :].split(chr(10), 1)[0]!r}") from None
    if not subtitles:
        raise invalid(len(lines), "the file has no cues")
    cues = tuple(Cue(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in subtitles)
    _all_taken(lines, _SRT_TIMING, cues, count)
    return cues


# -- stream pieces ---------------------------------------------------------------------------------


def segment_files(cues: tuple[Cue, ...], duration: float) -> list[tuple[str, float, str]]:
    """The WebVTT segments of a caption track: ``(file name, seconds, document)`` covering ``duration``."""
    end = max(duration, max((c.end for c in cues), default=0.0), SEGMENT_SECONDS / 10)
    count = max(1, math.ceil(end / SEGMENT_SECONDS))
    segments = []
    for index in range(count):
        start, stop = index * SEGMENT_SECONDS, min(end, (index + 1) * SEGMENT_SECONDS)
        inside = [c for c in cues if c.start < stop and c.end > start]
        header = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
        body = "".join(f"{format_timestamp(c.start)} --> {format_timestamp(c.end)}\n{c.text}\n\n" for c in inside)
        segments.append((f"seg_{index:05d}.vtt", stop - start, header + body))
    return segments


def subtitle_playlist(segments: list[tuple[str, float, str]]) -> str:
    target = max(1, math.ceil(max(seconds for _, seconds, _ in segments)))
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    for name, seconds, _ in segments:
        lines += [f"#EXTINF:{seconds:.3f},", name]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


@dataclass(frozen=True)
class Track:
    """One caption language as it appears in the manifests."""

    language: str
    label: str
    default: bool = False

    @property
    def directory(self) -> str:
        return f"subs/{self.language}/"


def master_with_subtitles(master: str, tracks: list[Track]) -> str:
    """``master`` with exactly ``tracks`` as its SUBTITLES renditions (earlier ones replaced)."""
    lines = [line for line in master.rstrip("\n").split("\n") if not line.startswith("#EXT-X-MEDIA:TYPE=SUBTITLES")]
    lines = [re.sub(rf',SUBTITLES="{SUBS_GROUP}"', "", line) for line in lines]
    if not tracks:
        return "\n".join([*lines, ""])
    media = [
        f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBS_GROUP}",NAME="{_quoted(t.label)}",LANGUAGE="{t.language}",'
        f'DEFAULT={"YES" if t.default else "NO"},AUTOSELECT=YES,URI="{t.directory}index.m3u8"'
        for t in tracks
    ]
    out: list[str] = []
    placed = False
    for line in lines:
        if line.startswith("#EXT-X-STREAM-INF:"):
            if not placed:
                out += media
                placed = True
            line += f',SUBTITLES="{SUBS_GROUP}"'
        out.append(line)
    if not placed:
        out += media
    return "\n".join([*out, ""])


def _quoted(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def mpd_with_subtitles(mpd: str, tracks: list[Track]) -> str:
    """``mpd`` with one text adaptation set per track (sidecar WebVTT; earlier ones replaced)."""
    ET.register_namespace("", DASH_NS)
    root = ET.fromstring(mpd)  # noqa: S314 - an MPD the origin's own provider wrote
    period = root.find(f"{{{DASH_NS}}}Period")
    if period is None:
        raise ValueError("the MPD has no Period")
    for adaptation in list(period.findall(f"{{{DASH_NS}}}AdaptationSet")):
        if (adaptation.get("id") or "").startswith(DASH_ID_PREFIX):
            period.remove(adaptation)
    for index, track in enumerate(tracks):
        adaptation = ET.SubElement(
            period,
            f"{{{DASH_NS}}}AdaptationSet",
            {
                "id": f"{DASH_ID_PREFIX}{index}",
                "contentType": "text",
                "mimeType": "text/vtt",
                "lang": track.language,
            },
        )
        ET.SubElement(adaptation, f"{{{DASH_NS}}}Role", {"schemeIdUri": "urn:mpeg:dash:role:2011", "value": "subtitle"})
        rep = ET.SubElement(
            adaptation, f"{{{DASH_NS}}}Representation", {"id": f"{DASH_ID_PREFIX}{track.language}", "bandwidth": "256"}
        )
        ET.SubElement(rep, f"{{{DASH_NS}}}BaseURL").text = f"{track.directory}captions.vtt"
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
