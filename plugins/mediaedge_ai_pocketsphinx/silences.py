"""Cutting long audio into chunks at its silences, so the chunks can be recognised in parallel.

ffmpeg's ``silencedetect`` finds the pauses. :func:`plan_chunks` cuts in the middle of a pause once a
chunk has reached ``target`` seconds, so no word is split; where no pause comes for ``longest``
seconds it cuts there anyway (music, wall-to-wall speech).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from mediaedge.ffmpeg import ffmpeg_exe, run_tool

_START = re.compile(rb"silence_start: (-?\d+(?:\.\d+)?)")
_END = re.compile(rb"silence_end: (\d+(?:\.\d+)?)")


def parse_silences(log: bytes, duration: float) -> list[tuple[float, float]]:
    """``(start, end)`` of each pause in a ``silencedetect`` log; a pause still open at the end ends there."""
    starts = [max(0.0, float(m)) for m in _START.findall(log)]
    ends = [float(m) for m in _END.findall(log)]
    ends += [duration] * (len(starts) - len(ends))
    return list(zip(starts, ends, strict=True))


async def find_silences(
    pcm: Path, rate: int, duration: float, *, noise_db: float, min_seconds: float, deadline: float
) -> list[tuple[float, float]]:
    """The pauses (quieter than ``noise_db`` dBFS for ``min_seconds``) of a raw s16le mono file."""
    code, _, err = await run_tool(
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-f",
        "s16le",
        "-ar",
        str(rate),
        "-ac",
        "1",
        "-i",
        str(pcm),
        "-af",
        f"silencedetect=noise={noise_db}dB:d={min_seconds}",
        "-f",
        "null",
        "-",
        deadline=deadline,
    )
    if code:
        raise RuntimeError(f"silencedetect failed: {err.decode(errors='replace')[-300:]}")
    return parse_silences(err, duration)


def plan_chunks(
    silences: Sequence[tuple[float, float]], duration: float, *, target: float, longest: float
) -> list[tuple[float, float]]:
    """``(start, end)`` chunks covering ``[0, duration]``: cut mid-pause once ``target`` long, never past
    ``longest``."""
    cuts: list[float] = []
    start = 0.0
    for pause_start, pause_end in silences:
        middle = (pause_start + pause_end) / 2
        while middle - start > longest:
            start += longest
            cuts.append(start)
        if middle - start >= target and middle < duration:
            cuts.append(middle)
            start = middle
    while duration - start > longest:
        start += longest
        cuts.append(start)
    edges = [0.0, *cuts, duration]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]
