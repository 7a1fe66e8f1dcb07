"""Every built-in AI provider passes its kind's contract (tests/ai/contract.py).

The PocketSphinx run is issue 16's done-when test: a video whose soundtrack espeak-ng speaks is
recognised locally — cut at its pause into chunks recognised by two processes — and at least 3 of
the spoken words are found in the cues within 1 s of when they were spoken. The OpenAI-compatible
providers run against the local fake of the API (tests/ai/fake_openai.py).
"""

from __future__ import annotations

import pytest
from mediaedge_ai_espeak import EspeakProvider
from mediaedge_ai_openai import OpenAISettings
from mediaedge_ai_openai.providers import OpenAICaptions, OpenAIImages, OpenAISpeech, client_for
from mediaedge_ai_pocketsphinx import PocketSphinxProvider, PocketSphinxSettings

from mediaedge.ai import Transcript
from mediaedge.settings import Settings
from mediaedge.testing.ai import (
    CaptionProviderContract,
    ImageProviderContract,
    SpeechProviderContract,
    SpokenMedia,
    found_at_their_times,
)

pytestmark = pytest.mark.anyio


class TestPocketSphinx(CaptionProviderContract):
    @pytest.fixture
    def provider(self) -> PocketSphinxProvider:
        return PocketSphinxProvider(PocketSphinxSettings(workers=2, chunk_seconds=4, min_chunk_seconds=2))

    async def test_cuts_at_the_pause_and_keeps_times_across_chunks(self, provider, spoken: SpokenMedia, tmp_path):
        transcript: Transcript = await provider.transcribe(spoken.path, "en-US", work_dir=tmp_path)
        assert transcript.extra["chunks"] >= 2 and transcript.extra["workers"] == 2
        second_phrase_start = next(start for word, start, _ in spoken.words if word == "my")
        late = [
            w
            for w in found_at_their_times(transcript, spoken)
            if dict((word, start) for word, start, _ in spoken.words)[w] >= second_phrase_start
        ]
        assert late, f"nothing of the second phrase was found at its time in {transcript.text!r}"


class TestEspeak(SpeechProviderContract):
    @pytest.fixture
    def provider(self, settings: Settings) -> EspeakProvider:
        return EspeakProvider.from_settings(settings)


def _openai(cls, settings: Settings, options: OpenAISettings):
    return cls(options, client_for(options, settings))


class TestOpenAICaptionsVerboseJson(CaptionProviderContract):
    @pytest.fixture
    def provider(self, openai_fake, settings: Settings) -> OpenAICaptions:
        return _openai(OpenAICaptions, settings, openai_fake.options())


class TestOpenAICaptionsVtt(CaptionProviderContract):
    @pytest.fixture
    def provider(self, openai_fake, settings: Settings) -> OpenAICaptions:
        return _openai(OpenAICaptions, settings, openai_fake.options(transcription_format="vtt"))


class TestOpenAISpeech(SpeechProviderContract):
    @pytest.fixture
    def provider(self, openai_fake, settings: Settings) -> OpenAISpeech:
        return _openai(OpenAISpeech, settings, openai_fake.options(voices=("alloy", "echo")))


class TestOpenAIImages(ImageProviderContract):
    @pytest.fixture
    def provider(self, openai_fake, settings: Settings) -> OpenAIImages:
        return _openai(OpenAIImages, settings, openai_fake.options())
