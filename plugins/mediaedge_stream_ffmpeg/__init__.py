"""Local transcoding to an HLS/DASH ladder (provider ``ffmpeg``, the default provider).

Each rendition of the ladder (seed 001's ``qualities``, or :func:`~mediaedge.qualities.default_qualities`)
is made by its own ffmpeg process with the same keyframe grid, smallest first, and published as soon
as it is done (:mod:`~mediaedge_stream_ffmpeg.renditions`); the largest one also makes the poster and
the storyboard; a progressive MP4 is remuxed from the highest one. The result is written through the
source bucket's storage backend under the source's ``output_prefix`` (``{key}.stream/``)::

    master.m3u8  manifest.mpd  poster.jpg  storyboard.jpg  storyboard.vtt  video.mp4
    360p/init.m4s  360p/seg_00001.m4s …  360p/index.m3u8  360p/rendition.mpd   (CMAF: HLS and DASH)
    audio-128k/init.m4s …                                   (CMAF audio rendition)
    720p/seg_00000.ts …  720p/index.m3u8                     (mpegts HLS variants, when asked for)

Every reference inside is relative, so one prefix-scoped token plays the whole stream.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiofiles
import aiofiles.os

from mediaedge import hookimpl
from mediaedge.ffmpeg import INSTALL_HINT, missing_tools
from mediaedge.qualities import QualitiesConfig, default_qualities
from mediaedge.settings import FieldError, PositiveFloat, Settings, settings_table
from mediaedge.storage import StorageBackend
from mediaedge.streams import (
    ProviderRejected,
    ProviderState,
    ProviderStream,
    ProviderUnavailable,
    StreamContext,
    StreamProvider,
    StreamSource,
)
from mediaedge_stream_ffmpeg.command import MASTER, MPD, POSTER, EncodeOptions
from mediaedge_stream_ffmpeg.ladder import plan_ladder
from mediaedge_stream_ffmpeg.probe import probe_source
from mediaedge_stream_ffmpeg.publish import remove
from mediaedge_stream_ffmpeg.renditions import LadderRun
from mediaedge_stream_ffmpeg.storyboard import VTT as STORYBOARD_VTT
from mediaedge_stream_ffmpeg.storyboard import plan_storyboard

log = logging.getLogger(__name__)

SOURCE_URL_TTL = 6 * 3600


@settings_table
class FfmpegStreamSettings:
    """``[plugins.ffmpeg]``. ``preset``: x264/x265 preset, ultrafast … veryslow (slower = smaller files for
    the same quality). Segments last ``segment_seconds``; keyframes are forced every ``keyframe_seconds``
    (a divisor of it) in every rendition, so segments of all renditions start on the same frame."""

    preset: str = "veryfast"
    segment_seconds: PositiveFloat = 4.0
    keyframe_seconds: PositiveFloat = 2.0

    def __post_init__(self) -> None:
        ratio = self.segment_seconds / self.keyframe_seconds
        if abs(ratio - round(ratio)) > 1e-9:
            raise FieldError("segment_seconds", "must be a multiple of plugins.ffmpeg.keyframe_seconds")


class FfmpegProvider(StreamProvider):
    name = "ffmpeg"
    remote = False
    accepts_qualities = True

    def __init__(self, options: FfmpegStreamSettings) -> None:
        self.options = EncodeOptions(options.preset, options.segment_seconds, options.keyframe_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> FfmpegProvider:
        return cls(settings.plugin("ffmpeg", FfmpegStreamSettings))

    def check_source(self, source: StreamSource) -> None:
        """Refuse at once what cannot work: a source not stored here, or a machine without the tools."""
        if missing_tools():
            raise ProviderUnavailable(_missing_message())
        if not source.key:
            raise ProviderRejected("the ffmpeg provider streams files stored here: url must be one of your files' URLs")
        _target(source)

    async def create(
        self, source: StreamSource, qualities: QualitiesConfig | None, ctx: StreamContext
    ) -> ProviderStream:
        self.check_source(source)
        storage, prefix = _target(source)
        src = await _input(source, storage, ctx.work_dir)
        info = await probe_source(src)
        ladder = plan_ladder(qualities or default_qualities(), info)
        top = max(ladder.video, key=lambda v: v.height, default=None)
        run = LadderRun(
            ladder=ladder,
            info=info,
            source=src,
            options=self.options,
            storage=storage,
            prefix=prefix,
            work=ctx.work_dir / "out",
            storyboard=plan_storyboard(info.duration, top.width, top.height) if top else None,
            previous=ctx.previous,
        )
        if run.fresh:  # objects of an earlier stream at this prefix (a restarted one) must not show
            await remove(storage, prefix)

        async def progress(percent: float) -> None:
            await ctx.report("processing", percent)

        async def published() -> None:
            await ctx.publish(self._stream(source, ctx, run, info.duration, "processing"))

        await run.run(progress, published)
        if run.errors:
            failed = "; ".join(f"{name}: {error}" for name, error in run.errors.items())
            raise ProviderUnavailable(f"renditions not made, retrying them: {failed}")
        await ctx.report("downloading", None)
        return self._stream(source, ctx, run, info.duration, "ready")

    async def status(self, uid: str, source: StreamSource, ctx: StreamContext) -> ProviderStream:
        storage, prefix = _target(source)
        names = {info.key[len(prefix) :] async for info in storage.list(prefix)}
        if MASTER not in names and MPD not in names:
            return ProviderStream(uid, "failed", error="no stream output found")
        return ProviderStream(
            uid,
            "ready",
            progress=100.0,
            hls_url=ctx.url_for(f"{prefix}{MASTER}") if MASTER in names else None,
            dash_url=ctx.url_for(f"{prefix}{MPD}") if MPD in names else None,
            thumbnail=ctx.url_for(f"{prefix}{POSTER}") if POSTER in names else None,
        )

    async def delete(self, uid: str, source: StreamSource, ctx: StreamContext) -> None:
        storage, prefix = _target(source)
        await remove(storage, prefix)

    @staticmethod
    def _stream(
        source: StreamSource, ctx: StreamContext, run: LadderRun, duration: float, state: ProviderState
    ) -> ProviderStream:
        prefix = source.output_prefix
        outputs = run.outputs()
        if run.images:
            outputs["storyboard"] = ctx.url_for(f"{prefix}{STORYBOARD_VTT}")
        hls, dash = run.manifests
        return ProviderStream(
            uid=source.stream_id,
            state=state,
            progress=100.0 if state == "ready" else 0.0,
            hls_url=ctx.url_for(f"{prefix}{MASTER}") if hls else None,
            dash_url=ctx.url_for(f"{prefix}{MPD}") if dash else None,
            thumbnail=ctx.url_for(f"{prefix}{POSTER}") if run.images else None,
            duration=duration,
            outputs=outputs,
        )


def _target(source: StreamSource) -> tuple[StorageBackend, str]:
    """Where the stream's outputs live: the source bucket's backend and the output prefix."""
    if not (source.storage and source.output_prefix):
        raise ProviderRejected("the ffmpeg provider needs the source's bucket and an output prefix")
    return source.storage, source.output_prefix


async def _input(source: StreamSource, storage: StorageBackend, work_dir: Path) -> str:
    """A path or URL ffmpeg can read the source from: the local file, a presigned URL, or a copy."""
    assert source.key is not None
    path = storage.local_path(source.key)
    if path and await aiofiles.os.path.exists(path):
        return path
    url = await storage.presign_get(source.key, SOURCE_URL_TTL)
    if url:
        return url
    copy = work_dir / "source"
    if not copy.exists():
        async with aiofiles.open(copy, "wb") as f:
            async for chunk in storage.open_range(source.key):
                await f.write(chunk)
    return str(copy)


@hookimpl
def register_stream_providers() -> list[type[StreamProvider]]:
    return [FfmpegProvider]


def _missing_message() -> str:
    return f"the ffmpeg provider needs {' and '.join(missing_tools())}, not found on this server: {INSTALL_HINT}"


@hookimpl
def plugin_settings() -> dict[str, type[Any]]:
    return {"ffmpeg": FfmpegStreamSettings}


@hookimpl
def startup(settings: Settings, tier: str) -> None:
    if missing_tools():
        log.warning("%s; until then every stream with provider ffmpeg is refused", _missing_message())
