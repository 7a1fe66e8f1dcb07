"""Writing a finished stream into the source's bucket, manifests last; removing one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mediaedge.storage import StorageBackend

UPLOAD_CONCURRENCY = 8
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
}


def _rank(relative: Path) -> int:
    """Upload order: 0 segments and images, 1 media playlists, 2 the top-level manifests."""
    if relative.suffix not in (".m3u8", ".mpd"):
        return 0
    return 2 if len(relative.parts) == 1 else 1


async def publish(storage: StorageBackend, out: Path, prefix: str) -> list[str]:
    """Store every file under ``out`` at ``prefix`` + its relative path; drop stale objects there."""
    files = await asyncio.to_thread(lambda: sorted(p for p in out.rglob("*") if p.is_file()))
    limit = asyncio.Semaphore(UPLOAD_CONCURRENCY)

    async def put(path: Path) -> str:
        key = prefix + path.relative_to(out).as_posix()
        async with limit:
            await storage.put_file(key, str(path), CONTENT_TYPES.get(path.suffix))
        return key

    keys: list[str] = []
    for rank in (0, 1, 2):
        keys += await asyncio.gather(*(put(p) for p in files if _rank(p.relative_to(out)) == rank))
    fresh = set(keys)
    stale = [info.key async for info in storage.list(prefix) if info.key not in fresh]
    await asyncio.gather(*(storage.delete(key) for key in stale))
    return keys


async def put_files(storage: StorageBackend, files: dict[str, Path]) -> None:
    """Store each file at its key (manifests a stream rewrites as its renditions are made)."""
    await asyncio.gather(
        *(storage.put_file(key, str(path), CONTENT_TYPES.get(path.suffix)) for key, path in files.items())
    )


async def remove(storage: StorageBackend, prefix: str) -> int:
    """Delete every object under ``prefix``; returns how many there were."""
    keys = [info.key async for info in storage.list(prefix)]
    await asyncio.gather(*(storage.delete(key) for key in keys))
    return len(keys)
