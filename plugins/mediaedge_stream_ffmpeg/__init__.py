"""Local transcoding to an HLS/DASH ladder (provider ``ffmpeg``, the default provider).

One ffmpeg process decodes the source once and encodes every rendition of the ladder (seed 001's
``qualities``, or :func:`~mediaedge.qualities.default_qualities`) with aligned keyframes, plus a
poster and a storyboard. The result is written through the source bucket's storage backend under
the source's ``output_prefix`` (``{key}.stream/``)::

    master.m3u8  manifest.mpd  poster.jpg  storyboard.jpg  storyboard.vtt
    360p/init.m4s  360p/seg_00001.m4s …  360p/index.m3u8     (CMAF: shared by HLS and DASH)
    audio-128k/init.m4s …                                   (CMAF audio rendition)
    720p/seg_00000.ts …  720p/index.m3u8                     (mpegts HLS variants, when asked for)

Every reference inside is relative, so one prefix-scoped token plays the whole stream.
"""

from __future__ import annotations

import asyncio
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
    ProviderStream,
    ProviderUnavailable,
    StreamContext,
    StreamProvider,
    StreamSource,
)
from mediaedge_stream_ffmpeg.command import MASTER, MPD, POSTER, EncodeOptions, build_command, cmaf_dir
from mediaedge_stream_ffmpeg.ladder import Ladder, plan_ladder
from mediaedge_stream_ffmpeg.package import Track, package_cmaf
from mediaedge_stream_ffmpeg.probe import probe_source
from mediaedge_stream_ffmpeg.publish import publish, remove
from mediaedge_stream_ffmpeg.run import run_ffmpeg
from mediaedge_stream_ffmpeg.storyboard import Storyboard, plan_storyboard

log = logging.getLogger(__name__)

SOURCE_URL_TTL = 6 * 3600
STORYBOARD_VTT = "storyboard.vtt"


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
        out = await asyncio.to_thread(_output_dir, ctx.work_dir, ladder)
        top = max(ladder.video, key=lambda v: v.height, default=None)
        storyboard = plan_storyboard(info.duration, top.width, top.height) if top else None

        async def progress(percent: float) -> None:
            await ctx.report("processing", percent)

        await run_ffmpeg(build_command(src, info, ladder, self.options, out, storyboard), info.duration, progress)
        tracks = await asyncio.to_thread(_package, out, ladder, storyboard, info.duration)
        await ctx.report("downloading", None)
        await publish(storage, out, prefix)
        renditions = [t.summary() for t in tracks] + _ts_summary(ladder)
        return self._stream(source, ctx, ladder.has_dash, bool(top), info.duration, renditions)

    async def status(self, uid: str, source: StreamSource, ctx: StreamContext) -> ProviderStream:
        storage, prefix = _target(source)
        names = {info.key[len(prefix) :] async for info in storage.list(prefix)}
        if MASTER not in names and MPD not in names:
            return ProviderStream(uid, "failed", error="no stream output found")
        return self._stream(source, ctx, MPD in names, POSTER in names, None, [])

    async def delete(self, uid: str, source: StreamSource, ctx: StreamContext) -> None:
        storage, prefix = _target(source)
        await remove(storage, prefix)

    @staticmethod
    def _stream(
        source: StreamSource,
        ctx: StreamContext,
        dash: bool,
        images: bool,
        duration: float | None,
        renditions: list[dict[str, Any]],
    ) -> ProviderStream:
        prefix = source.output_prefix
        outputs: dict[str, Any] = {"renditions": renditions} if renditions else {}
        if images:
            outputs["storyboard"] = ctx.url_for(f"{prefix}{STORYBOARD_VTT}")
        return ProviderStream(
            uid=source.stream_id,
            state="ready",
            progress=100.0,
            hls_url=ctx.url_for(f"{prefix}{MASTER}"),
            dash_url=ctx.url_for(f"{prefix}{MPD}") if dash else None,
            thumbnail=ctx.url_for(f"{prefix}{POSTER}") if images else None,
            duration=duration,
            outputs=outputs,
        )


def _output_dir(work_dir: Path, ladder: Ladder) -> Path:
    """The directory ffmpeg writes to, with the ``r{N}`` directories its dash muxer expects."""
    out = work_dir / "out"
    out.mkdir(parents=True, exist_ok=True)
    for index in range(len(ladder.cmaf)):
        (out / cmaf_dir(index)).mkdir()
    return out


def _package(out: Path, ladder: Ladder, storyboard: Storyboard | None, duration: float) -> list[Track]:
    if storyboard:
        (out / STORYBOARD_VTT).write_text(storyboard.vtt(duration))
    return package_cmaf(out, ladder) if ladder.cmaf else []


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


def _ts_summary(ladder: Ladder) -> list[dict[str, Any]]:
    out = []
    for variant in ladder.ts_variants:
        item: dict[str, Any] = {"name": variant.name, "packaging": "mpegts"}
        if variant.video:
            item.update(
                type="video", width=variant.video.width, height=variant.video.height, bitrate=variant.video.bitrate
            )
        else:
            item.update(type="audio")
        if variant.audio:
            item["audio_bitrate"] = variant.audio.bitrate
        out.append(item)
    return out


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
