"""Render speed of an editing task's timeline, as the ``editor.render`` job runs it.

    python -m loadtests.bench_render [--seconds 20] [--presets ultrafast veryfast] [--runs 2]

Makes two sources with ffmpeg (1280x720 at 25 fps and 640x480 at 30 fps, with sound), then renders
a timeline of three clips from them (cut frame-accurately, the second source scaled, letterboxed
and resampled to 25 fps) with a PNG overlay over the first ``--seconds / 2`` seconds, through
:func:`origin.editor.render.build_command` / :func:`run_render`. Prints, per x264 preset, the best
wall time of ``--runs`` and the realtime factor (seconds of output per second of rendering), and the
output's size.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

from mediaedge.ffmpeg import ffmpeg_exe
from origin.editor.render import Source, build_command, probe_source, run_render
from origin.editor.xtl import parse_xtl

TICKS = 10_000_000


def _source(path: Path, size: str, fps: int, seconds: float) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _timeline(seconds: float) -> str:
    third = seconds / 3
    t = lambda s: str(round(s * TICKS))  # noqa: E731
    return (
        f'<timelines version="2"><timeline><group><track video="1" audio="1">'
        f'<clip src="a" start="{t(0.5)}" stop="{t(0.5 + third)}"/>'
        f'<clip src="b" start="{t(0.2)}" stop="{t(0.2 + third)}"/>'
        f'<clip src="a" start="{t(1 + third)}" stop="{t(1 + 2 * third)}"/>'
        f'</track><track video="1" audio="0"><clip src="ov" start="0" stop="{t(seconds / 2)}" x="32" y="32"/>'
        f"</track></group></timeline></timelines>"
    )


async def _bench(seconds: float, presets: list[str], runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        root = Path(tmp)
        a = _source(root / "a.mp4", "1280x720", 25, seconds)
        b = _source(root / "b.mp4", "640x480", 30, seconds)
        overlay = root / "ov.png"
        subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=200x100",
             "-frames:v", "1", str(overlay)],
            check=True,
        )  # fmt: skip
        sources = {
            "a": await probe_source(str(a), "video"),
            "b": await probe_source(str(b), "video"),
            "ov": Source(str(overlay), "image"),
        }
        timeline = parse_xtl(_timeline(seconds)).timelines[0]

        async def go_on(_: float) -> bool:
            return True

        print(f"timeline: 3 clips, {seconds:g} s of output at 1280x720/25 fps, one overlay")
        print(f"{'preset':<12}{'best s':>10}{'x realtime':>12}{'MB':>8}")
        for preset in presets:
            best = float("inf")
            out = root / f"out-{preset}.mp4"
            for _ in range(runs):
                command = build_command(timeline, sources, str(out), preset=preset)
                started = time.perf_counter()
                await run_render(command, go_on, max_seconds=3600)
                best = min(best, time.perf_counter() - started)
            print(f"{preset:<12}{best:>10.2f}{command.duration / best:>12.2f}{out.stat().st_size / 1e6:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--presets", nargs="+", default=["ultrafast", "veryfast"])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(_bench(args.seconds, args.presets, args.runs))


if __name__ == "__main__":
    main()
