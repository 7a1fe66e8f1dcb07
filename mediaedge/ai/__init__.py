"""AI generation providers: the contracts (:mod:`.providers`), transcripts and WebVTT
(:mod:`.transcripts`), shared ffmpeg audio steps (:mod:`.media`), errors (:mod:`.errors`) and the
registry that picks a provider per request (:mod:`.registry`)."""

from mediaedge.ai.errors import AIError, AIRejected, AIUnavailable, NotConfigured, UnsupportedLanguage
from mediaedge.ai.providers import (
    AUDIO_FORMATS,
    AudioFormat,
    CaptionProvider,
    GeneratedImage,
    ImageProvider,
    ImageRequest,
    Refusal,
    SpeechAudio,
    SpeechProvider,
    Voice,
    image_mime,
    language_in,
)
from mediaedge.ai.registry import AIConfig, AIProviders
from mediaedge.ai.transcripts import Cue, Transcript, Word, cues_from_words, parse_webvtt

__all__ = [
    "AUDIO_FORMATS",
    "AIConfig",
    "AIError",
    "AIProviders",
    "AIRejected",
    "AIUnavailable",
    "AudioFormat",
    "CaptionProvider",
    "Cue",
    "GeneratedImage",
    "ImageProvider",
    "ImageRequest",
    "NotConfigured",
    "Refusal",
    "SpeechAudio",
    "SpeechProvider",
    "Transcript",
    "UnsupportedLanguage",
    "Voice",
    "Word",
    "cues_from_words",
    "image_mime",
    "language_in",
    "parse_webvtt",
]
