"""The AI provider contracts (DESIGN §11): captions from speech, speech from text, images from prompts.

Plugins return provider classes from ``register_caption_providers``, ``register_speech_providers`` and
``register_image_providers``; :class:`mediaedge.ai.registry.AIProviders` picks one per request as the
``[plugins.ai]`` settings list them. Each class sets a unique ``name`` and builds itself with
``from_settings``, raising :class:`~mediaedge.ai.errors.NotConfigured` (naming the setting) when it
cannot work. Providers raise :class:`~mediaedge.ai.errors.AIRejected` for input they refuse and
:class:`~mediaedge.ai.errors.AIUnavailable` when their backend failed transiently.

Languages are BCP 47 tags, matched on their primary language, case-insensitively: a provider serving
``"en"`` or ``"en-US"`` serves ``"en-GB"`` too; ``languages = None`` means any.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from mediaedge.ai.errors import AIRejected
from mediaedge.ai.transcripts import Transcript

if TYPE_CHECKING:
    from mediaedge.settings import Settings

__all__ = [
    "AUDIO_FORMATS",
    "AudioFormat",
    "CaptionProvider",
    "GeneratedImage",
    "ImageProvider",
    "ImageRequest",
    "Refusal",
    "SpeechAudio",
    "SpeechProvider",
    "Voice",
    "image_mime",
    "language_in",
    "primary_language",
]

AudioFormat = Literal["mp3", "ogg", "wav", "m4a"]
#: Output formats of speech providers and their MIME types.
AUDIO_FORMATS: dict[str, str] = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav", "m4a": "audio/mp4"}
#: ``await report(percent)`` records a long task's progress.
Report = Callable[[float], Awaitable[None]]


def language_in(languages: Iterable[str] | None, language: str) -> bool:
    """Whether ``languages`` (``None``: any) serves ``language``: one has its primary language."""
    if languages is None:
        return True
    return primary_language(language) in {primary_language(tag) for tag in languages}


def primary_language(tag: str) -> str:
    """``"en-US"`` → ``"en"``."""
    return tag.split("-")[0].lower()


class _Provider(abc.ABC):
    name: ClassVar[str]

    @property
    def model(self) -> str:
        """The model it asks, where it has a choice (``""`` otherwise); generations are idempotent per
        (tenant, request, provider, model), so a new model makes a new result."""
        return ""

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: Settings) -> Self:
        """Build from settings; raise ``NotConfigured`` naming the setting when it cannot work."""


# -- captions --------------------------------------------------------------------------------------


class CaptionProvider(_Provider):
    """Recognises the speech of a media file: cues with word and cue times."""

    #: The languages it can recognise (``None``: any the backend accepts).
    languages: ClassVar[frozenset[str] | None]

    def supports(self, language: str) -> bool:
        return language_in(self.languages, language)

    @abc.abstractmethod
    async def transcribe(
        self, media: Path, language: str, *, work_dir: Path, report: Report | None = None
    ) -> Transcript:
        """Recognise the speech of ``media`` (any file ffmpeg reads that has an audio stream).

        ``work_dir`` is scratch space the caller removes afterwards. Raise ``UnsupportedLanguage``
        for a language it does not serve, ``AIRejected`` for media without usable audio.
        """


# -- speech ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    id: str  # the ``voice`` a request names
    name: str
    language: str
    gender: str | None = None


@dataclass(frozen=True)
class SpeechAudio:
    path: Path
    format: AudioFormat
    duration: float  # seconds

    @property
    def mime(self) -> str:
        return AUDIO_FORMATS[self.format]


class SpeechProvider(_Provider):
    """Speaks text with a voice: an audio file in one of :data:`AUDIO_FORMATS`."""

    @abc.abstractmethod
    async def voices(self) -> list[Voice]:
        """Every voice a request may name."""

    async def supports(self, language: str) -> bool:
        return any(language_in([v.language], language) for v in await self.voices())

    @abc.abstractmethod
    async def speak(self, text: str, *, voice: str, language: str, format: AudioFormat, work_dir: Path) -> SpeechAudio:
        """Write ``text`` spoken by ``voice`` into a file under ``work_dir``.

        An empty ``voice`` means the provider's default voice for ``language``. Raise ``AIRejected``
        for an unknown voice, a voice that does not speak ``language``, or empty text.
        """


# -- images ----------------------------------------------------------------------------------------

_SIZE = re.compile(r"(\d{2,5})x(\d{2,5})")
_RATIO = re.compile(r"(\d{1,3}):(\d{1,3})")
MAX_SIDE = 4096


@dataclass(frozen=True)
class ImageRequest:
    """A prompt and the picture's shape: ``size`` ``"WxH"`` and, optionally, ``aspect_ratio`` ``"W:H"``,
    which must then agree with the size (within 2 %). ``style`` is passed to the provider as given."""

    prompt: str
    size: str
    style: str | None = None
    aspect_ratio: str | None = None

    def __post_init__(self) -> None:
        if not self.prompt.strip():
            raise AIRejected("prompt: must not be empty")
        size = _SIZE.fullmatch(self.size)
        if not size or not all(16 <= int(side) <= MAX_SIDE for side in size.groups()):
            raise AIRejected(f"size: expected WIDTHxHEIGHT with sides of 16 to {MAX_SIDE} pixels, got {self.size!r}")
        if self.aspect_ratio is not None:
            ratio = _RATIO.fullmatch(self.aspect_ratio)
            if not ratio or "0" in ratio.groups():
                raise AIRejected(f"aspectRatio: expected W:H like 16:9, got {self.aspect_ratio!r}")
            wanted = int(ratio.group(1)) / int(ratio.group(2))
            if abs(self.width / self.height - wanted) > 0.02 * wanted:
                raise AIRejected(f"aspectRatio {self.aspect_ratio} does not match size {self.size}")

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])


_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


def image_mime(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG, GIF or WebP bytes by their signature; ``None`` for anything else."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    mime: str
    #: The prompt as the model rewrote it, when it says.
    revised_prompt: str | None = None


class ImageProvider(_Provider):
    """Draws a picture from a prompt."""

    @abc.abstractmethod
    async def generate(self, request: ImageRequest) -> GeneratedImage:
        """The picture's bytes and MIME type (never a placeholder: fail instead)."""


# -- moderation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A ``moderate_prompt`` verdict against a prompt or text; endpoints answer ``ai.refused.safety``."""

    reason: str
    #: Who refused (``"openai"``, ``"blocklist"``).
    source: str
    categories: tuple[str, ...] = ()
    code: ClassVar[str] = "ai.refused.safety"
