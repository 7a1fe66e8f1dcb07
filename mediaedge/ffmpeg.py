"""Locating ffmpeg/ffprobe (from PATH, or the ffmpeg binary of the imageio-ffmpeg wheel) and running
them with a deadline."""

from __future__ import annotations

import asyncio
import shutil
from functools import cache
from typing import Any


@cache
def ffmpeg_exe() -> str:
    """Path of an ffmpeg binary; PATH first, then the imageio-ffmpeg wheel's build."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@cache
def ffprobe_exe() -> str | None:
    """Path of ffprobe, or ``None`` (the imageio-ffmpeg wheel ships ffmpeg only)."""
    return shutil.which("ffprobe")


async def run_tool(*args: str, deadline: float) -> tuple[int, bytes, bytes]:
    """Run ``args`` to completion: ``(returncode, stdout, stderr)``; killed and ``TimeoutError`` after
    ``deadline`` seconds."""
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), deadline)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out, err


def is_cover_art(stream: dict[str, Any]) -> bool:
    """An ffprobe video stream that is an attached picture (cover art), not the video."""
    return bool((stream.get("disposition") or {}).get("attached_pic"))
