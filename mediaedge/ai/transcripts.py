"""Transcripts: recognised words with their times, grouped into caption cues, written as WebVTT.

A :class:`Transcript` is what a caption provider returns: cues in time order, each with the words it
holds (providers that know no word times return cues without words). :func:`cues_from_words` groups
a word stream into cues the way captions read well: a new cue after a pause longer than
``max_gap`` seconds, or when the cue would pass ``max_seconds`` or ``max_chars``. WebVTT is written
and read with webvtt-py.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import webvtt

__all__ = ["Cue", "Transcript", "Word", "cues_from_words", "format_timestamp", "parse_timestamp", "parse_webvtt"]


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the media
    end: float
    confidence: float | None = None


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    language: str
    cues: tuple[Cue, ...]
    #: The provider that recognised it (``pocketsphinx``, ``openai``).
    provider: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(cue.text for cue in self.cues)

    @property
    def words(self) -> list[Word]:
        return [word for cue in self.cues for word in cue.words]

    def to_webvtt(self) -> str:
        """The cues as a WebVTT document."""
        captions = [webvtt.Caption(format_timestamp(c.start), format_timestamp(c.end), c.text) for c in self.cues]
        return str(webvtt.WebVTT(captions=captions).content)

    def to_json(self) -> dict[str, Any]:
        """``{"language", "provider", "text", "cues": [{"start", "end", "text", "words": [...]}]}``."""
        return {
            "language": self.language,
            "provider": self.provider,
            "text": self.text,
            "cues": [asdict(cue) for cue in self.cues],
        }


def format_timestamp(seconds: float) -> str:
    """``83.5`` → ``"00:01:23.500"`` (WebVTT's ``HH:MM:SS.mmm``)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def parse_webvtt(text: str) -> list[Cue]:
    """The cues of a WebVTT document (no word times); raises ``ValueError`` when it is not WebVTT."""
    try:
        document = webvtt.from_buffer(io.StringIO(text))
    except webvtt.errors.MalformedFileError as exc:
        raise ValueError(f"not a WebVTT document: {exc}") from None
    return [Cue(parse_timestamp(c.start), parse_timestamp(c.end), " ".join(c.text.split())) for c in document.captions]


def parse_timestamp(text: str) -> float:
    """``"00:01:23.500"`` or ``"01:23.500"`` → ``83.5`` (webvtt-py's own ``*_in_seconds`` drop the milliseconds)."""
    seconds = 0.0
    for part in text.replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def cues_from_words(
    words: Iterable[Word], *, max_gap: float = 0.8, max_seconds: float = 5.0, max_chars: int = 84
) -> list[Cue]:
    """Group time-ordered words into cues (a new cue on a pause, or when one would get too long)."""
    cues: list[Cue] = []
    current: list[Word] = []

    def close() -> None:
        if current:
            cues.append(_cue(current))
            current.clear()

    for word in words:
        if current:
            too_long = word.end - current[0].start > max_seconds
            too_wide = len(_join(current)) + 1 + len(word.text) > max_chars
            if word.start - current[-1].end > max_gap or too_long or too_wide:
                close()
        current.append(word)
    close()
    return cues


def _join(words: Sequence[Word]) -> str:
    return " ".join(w.text for w in words)


def _cue(words: Sequence[Word]) -> Cue:
    return Cue(words[0].start, words[-1].end, _join(words), tuple(words))
