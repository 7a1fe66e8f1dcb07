"""Locating ffmpeg/ffprobe: from PATH, or the ffmpeg binary of the imageio-ffmpeg wheel."""

from __future__ import annotations

import shutil
from functools import cache


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
