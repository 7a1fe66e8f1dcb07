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

from dataclasses import dataclass
from typing import Literal

from mediaedge import hookimpl
from mediaedge.ai import CaptionProvider, ImageProvider, Refusal, SpeechProvider
from mediaedge.ai.config import plugin_table
from mediaedge.settings import Settings
from mediaedge_ai_openai.providers import OpenAICaptions, OpenAIImages, OpenAISpeech, client_for


@dataclass(frozen=True)
class OpenAISettings:
    base_url: str = ""
    api_key: str = ""
    transcription_model: str = "whisper-1"
    transcription_format: Literal["verbose_json", "vtt"] = "verbose_json"
    speech_model: str = "tts-1"
    voices: tuple[str, ...] = ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")
    image_model: str = "dall-e-3"
    moderation: bool = False
    moderation_model: str = "omni-moderation-latest"
    languages: tuple[str, ...] = ()
    timeout: float = 120.0
    retries: int = 2
    max_response_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url: must be an http(s) URL like https://api.openai.com/v1")
        if self.transcription_format not in ("verbose_json", "vtt"):
            raise ValueError("transcription_format: verbose_json or vtt")
        if self.timeout <= 0 or self.retries < 0 or self.max_response_bytes <= 0:
            raise ValueError("timeout and max_response_bytes must be positive, retries not negative")


def openai_settings(settings: Settings) -> OpenAISettings:
    return plugin_table(settings, "openai", OpenAISettings)


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
    return Refusal(f"flagged by the moderation model ({', '.join(categories) or 'no category given'})",
                   "openai", categories)
