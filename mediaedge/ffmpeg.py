"""Locating ffmpeg/ffprobe (from PATH, or the ffmpeg binary of the imageio-ffmpeg wheel) and running
them with a deadline. :func:`missing_tools` says which of the two this machine lacks, and
:data:`INSTALL_HINT` how to fix it."""

from __future__ import annotations

import asyncio
import shutil
from functools import cache
from typing import Any

INSTALL_HINT = "install ffmpeg, which ships both (e.g. `apt-get install ffmpeg` or `brew install ffmpeg`), then restart"


class ToolMissing(FileNotFoundError):
    """ffmpeg is found neither on PATH nor in the imageio-ffmpeg wheel."""


@cache
def find_ffmpeg() -> str | None:
    """Path of an ffmpeg binary: PATH first, then the imageio-ffmpeg wheel's build (which may name
    one that does not exist, e.g. through ``IMAGEIO_FFMPEG_EXE``); ``None`` if neither runs."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    try:
        return shutil.which(str(imageio_ffmpeg.get_ffmpeg_exe()))
    except RuntimeError:  # no binary for this platform in the wheel
        return None


def ffmpeg_exe() -> str:
    """Path of ffmpeg; :class:`ToolMissing` with the fix if there is none."""
    found = find_ffmpeg()
    if found is None:
        raise ToolMissing(f"ffmpeg not found on PATH: {INSTALL_HINT}")
    return found


@cache
def ffprobe_exe() -> str | None:
    """Path of ffprobe, or ``None`` (the imageio-ffmpeg wheel ships ffmpeg only)."""
    return shutil.which("ffprobe")


def missing_tools() -> list[str]:
    """``"ffmpeg"`` and/or ``"ffprobe"`` when this machine lacks them."""
    return [name for name, path in (("ffmpeg", find_ffmpeg()), ("ffprobe", ffprobe_exe())) if path is None]


async def run_tool(*args: str, deadline: float, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run ``args`` to completion, ``stdin`` fed to it: ``(returncode, stdout, stderr)``; killed and
    ``TimeoutError`` after ``deadline`` seconds."""
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), deadline)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out, err


def is_cover_art(stream: dict[str, Any]) -> bool:
    """An ffprobe video stream that is an attached picture (cover art), not the video."""
    return bool((stream.get("disposition") or {}).get("attached_pic"))
