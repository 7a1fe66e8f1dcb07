"""CMX3600 EDLs (edit decision lists), for project import.

An event line is ``NNN  REEL  TRACK  TRANSITION [DURATION]  SRC_IN SRC_OUT REC_IN REC_OUT`` with
timecodes ``HH:MM:SS:FF`` at the frame rate the import is given (``fps``; ``;`` drop-frame
separators are read as the same frame counts). ``TRACK`` is ``V`` (picture), ``A``/``A2``/``AA``…
(sound) or ``B`` (both). The clip's media is named by a following ``* FROM CLIP NAME:`` comment,
else by its reel. Dissolves and wipes (``D``, ``W…``) are read as cuts. ``TITLE:`` and ``FCM:``
lines are read; other comments are ignored.

An EDL becomes an XTL timeline (``to_xtl``): picture events on the main track in record order,
sound-only events on an audio track at their record positions — so an imported EDL renders as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from xml.sax.saxutils import quoteattr

TICKS = 10_000_000
_EVENT = re.compile(
    r"^(\d{1,6})\s+(\S+)\s+(\S+)\s+(C|D|W\d{3}|K[BO]?)\s+(?:(\d{1,4})\s+)?"
    r"(\d\d[:;]\d\d[:;]\d\d[:;]\d\d)\s+(\d\d[:;]\d\d[:;]\d\d[:;]\d\d)\s+"
    r"(\d\d[:;]\d\d[:;]\d\d[:;]\d\d)\s+(\d\d[:;]\d\d[:;]\d\d[:;]\d\d)\s*$"
)
_CLIP_NAME = re.compile(r"^\*\s*FROM CLIP NAME:\s*(.+?)\s*$", re.IGNORECASE)
MAX_EVENTS = 5000


class EdlError(ValueError):
    pass


@dataclass(frozen=True)
class Event:
    number: int
    reel: str
    video: bool
    audio: bool
    source_in: Fraction  # seconds
    source_out: Fraction
    record_in: Fraction
    record_out: Fraction
    clip_name: str | None = None

    @property
    def media(self) -> str:
        """The name the event's media is known by: its clip name, else its reel."""
        return self.clip_name or self.reel


@dataclass(frozen=True)
class Edl:
    title: str
    fps: Fraction
    events: tuple[Event, ...]


def timecode(text: str, fps: Fraction, line: int) -> Fraction:
    hours, minutes, seconds, frames = (int(p) for p in re.split(r"[:;]", text))
    rate = round(fps)
    if frames >= rate or minutes > 59 or seconds > 59:
        raise EdlError(f"line {line}: {text} is not a timecode at {float(fps):g} fps")
    return Fraction((hours * 3600 + minutes * 60 + seconds) * rate + frames) / fps


def parse_edl(text: str, fps: float) -> Edl:
    rate = Fraction(fps).limit_denominator(1001)
    if not 1 <= rate <= 120:
        raise EdlError("fps must be from 1 to 120")
    title, events = "", list[Event]()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.upper().startswith("TITLE:"):
            title = line.split(":", 1)[1].strip()
            continue
        if line.upper().startswith("FCM:"):
            continue
        if line.startswith("*"):
            named = _CLIP_NAME.match(line)
            if named and events:
                last = events[-1]
                events[-1] = Event(**{**vars(last), "clip_name": named.group(1)})
            continue
        match = _EVENT.match(line)
        if match is None:
            if line.startswith("M2") or line.upper().startswith(("SPLIT", ">>>")):
                continue  # speed changes and split edits: not supported, the cut stays
            raise EdlError(f"line {number}: not a CMX3600 event: {line[:80]!r}")
        track = match.group(3).upper()
        video, audio = track in ("V", "B") or track.startswith("V"), track in ("B",) or track.startswith("A")
        if not video and not audio:
            raise EdlError(f"line {number}: unknown track {track!r}")
        src_in, src_out, rec_in, rec_out = (timecode(match.group(i), rate, number) for i in range(6, 10))
        if src_out <= src_in or rec_out <= rec_in:
            raise EdlError(f"line {number}: the event's out point is not after its in point")
        events.append(Event(int(match.group(1)), match.group(2), video, audio, src_in, src_out, rec_in, rec_out))
        if len(events) > MAX_EVENTS:
            raise EdlError(f"more than {MAX_EVENTS} events")
    if not events:
        raise EdlError("the EDL has no events")
    return Edl(title, rate, tuple(events))


def _ticks(value: Fraction) -> int:
    return round(value * TICKS)


def to_xtl(edl: Edl, media_ids: dict[str, str]) -> str:
    """The EDL as an XTL task; ``media_ids`` maps each event's media name to a media file id."""
    start = min(e.record_in for e in edl.events)
    pictures = sorted((e for e in edl.events if e.video), key=lambda e: e.record_in)
    sounds = sorted((e for e in edl.events if e.audio and not e.video), key=lambda e: e.record_in)

    def clip(event: Event, positioned: bool) -> str:
        attrs = {
            "src": media_ids[event.media],
            "start": str(_ticks(event.source_in)),
            "stop": str(_ticks(event.source_out)),
            "timeFormat": "time100ns",
        }
        if positioned:
            attrs["position"] = str(_ticks(event.record_in - start))
        return "<clip " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + "/>"

    tracks = []
    if pictures:
        audio = "1" if all(e.audio for e in pictures) else "0"
        tracks.append(f'<track video="1" audio="{audio}" accuracy="frame">' + "".join(clip(e, False) for e in pictures)
                      + "</track>")  # fmt: skip
    if sounds:
        tracks.append('<track video="0" audio="1">' + "".join(clip(e, True) for e in sounds) + "</track>")
    return (
        f'<timelines version="2"><timeline fps="{edl.fps.numerator}/{edl.fps.denominator}">'
        f"<group>{''.join(tracks)}</group></timeline></timelines>"
    )
