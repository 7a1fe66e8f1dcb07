"""XTL, the editor's timeline format for render tasks: parsed strictly into :class:`Timelines`.

::

    <timelines version="2">
      <timeline width="1280" height="720" fps="25" name="my cut">     <!-- one output file -->
        <group>                                                        <!-- groups play one after another -->
          <track video="1" audio="1" accuracy="frame">                 <!-- the main track: clips in a row -->
            <clip src="MEDIA_ID" start="00:00:01:00" stop="00:00:06:00" timeFormat="time10ms"/>
          </track>
          <track video="1" audio="0">                                  <!-- later video tracks: overlays -->
            <clip src="OVERLAY_ID" start="0" stop="20000000" position="10000000" x="16" y="16"/>
          </track>
          <track video="0" audio="1">                                  <!-- audio-only tracks: mixed in -->
            <clip src="VOICEOVER_ID" start="0" stop="30000000"/>
          </track>
        </group>
      </timeline>
    </timelines>

Times are ``timeFormat="time10ms"`` (``HH:MM:SS:CC``, CC in hundredths of a second) or
``timeFormat="time100ns"`` (an integer count of 100 ns units, the API's unit everywhere, and the
default). ``start``/``stop`` select the part of the source a clip plays (for an image: how long it
shows); ``position`` (overlay and audio tracks) is where on the group's timeline the clip begins,
by default right after the track's previous clip. Anything else — an unknown element or
attribute, a missing or malformed value — is an :class:`XtlError` that names the element and the
attribute; the API answers it with 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from mediaedge.errors import HTTPError

TICKS = 10_000_000  # 100 ns units per second
MAX_XTL_BYTES = 1024 * 1024
MAX_CLIPS = 1000
MAX_SIZE = 4096
MAX_FPS = 120.0
_TIME10MS = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d):(\d\d)$")
_INT = re.compile(r"^\d{1,15}$")
_FPS = re.compile(r"^\d{1,3}(\.\d{1,6})?$|^\d{1,6}/\d{1,6}$")

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "timelines": ("version",),
    "timeline": ("width", "height", "fps", "name"),
    "group": (),
    "track": ("video", "audio", "accuracy"),
    "clip": ("src", "start", "stop", "timeFormat", "position", "x", "y", "width", "height"),
}
TIME_FORMATS = ("time10ms", "time100ns")
ACCURACIES = ("frame", "gop")


class XtlError(HTTPError):
    """The XTL is not valid: ``element`` and ``attribute`` say where (400 ``editor.xtl.invalid``)."""

    def __init__(self, element: str, attribute: str | None, problem: str, line: int | None = None) -> None:
        where = f"<{element}>" + (f" attribute '{attribute}'" if attribute else "")
        at = f" (line {line})" if line else ""
        super().__init__(400, f"Invalid XTL: {where}{at}: {problem}", "editor.xtl.invalid")
        self.element, self.attribute = element, attribute


@dataclass(frozen=True)
class Clip:
    src: str
    #: Seconds into the source.
    start: float
    stop: float
    #: Seconds from the group's start where the clip begins (``None``: after the previous clip).
    position: float | None = None
    x: int = 0
    y: int = 0
    width: int | None = None
    height: int | None = None

    @property
    def duration(self) -> float:
        return self.stop - self.start


@dataclass(frozen=True)
class Track:
    video: bool
    audio: bool
    accuracy: str
    clips: tuple[Clip, ...]


@dataclass(frozen=True)
class Group:
    tracks: tuple[Track, ...]

    @property
    def main(self) -> Track | None:
        """The first video track: the group's picture (its clips play one after another)."""
        return next((t for t in self.tracks if t.video), None)

    @property
    def overlays(self) -> tuple[Track, ...]:
        """Video tracks after the main one: laid over it, in order."""
        main = self.main
        return tuple(t for t in self.tracks if t.video and t is not main)

    @property
    def audio_tracks(self) -> tuple[Track, ...]:
        """Tracks with sound only: mixed with the main track's sound."""
        return tuple(t for t in self.tracks if t.audio and not t.video)


@dataclass(frozen=True)
class Timeline:
    groups: tuple[Group, ...]
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    name: str | None = None

    @property
    def has_video(self) -> bool:
        return any(g.main is not None for g in self.groups)

    def sources(self) -> list[str]:
        return list(dict.fromkeys(c.src for g in self.groups for t in g.tracks for c in t.clips))


@dataclass(frozen=True)
class Timelines:
    timelines: tuple[Timeline, ...]

    def sources(self) -> list[str]:
        return list(dict.fromkeys(s for t in self.timelines for s in t.sources()))


def _line(element: Element) -> int | None:
    return getattr(element, "sourceline", None)


def _check_attributes(element: Element) -> None:
    allowed = ATTRIBUTES[element.tag]
    for name in element.attrib:
        if name not in allowed:
            raise XtlError(element.tag, name, f"unknown attribute (allowed: {', '.join(allowed) or 'none'})")


def _children(element: Element, tag: str) -> list[Element]:
    if (element.text or "").strip():
        raise XtlError(element.tag, None, "text is not allowed here")
    children = list(element)
    for child in children:
        if child.tag != tag:
            raise XtlError(str(child.tag), None, f"unexpected element inside <{element.tag}> (expected <{tag}>)")
        if (child.tail or "").strip():
            raise XtlError(element.tag, None, "text is not allowed here")
        _check_attributes(child)
    if not children:
        raise XtlError(element.tag, None, f"needs at least one <{tag}>")
    return children


def _flag(element: Element, name: str, default: bool) -> bool:
    value = element.get(name)
    if value is None:
        return default
    if value not in ("0", "1", "true", "false"):
        raise XtlError(element.tag, name, f"must be 0 or 1, not {value!r}")
    return value in ("1", "true")


