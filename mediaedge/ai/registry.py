"""Which AI provider serves a request, as the ``[plugins.ai]`` settings say, and prompt moderation.

``plugins.ai.captions``, ``.speech`` and ``.images`` each list provider names in order of preference;
a request goes to the first listed provider that serves its language. Built-in defaults: captions
by ``pocketsphinx`` (English, local), speech by ``espeak`` (local); images by none, because there is
no local image model — so an image request raises :class:`NotConfigured` naming ``plugins.ai.images``
(endpoints answer 503) instead of drawing anything. A language no listed provider serves raises
:class:`UnsupportedLanguage` naming the installed providers that could serve it.

Every prompt and text goes through :meth:`AIProviders.moderate` first: each ``moderate_prompt``
implementation is asked, and the first refusal wins.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from dataclasses import field
from typing import Any, Literal, TypeVar

import pluggy

from mediaedge import hookimpl
from mediaedge.ai.errors import NotConfigured, UnsupportedLanguage
from mediaedge.ai.providers import CaptionProvider, ImageProvider, Refusal, SpeechProvider, language_in
from mediaedge.plugins import unique
from mediaedge.settings import NonNegativeFloat, Settings, StrList, settings_table

__all__ = ["AIConfig", "AIProviders", "Kind"]

Kind = Literal["caption", "speech", "image"]
P = TypeVar("P", CaptionProvider, SpeechProvider, ImageProvider)


@settings_table
class AIConfig:
    """``[plugins.ai]``: provider names per kind, in order of preference; generation budgets and the
    block list every tenant shares."""

    captions: StrList = field(default_factory=lambda: ["pocketsphinx"])
    speech: StrList = field(default_factory=lambda: ["espeak"])
    images: StrList = field(default_factory=list)
    #: What each tenant may generate per calendar month (UTC) unless it has its own budget; 0: unlimited.
    budget_images: NonNegativeFloat = 0.0
    budget_audio_seconds: NonNegativeFloat = 0.0
    budget_caption_minutes: NonNegativeFloat = 0.0
    #: Words and phrases refused in every prompt and text (whole words, any case), beside each tenant's own.
    blocklist: StrList = field(default_factory=list)


@hookimpl
def plugin_settings() -> dict[str, type[Any]]:
    """The ``[plugins.ai]`` table (this module is registered as the built-in plugin ``ai``)."""
    return {"ai": AIConfig}


class AIProviders:
    """The AI providers plugins register, built from settings on demand."""

    def __init__(self, settings: Settings, pm: pluggy.PluginManager) -> None:
        self.settings = settings
        self.pm = pm
        self.config = settings.plugin("ai", AIConfig)
        self.captions: dict[str, type[CaptionProvider]] = unique(
            pm.hook.register_caption_providers(), "name", "caption provider"
        )
        self.speakers: dict[str, type[SpeechProvider]] = unique(
            pm.hook.register_speech_providers(), "name", "speech provider"
        )
        self.painters: dict[str, type[ImageProvider]] = unique(
            pm.hook.register_image_providers(), "name", "image provider"
        )

    def _listed(self, kind: str, names: Sequence[str], classes: dict[str, type[P]]) -> list[type[P]]:
        setting = f"plugins.ai.{kind}"
        if not names:
            raise NotConfigured(
                f"no {kind.rstrip('s')} provider is configured: list one in {setting} "
                f"(installed: {', '.join(sorted(classes)) or 'none'})",
                setting,
            )
        unknown = [name for name in names if name not in classes]
        if unknown:
            raise NotConfigured(
                f"{setting}: no provider named {', '.join(map(repr, unknown))} "
                f"(installed: {', '.join(sorted(classes)) or 'none'})",
                setting,
            )
        return [classes[name] for name in names]

    def caption(self, language: str) -> CaptionProvider:
        """The first listed caption provider that recognises ``language``."""
        for cls in self._listed("captions", self.config.captions, self.captions):
            if language_in(cls.languages, language):
                return cls.from_settings(self.settings)
        candidates = [n for n, c in self.captions.items() if language_in(c.languages, language)]
        raise UnsupportedLanguage("caption", language, self.config.captions, candidates, "plugins.ai.captions")

    async def speech(self, language: str) -> SpeechProvider:
        """The first listed speech provider with a voice for ``language``."""
        for cls in self._listed("speech", self.config.speech, self.speakers):
            provider = cls.from_settings(self.settings)
            if await provider.supports(language):
                return provider
        raise UnsupportedLanguage(
            "speech", language, self.config.speech, await self._speakers_for(language), "plugins.ai.speech"
        )

    async def _speakers_for(self, language: str) -> list[str]:
        names = []
        for name, cls in self.speakers.items():
            if name in self.config.speech:
                continue
            try:
                if await cls.from_settings(self.settings).supports(language):
                    names.append(name)
            except NotConfigured:
                names.append(name)  # might, once configured
        return names

    def image(self) -> ImageProvider:
        """The first listed image provider."""
        return self._listed("images", self.config.images, self.painters)[0].from_settings(self.settings)

    async def moderate(self, prompt: str, kind: Kind, tenant_id: str | None = None) -> Refusal | None:
        """The first refusal any ``moderate_prompt`` implementation gives ``prompt``, or ``None``."""
        verdicts = self.pm.hook.moderate_prompt(prompt=prompt, kind=kind, tenant_id=tenant_id, settings=self.settings)
        awaited = await asyncio.gather(*(v for v in verdicts if inspect.isawaitable(v)))
        plain = [v for v in verdicts if not inspect.isawaitable(v)]
        return next((v for v in [*plain, *awaited] if v is not None), None)
