"""Real-time factor of the local caption provider (PocketSphinx) on this machine, and the projected time
to caption a 60-minute video with the configured parallelism (SLO: p95 under 5 minutes).

Makes about ``--minutes`` of speech (espeak-ng reading a paragraph, looped a whole number of times by
ffmpeg into an MP4 with a video track), then times the whole ``transcribe()`` — audio extraction,
silence detection, the process pool's start and the recognition — with ``--workers`` processes (0 = one
per core, the default setting) and the provider's default decoder settings. Prints:

- the real-time factor (wall seconds per second of media) and 3600 × it;
- the CPU seconds spent per second of media (this process and its children: ffmpeg, the pool), and the
  60-minute time they would take spread over the workers of an otherwise idle machine — on a shared
  machine the wall figure counts other people's work too;
- the word error rate against the paragraph's words (jiwer), so speed is not bought with garbage.

Usage::

    python -m loadtests.bench_captions [--minutes 3] [--workers 0]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import jiwer
from mediaedge_ai_pocketsphinx import PocketSphinxProvider, PocketSphinxSettings

from mediaedge.ai.media import duration_of
from mediaedge.ffmpeg import ffmpeg_exe

PARAGRAPH = (
    "Good morning. My name is Bob and I live in New York City. Today we will talk about the weather, "
    "the news and the plans for the week. It is going to rain on Monday and Tuesday. On Wednesday the sun "
    "will come out again. Thank you for listening, and see you next time."
)
SLO_SECONDS = 300


def make_speech(directory: Path, minutes: float) -> tuple[Path, int]:
    """The talk and how many times it says :data:`PARAGRAPH`."""
    clip = directory / "paragraph.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+klatt", "-s", "150", "-w", str(clip), PARAGRAPH], check=True)
    loops = max(1, math.ceil(minutes * 60 / (clip.stat().st_size / (2 * 22050))))  # espeak-ng: 22.05 kHz s16
    video = directory / "talk.mp4"
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
            "color=c=black:s=320x240:r=10",
            "-stream_loop",
            str(loops - 1),
            "-i",
            str(clip),
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            str(video),
        ],
        check=True,
    )
    return video, loops


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its children waited for so far."""
    return sum(
        r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def word_error_rate(reference: str, heard: list[str]) -> float:
    words = re.findall(r"[a-z']+", reference.lower())
    return float(jiwer.wer(" ".join(words), " ".join(heard) or "-"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    provider = PocketSphinxProvider(PocketSphinxSettings(workers=args.workers))
    with tempfile.TemporaryDirectory() as tmp:
        video, loops = make_speech(Path(tmp), args.minutes)
        seconds = await duration_of(video)
        started, cpu_before = time.perf_counter(), cpu_seconds()
        transcript = await provider.transcribe(video, "en-US", work_dir=Path(tmp))
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    rtf, cpu_rtf = wall / seconds, cpu / seconds
    workers = transcript.extra["workers"]
    wer = word_error_rate(" ".join([PARAGRAPH] * loops), [w.text.lower() for w in transcript.words])
    print(f"cores {os.cpu_count()}, workers {workers}, chunks {transcript.extra['chunks']}")
    print(f"decoder {provider.options.decoder}")
    print(
        f"media {seconds:.1f} s, transcribed in {wall:.1f} s: real-time factor {rtf:.3f} "
        f"({len(transcript.words)} words, {len(transcript.cues)} cues, word error rate {wer:.3f})"
    )
    print(
        f"CPU {cpu:.1f} s: {cpu_rtf:.3f} CPU s per media s; on {workers} idle cores a 60-minute video "
        f"would take {3600 * cpu_rtf / workers / 60:.1f} min"
    )
    projected = 3600 * rtf
    verdict = "within" if projected < SLO_SECONDS else "over"
    print(
        f"projected for a 60-minute video: {projected:.0f} s ({projected / 60:.1f} min), "
        f"{verdict} the {SLO_SECONDS // 60}-minute SLO"
    )


if __name__ == "__main__":
    asyncio.run(main())
