"""Ladder transcode: one ffmpeg process (one decode, split + scale) vs one ffmpeg run per rendition,
and what the provider's per-rendition scheduling buys: time to the first playable quality.

    python -m loadtests.bench_ladder [--seconds 20] [--size 1920x1080] [--preset veryfast]

Generates a source clip, then makes the same ladder (720p/480p/360p/240p H.264 + AAC, CMAF, poster
and storyboard) both ways with the ffmpeg stream provider's own command builder, and prints the
seconds each took and the speedup of the single process. Then the ffmpeg provider itself makes the
ladder as it does for a stream (one process per rendition, smallest first, each published when done,
plus the progressive MP4) into a local bucket, and prints the seconds until the HLS master first
listed a playable quality and until everything was made.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from mediaedge_storage_local import LocalStorage
from mediaedge_stream_ffmpeg import FfmpegProvider, FfmpegStreamSettings
from mediaedge_stream_ffmpeg.command import EncodeOptions, build_command, cmaf_dir
from mediaedge_stream_ffmpeg.ladder import Ladder, plan_ladder
from mediaedge_stream_ffmpeg.probe import SourceInfo, probe_source
from mediaedge_stream_ffmpeg.run import run_ffmpeg
from mediaedge_stream_ffmpeg.storyboard import plan_storyboard

from mediaedge.ffmpeg import ffmpeg_exe
from mediaedge.qualities import parse_qualities
from mediaedge.streams import ProviderStream, StreamContext, StreamSource

QUALITIES = [
    *({"resolution": r, "type": "dash", "video_config": {}} for r in ("720p", "480p", "360p", "240p")),
    {"resolution": "audio", "type": "dash", "audio_config": {"bitrate": 128_000}},
]


def make_source(path: Path, seconds: int, size: str) -> None:
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
            f"testsrc2=duration={seconds}:size={size}:rate=30",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
    )


@dataclass
class Cost:
    wall: float
    cpu: float  # user + system seconds of ffmpeg: unlike wall time, not inflated by other load on the machine

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.wall + other.wall, self.cpu + other.cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def encode(source: str, info: SourceInfo, ladder: Ladder, opts: EncodeOptions, out: Path, images: bool) -> Cost:
    """What one ffmpeg run costs to make ``ladder`` into ``out``."""
    out.mkdir(parents=True)
    for index in range(len(ladder.cmaf)):
        (out / cmaf_dir(index)).mkdir()
    top = max(ladder.video, key=lambda v: v.height)
    storyboard = plan_storyboard(info.duration, top.width, top.height) if images else None

    async def ignore(percent: float) -> None:
        pass

    started, cpu = time.perf_counter(), _children_cpu()
    await run_ffmpeg(build_command(source, info, ladder, opts, out, storyboard), info.duration, ignore)
    return Cost(time.perf_counter() - started, _children_cpu() - cpu)


@dataclass
class Scheduled:
    first_playable: float  # seconds until the HLS master listed a quality
    first_quality: str
    all_done: float
    cpu: float  # ffmpeg's user + system seconds for all of it


async def scheduled(source: Path, work: Path, preset: str) -> Scheduled:
    """The provider's own run: renditions one by one, each published when done, then the MP4."""
    storage = LocalStorage(work / "bucket")
    key = "bench/source.mp4"
    storage.path(key).parent.mkdir(parents=True)
    shutil.copyfile(source, storage.path(key))
    provider = FfmpegProvider(FfmpegStreamSettings(preset=preset))
    stream = StreamSource("bench", "", "bench", key=key, storage=storage, output_prefix=f"{key}.stream/")
    started, cpu = time.perf_counter(), _children_cpu()
    first: list[tuple[float, str]] = []

    async def published(result: ProviderStream) -> None:
        ready = [r["name"] for r in result.outputs["renditions"] if r["status"] == "ready" and r["type"] == "video"]
        if result.hls_url and ready and not first:
            first.append((time.perf_counter() - started, ready[0]))

    async def progress(status: str, percent: float | None) -> None:
        pass

    (work / "scratch").mkdir()
    async with httpx.AsyncClient() as http:
        ctx = StreamContext(http, work / "scratch", progress, lambda k: k, publish=published)
        await provider.create(stream, parse_qualities(QUALITIES), ctx)
    return Scheduled(first[0][0], first[0][1], time.perf_counter() - started, _children_cpu() - cpu)


async def main(seconds: int, size: str, preset: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ladder-") as tmp:
        work = Path(tmp)
        source = work / "source.mp4"
        make_source(source, seconds, size)
        info = await probe_source(str(source))
        ladder = plan_ladder(parse_qualities(QUALITIES), info)
        opts = EncodeOptions(preset, 4.0, 2.0)

        one = await encode(str(source), info, ladder, opts, work / "ladder", images=True)
        each = []
        for i, video in enumerate(ladder.cmaf_video):  # audio and images once, with the first rendition
            single = Ladder((video,), ladder.cmaf_audio if i == 0 else (), ())
            each.append(await encode(str(source), info, single, opts, work / f"single-{video.name}", images=i == 0))
        run = await scheduled(source, work / "provider", preset)

    total = sum(each, Cost(0.0, 0.0))
    names = ", ".join(v.name for v in ladder.cmaf_video)
    print(f"source: {seconds} s {size}, preset {preset}; ladder: {names} + AAC, poster, storyboard")
    print("                          wall s   cpu s")
    print(f"one process, one decode: {one.wall:7.2f} {one.cpu:7.2f}")
    print(
        f"one run per rendition:   {total.wall:7.2f} {total.cpu:7.2f}"
        f"  (wall {' + '.join(f'{c.wall:.2f}' for c in each)})"
    )
    print(f"speedup:                 {total.wall / one.wall:6.2f}x {total.cpu / one.cpu:6.2f}x")
    print("provider (one process per rendition, smallest first, published as each is done, + MP4):")
    print(f"  time to first playable quality ({run.first_quality}): {run.first_playable:7.2f} s")
    print(f"  time to all qualities and the MP4:        {run.all_done:7.2f} s  (cpu {run.cpu:.2f} s)")
    print(f"  first playable / all:                     {run.first_playable / run.all_done:7.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--preset", default="veryfast")
    options = parser.parse_args()
    asyncio.run(main(options.seconds, options.size, options.preset))
