"""Providers for any server that speaks the OpenAI API (OpenAI itself, or a self-hosted one):
captions (``/v1/audio/transcriptions``), speech (``/v1/audio/speech``), images
(``/v1/images/generations``) and prompt moderation (``/v1/moderations``). All are named ``openai``.

Settings, ``[plugins.openai]`` (``MEDIAEDGE_PLUGINS_OPENAI_*``): ``base_url`` (``…/v1``; empty = not
configured), ``api_key``, a model per kind (``transcription_model``, ``speech_model``, ``image_model``,
``moderation_model``), ``transcription_format`` (``verbose_json`` with word times, or ``vtt``),
``voices`` (the ids requests may name), ``languages`` (empty = any), ``moderation`` (ask the
moderation endpoint about every prompt; off by default), ``timeout`` seconds per request (120),
``retries`` of transient failures (2), ``max_response_bytes`` (64 MiB).
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from mediaedge import hookimpl
from mediaedge.ai import CaptionProvider, ImageProvider, Refusal, SpeechProvider
from mediaedge.settings import (
    FieldError,
    HttpUrlOrEmpty,
    PositiveFloat,
    PositiveInt,
    Settings,
    StrictBool,
    StrictInt,
    StrictStr,
    StrList,
    settings_table,
)
from mediaedge_ai_openai.providers import OpenAICaptions, OpenAIImages, OpenAISpeech, client_for


@settings_table
class OpenAISettings:
    """``[plugins.openai]``: where the OpenAI-compatible server is, and which models to ask."""

    base_url: HttpUrlOrEmpty = ""
    api_key: StrictStr = ""
    transcription_model: StrictStr = "whisper-1"
    transcription_format: Literal["verbose_json", "vtt"] = "verbose_json"
    speech_model: StrictStr = "tts-1"
    voices: StrList = field(
        default_factory=lambda: ["alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer"]
    )
    image_model: StrictStr = "dall-e-3"
    moderation: StrictBool = False
    moderation_model: StrictStr = "omni-moderation-latest"
    languages: StrList = field(default_factory=list)
    timeout: PositiveFloat = 120.0
    retries: StrictInt = 2
    max_response_bytes: PositiveInt = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise FieldError("retries", "must not be negative")


def openai_settings(settings: Settings) -> OpenAISettings:
    return settings.plugin("openai", OpenAISettings)


@hookimpl
def plugin_settings() -> dict[str, type[Any]]:
    return {"openai": OpenAISettings}


@hookimpl
def register_caption_providers() -> list[type[CaptionProvider]]:
    return [OpenAICaptions]


@hookimpl
def register_speech_providers() -> list[type[SpeechProvider]]:
    return [OpenAISpeech]


@hookimpl
def register_image_providers() -> list[type[ImageProvider]]:
    return [OpenAIImages]


@hookimpl
async def moderate_prompt(prompt: str, kind: str, tenant_id: str | None, settings: Settings) -> Refusal | None:
    """With ``moderation`` on, the moderation model's verdict; its failures fail the request (closed)."""
    options = openai_settings(settings)
    if not options.moderation or not options.base_url:
        return None
    answer = await client_for(options, settings).post(
        "/moderations", "moderation", json={"model": options.moderation_model, "input": prompt}
    )
    results = answer.json("moderation").get("results") or [{}]
    if not results[0].get("flagged"):
        return None
    categories = tuple(sorted(name for name, hit in (results[0].get("categories") or {}).items() if hit))
    return Refusal(
        f"flagged by the moderation model ({', '.join(categories) or 'no category given'})", "openai", categories
    )
