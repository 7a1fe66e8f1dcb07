"""Contract suites every AI provider passes, built-in or third-party.

Subclass one and give it a ``provider`` fixture; every test of the suite then runs against it::

    class TestMyCaptions(CaptionProviderContract):
        @pytest.fixture
        def provider(self): return MyCaptions(...)

- :class:`CaptionProviderContract`: a video whose soundtrack is spoken by espeak-ng word by word (so
  each word's time is known) is recognised; at least 3 of its words must be found within 1 s of when
  they were spoken, cues must be ordered and hold their words, the WebVTT must parse back; media
  without audio is refused.
- :class:`SpeechProviderContract`: voices are listed; every output format decodes as that codec with
  the duration reported; an unknown voice and empty text are refused.
- :class:`ImageProviderContract`: a picture of the requested size, its MIME type matching its bytes.

Needs espeak-ng, ffmpeg and ffprobe on PATH.
"""

from __future__ import annotations

import json
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from mediaedge.ai import (
    AUDIO_FORMATS,
    AIRejected,
    CaptionProvider,
    ImageProvider,
    ImageRequest,
    SpeechProvider,
    Transcript,
    image_mime,
    parse_webvtt,
)
from mediaedge.ffmpeg import ffmpeg_exe

#: Two phrases, two seconds apart (a pause to cut at); espeak-ng's klatt voice, which PocketSphinx's
#: English model hears best.
PHRASES = (
    ("one", "two", "three", "four", "five"),
    ("my", "name", "is", "bob", "and", "i", "live", "in", "new", "york", "city"),
)
VOICE = "en-us+klatt"
LEAD_IN, PAUSE, TOLERANCE = 0.5, 2.0, 1.0
CODECS = {"mp3": "mp3", "ogg": "opus", "wav": "pcm_s16le", "m4a": "aac"}


@dataclass(frozen=True)
class SpokenMedia:
    path: Path
    #: ``(word, start, end)`` of each spoken word, in seconds.
    words: tuple[tuple[str, float, float], ...]
    language: str = "en-US"


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    return json.loads(out)


def make_spoken_video(directory: Path) -> SpokenMedia:
    """An MP4 (black 320x240 H.264 + AAC) whose soundtrack speaks :data:`PHRASES`, with each word's time."""
    frames, truth, rate = bytearray(), [], 0
    for number, phrase in enumerate(PHRASES):
        silence = LEAD_IN if number == 0 else PAUSE
        for word in phrase:
            clip = directory / f"{word}.wav"
            subprocess.run(["espeak-ng", "-v", VOICE, "-s", "140", "-w", str(clip), word], check=True)
            with wave.open(str(clip)) as w:
                rate, pcm = w.getframerate(), w.readframes(w.getnframes())
            frames += b"\0\0" * int(silence * rate)
            silence = 0.0
            start = len(frames) / (2 * rate)
            frames += pcm
            truth.append((word, start, len(frames) / (2 * rate)))
    speech = directory / "speech.wav"
    with wave.open(str(speech), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames) + b"\0\0" * rate)
    video = directory / "spoken.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=320x240:r=25",
            "-i",
            str(speech),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(video),
        ],
        check=True,
    )
    return SpokenMedia(video, tuple(truth))


def found_at_their_times(transcript: Transcript, media: SpokenMedia, tolerance: float = TOLERANCE) -> list[str]:
    """The spoken words the transcript has within ``tolerance`` seconds of when they were spoken: a
    recognised word whose span meets the spoken one, give or take ``tolerance`` (a provider without
    word times: a cue whose span does, holding the word)."""
    heard = [(w.text, w.start, w.end) for w in transcript.words]
    if not heard:
        heard = [(text, cue.start, cue.end) for cue in transcript.cues for text in cue.text.split()]
    heard = [(text.lower().strip(".,!?"), start, end) for text, start, end in heard]
    return [
        word
        for word, start, end in media.words
        if any(text == word and at <= end + tolerance and until >= start - tolerance for text, at, until in heard)
    ]


