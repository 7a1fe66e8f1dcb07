"""The three ``openai`` providers. Each is built from ``[plugins.openai]``; without ``base_url`` it
raises :class:`NotConfigured` naming that setting.

- Captions: the audio is sent as mono 16 kHz MP3 (multipart ``file``, ``model``, ``language`` as its
  primary subtag, ``response_format``). ``verbose_json`` answers give segments → cues and, with
  ``timestamp_granularities[]=word``, words → word times; ``vtt`` answers are parsed as WebVTT.
- Speech: JSON ``{model, input, voice, response_format: "wav"}``; the WAV is encoded with ffmpeg into
  the requested format, like every speech provider's.
- Images: JSON ``{model, prompt, n: 1, size, response_format: "b64_json", style?}``; the bytes must be
  a PNG, JPEG, GIF or WebP picture, else the answer is :class:`AIUnavailable`.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from mediaedge.ai import (
    AIRejected,
    AIUnavailable,
    AudioFormat,
    CaptionProvider,
    Cue,
    GeneratedImage,
    ImageProvider,
    ImageRequest,
    NotConfigured,
    SpeechAudio,
    SpeechProvider,
    Transcript,
    Voice,
    Word,
    cues_from_words,
    image_mime,
    language_in,
    parse_webvtt,
)
from mediaedge.ai.media import compress_speech, encode_audio
from mediaedge.ai.providers import Report, primary_language
from mediaedge.settings import Settings
from mediaedge_ai_openai.client import OpenAIClient

if TYPE_CHECKING:
    from mediaedge_ai_openai import OpenAISettings


def client_for(options: OpenAISettings, settings: Settings) -> OpenAIClient:
    if not options.base_url:
        raise NotConfigured(
            "the openai provider needs plugins.openai.base_url (MEDIAEDGE_PLUGINS_OPENAI_BASE_URL), "
            "e.g. https://api.openai.com/v1",
            "plugins.openai.base_url",
        )
    return OpenAIClient(
        options.base_url,
        options.api_key,
        timeout=options.timeout,
        retries=options.retries,
        max_bytes=options.max_response_bytes,
        allow=tuple(settings.net.allow),
    )


class _OpenAI:
    name = "openai"

    def __init__(self, options: OpenAISettings, client: OpenAIClient) -> None:
        self.options = options
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        from mediaedge_ai_openai import openai_settings

        options = openai_settings(settings)
        return cls(options, client_for(options, settings))


# -- captions --------------------------------------------------------------------------------------


def _seconds(item: dict[str, Any], key: str) -> float:
    value = item.get(key)
    if not isinstance(value, int | float):
        raise AIUnavailable(f"transcription: a segment or word has no numeric {key!r}")
    return float(value)


def transcript_cues(body: dict[str, Any]) -> list[Cue]:
    """Cues from a ``verbose_json`` transcription: segments with the words they hold."""
    words = [
        Word(str(w.get("word", "")).strip(), _seconds(w, "start"), _seconds(w, "end")) for w in body.get("words") or []
    ]
    segments = body.get("segments") or []
    if not segments:
        if words:
            return cues_from_words(words)
        text = str(body.get("text", "")).strip()
        return [Cue(0.0, float(body.get("duration") or 0.0), text)] if text else []
    cues = []
    for i, seg in enumerate(segments):
        start, end = _seconds(seg, "start"), _seconds(seg, "end")
        last = i == len(segments) - 1
        inside = tuple(w for w in words if start <= w.start and (w.start < end or last))
        cues.append(Cue(start, end, str(seg.get("text", "")).strip(), inside))
    return cues


class OpenAICaptions(_OpenAI, CaptionProvider):
    languages = None  # what the server recognises; narrowed per instance by plugins.openai.languages

    @property
    def model(self) -> str:
        return self.options.transcription_model

    def supports(self, language: str) -> bool:
        return language_in(self.options.languages or None, language)

    async def transcribe(
        self, media: Path, language: str, *, work_dir: Path, report: Report | None = None
    ) -> Transcript:
        if not self.supports(language):
            raise AIRejected(f"language: plugins.openai.languages does not list {language!r}")
        audio = await compress_speech(media, work_dir / "speech.mp3")
        fmt = self.options.transcription_format
        fields: dict[str, Any] = {
            "model": self.options.transcription_model,
            "language": primary_language(language),
            "response_format": fmt,
        }
        if fmt == "verbose_json":
            fields["timestamp_granularities[]"] = ["word", "segment"]
        answer = await self.client.post(
            "/audio/transcriptions",
            "transcription",
            data=fields,
            files={"file": (audio.name, audio.read_bytes(), "audio/mpeg")},
        )
        if fmt == "vtt":
            try:
                cues = parse_webvtt(answer.body.decode(errors="replace"))
            except ValueError as exc:
                raise AIUnavailable(f"transcription: {exc}") from None
        else:
            cues = transcript_cues(answer.json("transcription"))
        if report:
            await report(100.0)
        return Transcript(language, tuple(cues), self.name, {"model": self.options.transcription_model})


# -- speech ----------------------------------------------------------------------------------------


class OpenAISpeech(_OpenAI, SpeechProvider):
    @property
    def model(self) -> str:
        return self.options.speech_model

    async def voices(self) -> list[Voice]:
        return [Voice(v, v, "mul") for v in self.options.voices]  # the models' voices speak many languages

    async def supports(self, language: str) -> bool:
        return language_in(self.options.languages or None, language)

    async def speak(self, text: str, *, voice: str, language: str, format: AudioFormat, work_dir: Path) -> SpeechAudio:
        if not text.strip():
            raise AIRejected("text: must not be empty")
        voice = voice or self.options.voices[0]
        if voice not in self.options.voices:
            raise AIRejected(f"voice: {voice!r} is not one of {', '.join(self.options.voices)}")
        if not await self.supports(language):
            raise AIRejected(f"language: plugins.openai.languages does not list {language!r}")
        answer = await self.client.post(
            "/audio/speech",
            "speech",
            json={"model": self.options.speech_model, "input": text, "voice": voice, "response_format": "wav"},
        )
        wav = work_dir / "openai.wav"
        wav.write_bytes(answer.body)
        return await encode_audio(wav, work_dir / "speech", format)


# -- images ----------------------------------------------------------------------------------------


class OpenAIImages(_OpenAI, ImageProvider):
    @property
    def model(self) -> str:
        return self.options.image_model

    async def generate(self, request: ImageRequest) -> GeneratedImage:
        body: dict[str, Any] = {
            "model": self.options.image_model,
            "prompt": request.prompt,
            "n": 1,
            "size": request.size,
            "response_format": "b64_json",
        }
        if request.style:
            body["style"] = request.style
        answer = (await self.client.post("/images/generations", "image", json=body)).json("image")
        item = (answer.get("data") or [{}])[0]
        if not item.get("b64_json"):
            raise AIUnavailable("image: the answer has no data[0].b64_json")
        try:
            data = base64.b64decode(item["b64_json"], validate=True)
        except (binascii.Error, ValueError):
            raise AIUnavailable("image: data[0].b64_json is not base64") from None
        mime = image_mime(data)
        if mime is None:
            raise AIUnavailable("image: the answer's bytes are not a PNG, JPEG, GIF or WebP picture")
        return GeneratedImage(data, mime, item.get("revised_prompt"))
