"""What happens to an asset once its bytes are in: a stream for video and audio, resized variants for
images, nothing more for other files.

- **video / audio**: an HLS/DASH stream of the file is created through the streams service (the
  default provider; ffmpeg locally makes the video ladder, or an audio rendition for audio), signed
  delivery only; the asset stays ``queued`` (``pending``) until a worker starts the stream, then moves
  with it (``transcoding``, ``ready``).
- **image**: a WebP and a JPEG variant for each of ``media.image_widths`` no wider than the source,
  made with ffmpeg on finalize and stored beside the file under ``{key}.variants/``; then ``ready``.
- **other**: ``ready`` at once.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

from mediaedge.errors import HTTPError
from mediaedge.ffmpeg import ffmpeg_exe, run_tool
from mediaedge.storage import StorageError
from origin.catalogue.status import Status
from origin.media.delivery import VARIANTS_SUFFIX
from origin.media.scan import Verdict
from origin.probe import probe
from origin.state import OriginState
from origin.store import Asset, FileRecord, Tenant
from origin.streams.service import create_streams

log = logging.getLogger("mediaedge.origin.media")


IMAGE_FORMATS = (
    ("webp", "image/webp", ("-c:v", "libwebp", "-quality", "80")),
    ("jpg", "image/jpeg", ("-c:v", "mjpeg", "-q:v", "3")),
)
VARIANT_TIMEOUT = 60.0


def plugin_verdict(state: OriginState, path: str, verdict: Verdict) -> Verdict:
    """The built-in verdict, or a quarantine some ``scan_asset`` plugin asks for."""
    if verdict.quarantine is not None or verdict.failure is not None:
        return verdict
    for reason in state.pm.hook.scan_asset(path=path, mime=verdict.mime, kind=verdict.kind, settings=state.settings):
        if reason:
            return replace(verdict, quarantine=str(reason))
    return verdict


async def start(state: OriginState, tenant: Tenant, asset_id: str, record: FileRecord, path: str) -> Asset:
    """Start the asset's processing; ``path`` holds the bytes while this runs."""
    asset = await state.store.assets.get(tenant.id, asset_id)
    assert asset is not None
    if asset.kind in ("video", "audio"):
        if asset.stream_id:
            return asset
        created = await create_streams(
            state,
            tenant,
            {
                "streams": [
                    {
                        "url": state.access_url(record),
                        "meta": {"name": asset.title or record.filename},
                        "required_signed_url": True,
                    }
                ]
            },
        )
        ids = created["ids"] or [e["id"] for e in created["existing"]]
        if ids:  # none: a concurrent finalize of the same asset is making its stream
            await state.store.assets.update(tenant.id, asset.id, stream_id=ids[0])  # pending until a worker starts
    elif asset.kind == "image":
        await state.store.assets.advance(asset.id, Status.PROCESSING)
        try:
            await make_image_variants(state, tenant, asset, record, path)
        except (OSError, RuntimeError, StorageError) as exc:
            log.warning("image variants of %s failed: %s", asset.id, exc)
            await state.store.assets.update(tenant.id, asset.id, error=f"image variants failed: {exc}")
            await state.store.assets.advance(asset.id, Status.FAILED)
            raise HTTPError(500, "Making the image's variants failed", "media.processing_failed") from exc
        await state.store.assets.advance(asset.id, Status.READY)
    else:
        await state.store.assets.advance(asset.id, Status.READY)
    done = await state.store.assets.get(tenant.id, asset.id)
    assert done is not None
    return done


async def make_image_variants(state: OriginState, tenant: Tenant, asset: Asset, record: FileRecord, path: str) -> None:
    bucket = await state.store.buckets.get(tenant.id, record.bucket)
    if bucket is None:
        raise RuntimeError(f"bucket {record.bucket} is gone")
    backend = state.backend(bucket)
    source_width = record.width or 0
    widths = [w for w in state.settings.media.image_widths if not source_width or w <= source_width]
    if not widths and source_width:
        widths = [source_width]
    with tempfile.TemporaryDirectory(dir=state.settings.origin.spool_dir) as work:
        for width in widths:
            for ext, mime, codec in IMAGE_FORMATS:
                name = f"{width}w.{ext}"
                out = Path(work) / name
                code, _, err = await run_tool(
                    ffmpeg_exe(),
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-y",
                    "-i",
                    path,
                    "-vf",
                    f"scale={width}:-2",
                    "-frames:v",
                    "1",
                    *codec,
                    str(out),
                    deadline=VARIANT_TIMEOUT,
                )
                if code != 0:
                    raise RuntimeError(f"ffmpeg could not make {name}: {err.decode(errors='replace')[-300:]}")
                height = (await probe(str(out))).height
                key = f"{record.key}{VARIANTS_SUFFIX}{name}"
                info = await backend.put_file(key, str(out), mime)
                await state.store.renditions.add(
                    asset.id,
                    kind="image",
                    name=name,
                    status=Status.READY,
                    key=key,
                    size=info.size,
                    width=width,
                    height=height,
                    spec={"mime": mime, "format": ext, "width": width},
                )
