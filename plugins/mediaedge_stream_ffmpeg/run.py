"""Running ffmpeg: progress from ``-progress pipe:1``, the error text when it fails, no orphans."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from mediaedge.streams import ProviderUnavailable

STDERR_TAIL = 2000


async def run_ffmpeg(args: list[str], duration: float, on_progress: Callable[[float], Awaitable[None]]) -> None:
    """Run ``args`` (ending in ``-progress pipe:1``); ``on_progress`` gets the percent done (< 100)."""
    proc = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    stderr = asyncio.create_task(proc.stderr.read())
    try:
        async for line in proc.stdout:
            key, _, value = line.decode(errors="replace").strip().partition("=")
            if key == "out_time_us" and value.isdigit() and duration > 0:
                await on_progress(min(99.0, int(value) / 1e6 / duration * 100))
        code = await proc.wait()
    except BaseException:  # cancelled (lease lost, shutdown): do not leave ffmpeg running
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        stderr.cancel()
        raise
    errors = (await stderr).decode(errors="replace").strip()
    if code != 0:
        raise ProviderUnavailable(f"ffmpeg exited with {code}: {errors[-STDERR_TAIL:]}")
