"""Local speech synthesis with espeak-ng (speech provider ``espeak``; the ``espeak-ng`` Debian package).

Voices and their languages come from ``espeak-ng --voices`` (read once per process); a voice may
carry a variant, ``en-us+klatt``. The text goes to espeak-ng on its standard input — never as an
argument, and without SSML — and the WAV it writes is encoded by ffmpeg into the requested format
(mp3, ogg, wav, m4a: :mod:`mediaedge.ai.media`).

Settings, ``[plugins.espeak]``: ``binary`` (``espeak-ng``), ``speed`` in words per minute (160),
``max_chars`` per request (5000), ``deadline`` seconds per synthesis (120).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar, Self

from mediaedge import hookimpl
from mediaedge.ai import AIRejected, AIUnavailable, AudioFormat, NotConfigured, SpeechAudio, SpeechProvider, Voice
from mediaedge.ai.media import encode_audio
from mediaedge.ffmpeg import run_tool
from mediaedge.settings import FieldError, Settings, StrictFloat, StrictInt, StrictStr, settings_table
from mediaedge_ai_espeak.voices import Catalogue, parse_catalogue


@settings_table
class EspeakSettings:
    """``[plugins.espeak]``."""

    binary: StrictStr = "espeak-ng"
    speed: StrictInt = 160
    max_chars: StrictInt = 5000
    deadline: StrictFloat = 120.0

    def __post_init__(self) -> None:
        if not 80 <= self.speed <= 450:
            raise FieldError("speed", "words per minute between 80 and 450")


class EspeakProvider(SpeechProvider):
    name = "espeak"
    #: Voice catalogues by binary, read once per process.
    _catalogues: ClassVar[dict[str, Catalogue]] = {}

    def __init__(self, options: EspeakSettings, binary: str) -> None:
        self.options = options
        self.binary = binary

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        options = settings.plugin("espeak", EspeakSettings)
        binary = shutil.which(options.binary)
        if binary is None:
            raise NotConfigured(
                f"espeak-ng is not installed ({options.binary!r} is not on PATH): "
                "apt-get install espeak-ng, or set plugins.espeak.binary",
                "plugins.espeak.binary",
            )
        return cls(options, binary)

    async def _espeak(self, *args: str, stdin: bytes | None = None) -> bytes:
        try:
            code, out, err = await run_tool(self.binary, *args, deadline=self.options.deadline, stdin=stdin)
        except TimeoutError:
            raise AIUnavailable(f"espeak-ng did not finish within {self.options.deadline:g} s") from None
        if code:
            raise AIRejected(f"espeak-ng failed: {err.decode(errors='replace').strip()[:200]}")
        return out

    async def catalogue(self) -> Catalogue:
        if self.binary not in self._catalogues:
            listing = await self._espeak("--voices")
            variants = await self._espeak("--voices=variant")
            self._catalogues[self.binary] = parse_catalogue(listing.decode(), variants.decode())
        return self._catalogues[self.binary]

    async def voices(self) -> list[Voice]:
        return list((await self.catalogue()).voices)

    async def speak(self, text: str, *, voice: str, language: str, format: AudioFormat, work_dir: Path) -> SpeechAudio:
        if not text.strip():
            raise AIRejected("text: must not be empty")
        if len(text) > self.options.max_chars:
            raise AIRejected(f"text: longer than {self.options.max_chars} characters")
        chosen = (await self.catalogue()).choose(voice, language)
        wav = work_dir / "espeak.wav"
        await self._espeak("-v", chosen, "-s", str(self.options.speed), "-w", str(wav), "--stdin", stdin=text.encode())
        return await encode_audio(wav, work_dir / "speech", format)


@hookimpl
def register_speech_providers() -> list[type[SpeechProvider]]:
    return [EspeakProvider]


@hookimpl
def plugin_settings() -> dict[str, type[Any]]:
    return {"espeak": EspeakSettings}