class CaptionProviderContract:
    @pytest.fixture
    def provider(self) -> CaptionProvider:
        raise NotImplementedError("define a provider fixture")

    @pytest.fixture(scope="class")
    @classmethod
    def spoken(cls, tmp_path_factory: pytest.TempPathFactory) -> SpokenMedia:
        return make_spoken_video(tmp_path_factory.mktemp("spoken"))

    async def test_recognises_spoken_words_at_their_times(
        self, provider: CaptionProvider, spoken: SpokenMedia, tmp_path: Path
    ) -> None:
        progress: list[float] = []

        async def report(percent: float) -> None:
            progress.append(percent)

        transcript = await provider.transcribe(spoken.path, spoken.language, work_dir=tmp_path, report=report)
        found = found_at_their_times(transcript, spoken)
        assert len(found) >= 3, f"heard {transcript.text!r}; found at their times only {found}"
        assert transcript.language == spoken.language and transcript.provider == provider.name
        assert progress and progress[-1] == 100.0 and progress == sorted(progress)
        starts = [cue.start for cue in transcript.cues]
        assert starts == sorted(starts)
        for cue in transcript.cues:
            assert cue.start <= cue.end
            assert all(cue.start - 0.01 <= w.start <= w.end <= cue.end + 0.01 for w in cue.words)
        parsed = parse_webvtt(transcript.to_webvtt())
        assert [c.text for c in parsed] == [c.text for c in transcript.cues]
        assert [round(c.start, 2) for c in parsed] == [round(c.start, 2) for c in transcript.cues]

    async def test_media_without_audio_is_refused(self, provider: CaptionProvider, tmp_path: Path) -> None:
        silent = tmp_path / "video-only.mp4"
        subprocess.run(
            [
                ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "color=c=red:s=64x64:r=5:d=1",
                "-c:v",
                "libx264",
                str(silent),
            ],
            check=True,
        )
        with pytest.raises(AIRejected):
            await provider.transcribe(silent, "en-US", work_dir=tmp_path)


class SpeechProviderContract:
    language = "en-US"

    @pytest.fixture
    def provider(self) -> SpeechProvider:
        raise NotImplementedError("define a provider fixture")

    async def test_lists_voices(self, provider: SpeechProvider) -> None:
        voices = await provider.voices()
        assert voices and len({v.id for v in voices}) == len(voices)
        assert all(v.id and v.language for v in voices)
        assert await provider.supports(self.language)

    @pytest.mark.parametrize("fmt", sorted(AUDIO_FORMATS))
    async def test_speaks_every_format(self, provider: SpeechProvider, fmt: str, tmp_path: Path) -> None:
        text = "Hello world, this is a test."
        audio = await provider.speak(text, voice="", language=self.language, format=fmt, work_dir=tmp_path)  # type: ignore[arg-type]
        assert audio.path.is_file() and audio.format == fmt and audio.mime == AUDIO_FORMATS[fmt]
        probe = ffprobe(audio.path)
        assert [s["codec_name"] for s in probe["streams"]] == [CODECS[fmt]]
        assert 0.5 < audio.duration < 10
        assert abs(float(probe["format"]["duration"]) - audio.duration) < 0.25

    async def test_refuses_an_unknown_voice_and_empty_text(self, provider: SpeechProvider, tmp_path: Path) -> None:
        with pytest.raises(AIRejected, match="voice"):
            await provider.speak(
                "Hello", voice="no-such-voice", language=self.language, format="wav", work_dir=tmp_path
            )
        with pytest.raises(AIRejected, match="text"):
            await provider.speak("  ", voice="", language=self.language, format="wav", work_dir=tmp_path)


class ImageProviderContract:
    size = "256x256"

    @pytest.fixture
    def provider(self) -> ImageProvider:
        raise NotImplementedError("define a provider fixture")

    async def test_draws_a_picture_of_the_requested_size(self, provider: ImageProvider, tmp_path: Path) -> None:
        image = await provider.generate(ImageRequest("a lighthouse at dawn", self.size, aspect_ratio="1:1"))
        assert image.mime == image_mime(image.data) and image.mime.startswith("image/")
        picture = tmp_path / "picture"
        picture.write_bytes(image.data)
        stream = ffprobe(picture)["streams"][0]
        assert f"{stream['width']}x{stream['height']}" == self.size
