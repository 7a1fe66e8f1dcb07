"""Real-time factor of the local caption provider (PocketSphinx) on this machine, and the projected time
to caption a 60-minute video with the configured parallelism (SLO: p95 under 5 minutes).

Makes ``--minutes`` of speech (espeak-ng reading a paragraph, looped by ffmpeg into an MP4 with a
video track), then times the whole ``transcribe()`` — audio extraction, silence detection, the process
pool's start and the recognition — with ``--workers`` processes (0 = one per core, the default
setting). Prints the real-time factor (wall seconds per second of media) and 3600 × it. Usage::

    python -m loadtests.bench_captions [--minutes 3] [--workers 0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path

from mediaedge_ai_pocketsphinx import PocketSphinxProvider, PocketSphinxSettings

from mediaedge.ai.media import duration_of
from mediaedge.ffmpeg import ffmpeg_exe

PARAGRAPH = (
    "Good morning. My name is Bob and I live in New York City. Today we will talk about the weather, "
    "the news and the plans for the week. It is going to rain on Monday and Tuesday. On Wednesday the sun "
    "will come out again. Thank you for listening, and see you next time."
)
SLO_SECONDS = 300


def make_speech(directory: Path, minutes: float) -> Path:
    clip = directory / "paragraph.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+klatt", "-s", "150", "-w", str(clip), PARAGRAPH], check=True)
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
            "-1",
            "-i",
            str(clip),
            "-t",
            str(minutes * 60),
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
    return video


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    provider = PocketSphinxProvider(PocketSphinxSettings(workers=args.workers))
    with tempfile.TemporaryDirectory() as tmp:
        video = make_speech(Path(tmp), args.minutes)
        seconds = await duration_of(video)
        started = time.perf_counter()
        transcript = await provider.transcribe(video, "en-US", work_dir=Path(tmp))
        wall = time.perf_counter() - started
    rtf = wall / seconds
    projected = 3600 * rtf
    print(f"cores {os.cpu_count()}, workers {provider.options.processes}, chunks {transcript.extra['chunks']}")
    print(
        f"media {seconds:.1f} s, transcribed in {wall:.1f} s: real-time factor {rtf:.3f} "
        f"({len(transcript.words)} words, {len(transcript.cues)} cues)"
    )
    verdict = "within" if projected < SLO_SECONDS else "over"
    print(
        f"projected for a 60-minute video: {projected:.0f} s ({projected / 60:.1f} min), "
        f"{verdict} the {SLO_SECONDS // 60}-minute SLO"
    )


if __name__ == "__main__":
    asyncio.run(main())