def _int(element: Element, name: str, low: int, high: int) -> int | None:
    value = element.get(name)
    if value is None:
        return None
    if not re.fullmatch(r"-?\d{1,6}", value) or not low <= int(value) <= high:
        raise XtlError(element.tag, name, f"must be an integer from {low} to {high}, not {value!r}")
    return int(value)


def parse_time(value: str | None, time_format: str, element: str, attribute: str) -> float:
    """A clip time in seconds; ``time10ms``: ``HH:MM:SS:CC``; ``time100ns``: integer 100 ns units."""
    if value is None:
        raise XtlError(element, attribute, "is required")
    if time_format == "time10ms":
        match = _TIME10MS.match(value)
        if match is None:
            raise XtlError(element, attribute, f"must be HH:MM:SS:CC for timeFormat time10ms, not {value!r}")
        hours, minutes, secs, hundredths = (int(g) for g in match.groups())
        return hours * 3600 + minutes * 60 + secs + hundredths / 100
    if not _INT.match(value):
        raise XtlError(element, attribute, f"must be a whole number of 100 ns units for time100ns, not {value!r}")
    return int(value) / TICKS


def _fps(value: str | None) -> float | None:
    if value is None:
        return None
    if not _FPS.match(value):
        raise XtlError("timeline", "fps", f"must be a number like 25 or 29.97 or 30000/1001, not {value!r}")
    num, _, den = value.partition("/")
    fps = float(num) / float(den) if den else float(num)
    if not 1 <= fps <= MAX_FPS:
        raise XtlError("timeline", "fps", f"must be from 1 to {MAX_FPS:g}")
    return fps


def _clip(element: Element) -> Clip:
    time_format = element.get("timeFormat", "time100ns")
    if time_format not in TIME_FORMATS:
        raise XtlError("clip", "timeFormat", f"must be one of {', '.join(TIME_FORMATS)}, not {time_format!r}")
    src = element.get("src")
    if not src or not src.strip():
        raise XtlError("clip", "src", "is required (a media file id or an overlay image id)", _line(element))
    start = parse_time(element.get("start"), time_format, "clip", "start")
    stop = parse_time(element.get("stop"), time_format, "clip", "stop")
    if stop <= start:
        raise XtlError("clip", "stop", f"must be after start ({element.get('stop')} <= {element.get('start')})")
    position_raw = element.get("position")
    position = parse_time(position_raw, time_format, "clip", "position") if position_raw is not None else None
    return Clip(
        src=src.strip(),
        start=start,
        stop=stop,
        position=position,
        x=_int(element, "x", -MAX_SIZE, MAX_SIZE) or 0,
        y=_int(element, "y", -MAX_SIZE, MAX_SIZE) or 0,
        width=_int(element, "width", 2, MAX_SIZE),
        height=_int(element, "height", 2, MAX_SIZE),
    )


def _track(element: Element) -> Track:
    video, audio = _flag(element, "video", True), _flag(element, "audio", True)
    if not video and not audio:
        raise XtlError("track", "video", "a track needs video=1 or audio=1")
    accuracy = element.get("accuracy", "frame")
    if accuracy not in ACCURACIES:
        raise XtlError("track", "accuracy", f"must be one of {', '.join(ACCURACIES)}, not {accuracy!r}")
    return Track(video, audio, accuracy, tuple(_clip(c) for c in _children(element, "clip")))


def _group(element: Element) -> Group:
    group = Group(tuple(_track(t) for t in _children(element, "track")))
    main = group.main
    if main is not None and any(c.position is not None for c in main.clips):
        raise XtlError("clip", "position", "clips of a group's main (first video) track play in a row: no position")
    return group


def _timeline(element: Element) -> Timeline:
    name = element.get("name")
    if name is not None and (not name.strip() or len(name) > 200 or "/" in name):
        raise XtlError("timeline", "name", "must be a file name (1-200 characters, no '/')")
    width, height = _int(element, "width", 16, MAX_SIZE), _int(element, "height", 16, MAX_SIZE)
    if (width is None) != (height is None):
        raise XtlError("timeline", "height" if height is None else "width", "width and height go together")
    return Timeline(
        groups=tuple(_group(g) for g in _children(element, "group")),
        width=width,
        height=height,
        fps=_fps(element.get("fps")),
        name=name.strip() if name else None,
    )


def parse_xtl(text: Any) -> Timelines:
    """Parse an ``xtl_task`` string; :class:`XtlError` (400) says what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise XtlError("timelines", None, "xtl_task must be a non-empty XML string")
    if len(text.encode()) > MAX_XTL_BYTES:
        raise XtlError("timelines", None, f"the task is larger than {MAX_XTL_BYTES} bytes")
    try:
        root = fromstring(text, forbid_dtd=True)
    except ParseError as exc:
        raise XtlError("timelines", None, f"not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise XtlError("timelines", None, f"DTDs and entities are not allowed: {type(exc).__name__}") from None
    if root.tag != "timelines":
        raise XtlError(str(root.tag), None, "the root element must be <timelines>")
    _check_attributes(root)
    if root.get("version", "2") != "2":
        raise XtlError("timelines", "version", f"only version 2 is supported, not {root.get('version')!r}")
    timelines = Timelines(tuple(_timeline(t) for t in _children(root, "timeline")))
    clips = sum(len(t.clips) for tl in timelines.timelines for g in tl.groups for t in g.tracks)
    if clips > MAX_CLIPS:
        raise XtlError("clip", None, f"a task may have at most {MAX_CLIPS} clips, not {clips}")
    return timelines
