"""A ladder made one rendition at a time, each published — and playable — as soon as it is done.

Each rendition is its own unit of work, one ffmpeg process, run cheapest first: the CMAF audio
renditions, then the video renditions (CMAF, or MPEG-TS variants with their audio) smallest first,
then the progressive MP4. When a unit is done its directory is written to storage, then the
top-level manifests are rewritten to list what is playable so far:

- ``master.m3u8`` lists a video variant once its rendition is done and every audio rendition of the
  ladder has ended (done, or failed for good), so a player never loads a variant whose audio group
  grows later; the ``audio`` group lists the done audio renditions. An audio-only ladder lists its
  done audio renditions. MPEG-TS variants are listed once done (their audio is muxed in).
- ``manifest.mpd`` lists the done CMAF renditions by the same rule, one adaptation set per video
  codec and per audio language.

Players load the master of a VOD presentation once, so one opened while a larger rendition is still
being made plays the renditions it lists; reloading it picks up the larger ones. Each unit's status
(``queued`` → ``processing`` → ``ready``, or ``failed`` once the stream's retries are exhausted) is in
the stream's ``outputs.renditions``, and ``outputs.qualities`` says which renditions make each
requested quality. A retried attempt keeps the units an earlier attempt finished (their objects are
in storage) and makes only the others.

The progressive MP4 (``video.mp4``) is the highest done video rendition — H.264 preferred, H.265 when
the ladder has no H.264 one — with the first audio rendition, remuxed (no re-encode) from its stored
segments with the ``moov`` atom first (faststart), so it plays while it downloads.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiofiles

from mediaedge.ffmpeg import ffmpeg_exe
from mediaedge.storage import StorageBackend
from mediaedge.streams import ProviderUnavailable
from mediaedge_stream_ffmpeg.command import MASTER, MPD, EncodeOptions, build_command, cmaf_dir
from mediaedge_stream_ffmpeg.ladder import AudioRendition, Ladder, TsVariant, VideoRendition
from mediaedge_stream_ffmpeg.package import MEDIA_PLAYLIST, Track, master_playlist, mpd_tag, package_cmaf
from mediaedge_stream_ffmpeg.probe import SourceInfo
from mediaedge_stream_ffmpeg.publish import publish, put_files
from mediaedge_stream_ffmpeg.run import run_ffmpeg
from mediaedge_stream_ffmpeg.storyboard import VTT, Storyboard

log = logging.getLogger(__name__)

MP4 = "video.mp4"
#: The MPD of one CMAF rendition, kept beside its segments: the combined manifest is built from these.
RENDITION_MPD = "rendition.mpd"
#: Relative cost of an audio rendition beside a video one of ``width × height`` pixels (for progress).
AUDIO_WEIGHT = 20_000.0
MP4_WEIGHT = 5_000.0
QUEUED, PROCESSING, READY, FAILED = "queued", "processing", "ready", "failed"
ENDED = (READY, FAILED)

Progress = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Unit:
    """One rendition to make: a ladder holding only it."""

    name: str
    ladder: Ladder
    weight: float

    @property
    def video(self) -> VideoRendition | None:
        return self.ladder.video[0] if self.ladder.video else None


def plan_units(ladder: Ladder) -> list[Unit]:
    """The renditions of ``ladder`` in the order they are made: audio, then video smallest first."""
    audio = [Unit(a.name, Ladder((), (a,), ()), AUDIO_WEIGHT) for a in ladder.cmaf_audio]
    video = [Unit(v.name, Ladder((v,), (), ()), float(v.width * v.height)) for v in ladder.cmaf_video]
    video += [
        Unit(t.name, Ladder((), (), (t,)), float(t.video.width * t.video.height) if t.video else AUDIO_WEIGHT)
        for t in ladder.ts_variants
    ]
    return audio + sorted(video, key=lambda u: u.weight)


def rendition_entry(rendition: VideoRendition | AudioRendition | TsVariant) -> dict[str, Any]:
    """What ``outputs.renditions`` shows of a rendition before it is made."""
    if isinstance(rendition, TsVariant):
        item: dict[str, Any] = {"name": rendition.name, "packaging": "mpegts"}
        if rendition.video:
            item.update(
                type="video",
                width=rendition.video.width,
                height=rendition.video.height,
                bitrate=rendition.video.bitrate,
            )
        else:
            item.update(type="audio")
        if rendition.audio:
            item["audio_bitrate"] = rendition.audio.bitrate
        return item
    if isinstance(rendition, VideoRendition):
        return {
            "name": rendition.name,
            "packaging": "cmaf",
            "type": "video",
            "width": rendition.width,
            "height": rendition.height,
            "bitrate": rendition.bitrate,
        }
    return {
        "name": rendition.name,
        "packaging": "cmaf",
        "type": "audio",
        "bitrate": rendition.config.bitrate,
        "language": rendition.config.language,
    }


class LadderRun:
    """Makes the units of one ladder not yet ready, publishing as it goes (see the module's docstring)."""

    def __init__(
        self,
        *,
        ladder: Ladder,
        info: SourceInfo,
        source: str,
        options: EncodeOptions,
        storage: StorageBackend,
        prefix: str,
        work: Path,
        storyboard: Storyboard | None,
        previous: Mapping[str, Any],
    ) -> None:
        self.ladder, self.info, self.source, self.options = ladder, info, source, options
        self.storage, self.prefix, self.work, self.storyboard = storage, prefix, work, storyboard
        self.units = plan_units(ladder)
        made = {str(r.get("name")): r for r in previous.get("renditions") or [] if isinstance(r, dict)}
        self.entries: dict[str, dict[str, Any]] = {}
        for rendition in (*ladder.cmaf, *ladder.ts_variants):
            earlier = made.get(rendition.name)
            if earlier is not None and earlier.get("status") == READY:
                self.entries[rendition.name] = dict(earlier)
            else:
                self.entries[rendition.name] = {**rendition_entry(rendition), "status": QUEUED}
        mp4 = previous.get("mp4")
        self.mp4: dict[str, Any] | None = None
        if ladder.video:
            self.mp4 = dict(mp4) if isinstance(mp4, dict) and mp4.get("status") == READY else {"status": QUEUED}
        self.images = bool(previous.get("images"))
        self.errors: dict[str, str] = {}

    @property
    def fresh(self) -> bool:
        """Nothing of an earlier attempt is kept."""
        return not any(e["status"] == READY for e in self.entries.values())

    def outputs(self) -> dict[str, Any]:
        """The stream's ``outputs`` as they stand."""
        out: dict[str, Any] = {
            "renditions": [dict(entry) for entry in self.entries.values()],
            "qualities": [
                {"name": p.name, "type": p.type, "renditions": list(p.renditions)} for p in self.ladder.qualities
            ],
            "images": self.images,
        }
        if self.mp4 is not None:
            out["mp4"] = dict(self.mp4)
        return out

    @property
    def manifests(self) -> tuple[bool, bool]:
        """Whether the HLS master and the MPD list anything yet."""
        return self._hls_master() is not None, bool(self._dash_units())

    async def run(self, on_progress: Progress, on_published: Callable[[], Awaitable[None]]) -> None:
        """Make every unit not yet ready; each one's failure is recorded in :attr:`errors` and the
        others go on (ffmpeg's failures; anything else — storage, a deleted stream — ends the run).
        ``on_published`` runs after each unit's outputs are in storage."""
        total = sum(u.weight for u in self.units) + (MP4_WEIGHT if self.mp4 is not None else 0)
        done = sum(u.weight for u in self.units if self.entries[u.name]["status"] == READY)

        def progress_in(weight: float) -> Progress:
            async def report(percent: float) -> None:
                await on_progress(min(99.0, (done + weight * percent / 100) / total * 100))

            return report

        top = max((u for u in self.units if u.video), key=lambda u: u.weight, default=None)
        for unit in self.units:
            entry = self.entries[unit.name]
            if entry["status"] == READY:
                continue
            entry["status"] = PROCESSING
            await on_published()
            try:
                summary = await self._make(unit, unit is top, progress_in(unit.weight))
            except ProviderUnavailable as exc:  # ffmpeg failed on it: the others go on, the job retries it
                log.warning("rendition %s of %s failed: %s", unit.name, self.prefix, exc)
                self.errors[unit.name] = str(exc)[-500:]
                self.entries[unit.name] = {**entry, "status": QUEUED, "error": self.errors[unit.name]}
            else:
                self.entries[unit.name] = {**summary, "status": READY}
                done += unit.weight
                if unit is top:
                    self.images = True
            await self._publish_manifests()
            await on_published()
        if self.mp4 is not None and self.mp4["status"] != READY:
            await self._make_mp4(progress_in(MP4_WEIGHT))
            await on_published()

    async def _make(self, unit: Unit, images: bool, progress: Progress) -> dict[str, Any]:
        out = self.work / unit.name
        await asyncio.to_thread(_fresh_dir, out, len(unit.ladder.cmaf))
        storyboard = self.storyboard if images else None
        args = build_command(self.source, self.info, unit.ladder, self.options, out, storyboard, poster=images)
        await run_ffmpeg(args, self.info.duration, progress)
        summary = await asyncio.to_thread(_package_unit, out, unit, storyboard, self.info.duration)
        await publish(self.storage, out / unit.name, f"{self.prefix}{unit.name}/")
        if images:
            extra = [p for p in out.iterdir() if p.is_file()]
            await put_files(self.storage, {f"{self.prefix}{p.name}": p for p in extra})
        return summary

    def _tracks(self) -> dict[str, Track]:
        """The ready CMAF renditions as packaged tracks (their segments are not needed here)."""
        found = {}
        for rendition in self.ladder.cmaf:
            entry = self.entries[rendition.name]
            if entry["status"] == READY:
                found[rendition.name] = Track(
                    rendition,
                    str(entry.get("codecs", "")),
                    entry.get("frame_rate"),
                    (),
                    int(entry.get("bandwidth", 0)),
                    int(entry.get("average_bandwidth", 0)),
                )
        return found

    def _audio_ended(self) -> bool:
        return all(self.entries[a.name]["status"] in ENDED for a in self.ladder.cmaf_audio)

    def _dash_units(self) -> list[VideoRendition | AudioRendition]:
        tracks = self._tracks()
        audio = [a for a in self.ladder.cmaf_audio if a.name in tracks]
        video = [v for v in self.ladder.cmaf_video if v.name in tracks] if self._audio_ended() else []
        return [*video, *audio] if video or not self.ladder.cmaf_video else []

    def _hls_master(self) -> str | None:
        if self.ladder.hls_from_ts:
            ready = [t for t in self.ladder.ts_variants if self.entries[t.name]["status"] == READY]
            if not ready:
                return None
            lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
            for t in ready:
                lines += [f"#EXT-X-STREAM-INF:{self.entries[t.name]['stream_inf']}", f"{t.name}/{MEDIA_PLAYLIST}"]
            return "\n".join([*lines, ""])
        tracks = self._tracks()
        listed = [tracks[r.name] for r in self._dash_units()]
        return master_playlist(listed) if listed else None

    async def _publish_manifests(self) -> None:
        files: dict[str, Path] = {}
        master = self._hls_master()
        if master is not None:
            files[f"{self.prefix}{MASTER}"] = await _write(self.work / MASTER, master)
        units = self._dash_units()
        if units:
            fragments = [await self._fragment(r.name) for r in units]
            mpd = merge_mpds(self.ladder, list(zip(units, fragments, strict=True)))
            files[f"{self.prefix}{MPD}"] = await _write(self.work / MPD, mpd)
        await put_files(self.storage, files)

    async def _fragment(self, name: str) -> ET.Element:
        data = await _read(self.storage, f"{self.prefix}{name}/{RENDITION_MPD}")
        return ET.fromstring(data)  # noqa: S314 - ffmpeg's own output, written by this module

    async def _make_mp4(self, progress: Progress) -> None:
        """Remux the highest done video rendition (and the first audio) into ``video.mp4``, faststart."""
        assert self.mp4 is not None
        ready = [u.video for u in self.units if u.video and self.entries[u.name]["status"] == READY]
        if not ready:
            return  # no video rendition is done yet: the retry makes the MP4 after them
        best = max(ready, key=lambda v: (v.codec == "h264", v.height, v.bitrate))
        self.mp4 = {"status": PROCESSING}
        try:
            size = await self._remux(best, progress)
        except ProviderUnavailable as exc:
            log.warning("progressive MP4 of %s failed: %s", self.prefix, exc)
            self.errors["mp4"] = str(exc)[-500:]
            self.mp4 = {"status": QUEUED, "error": self.errors["mp4"]}
        else:
            self.mp4 = {"status": READY, "name": MP4, "rendition": best.name, "codec": best.codec, "size": size}

    async def _remux(self, video: VideoRendition, progress: Progress) -> int:
        work = self.work / "mp4"
        await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
        ts = any(t.name == video.name for t in self.ladder.ts_variants)
        inputs = [
            await _concatenate(self.storage, f"{self.prefix}{video.name}/", work / ("video.ts" if ts else "video.m4s"))
        ]
        audio = next((a for a in self.ladder.cmaf_audio if self.entries[a.name]["status"] == READY), None)
        if audio is not None and not ts:
            inputs.append(await _concatenate(self.storage, f"{self.prefix}{audio.name}/", work / "audio.m4s"))
        args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        for path in inputs:
            args += ["-i", str(path)]
        args += ["-map", "0:v:0", "-map", f"{len(inputs) - 1}:a:0?", "-c", "copy"]
        if video.codec == "h265":
            args += ["-tag:v", "hvc1"]
        target = work / MP4
        args += ["-movflags", "+faststart", "-f", "mp4", str(target), "-progress", "pipe:1", "-nostats"]
        await run_ffmpeg(args, self.info.duration, progress)
        size = target.stat().st_size
        await put_files(self.storage, {f"{self.prefix}{MP4}": target})  # a local backend moves the file
        return size


def merge_mpds(ladder: Ladder, parts: list[tuple[VideoRendition | AudioRendition, ET.Element]]) -> str:
    """One MPD of the renditions whose own MPDs are ``parts``: one adaptation set per video codec and
    per audio language, representation ids their index in the ladder's CMAF renditions."""
    base = copy.deepcopy(parts[0][1])
    period = base.find(mpd_tag("Period"))
    if period is None:
        raise RuntimeError("ffmpeg wrote an MPD without a Period")
    for old_set in period.findall(mpd_tag("AdaptationSet")):
        period.remove(old_set)
    sets: dict[str, ET.Element] = {}
    for rendition, root in parts:
        adaptation = root.find(f"{mpd_tag('Period')}/{mpd_tag('AdaptationSet')}")
        own = adaptation.find(mpd_tag("Representation")) if adaptation is not None else None
        if adaptation is None or own is None:
            raise RuntimeError(f"the MPD of {rendition.name} has no representation")
        group = rendition.codec if isinstance(rendition, VideoRendition) else f"audio-{rendition.config.language}"
        if group not in sets:
            target = copy.deepcopy(adaptation)
            for old in target.findall(mpd_tag("Representation")):
                target.remove(old)
            target.set("id", str(len(sets)))
            target.set("bitstreamSwitching", "false")  # each representation was encoded on its own
            sets[group] = target
            period.append(target)
        target = sets[group]
        rep = copy.deepcopy(own)
        rep.set("id", str(ladder.cmaf.index(rendition)))
        target.append(rep)
        if isinstance(rendition, VideoRendition) and target.get("maxWidth"):
            target.set("maxWidth", str(max(int(target.get("maxWidth", "0")), rendition.width)))
            target.set("maxHeight", str(max(int(target.get("maxHeight", "0")), rendition.height)))
    return ET.tostring(base, xml_declaration=True, encoding="unicode")


def _fresh_dir(out: Path, cmaf: int) -> None:
    """An empty directory for one unit, with the ``r{N}`` directories the dash muxer expects."""
    shutil.rmtree(out, ignore_errors=True)  # an earlier try of this unit in this attempt
    out.mkdir(parents=True, exist_ok=True)
    for index in range(cmaf):
        (out / cmaf_dir(index)).mkdir()


def _package_unit(out: Path, unit: Unit, storyboard: Storyboard | None, duration: float) -> dict[str, Any]:
    """Name the unit's directory and keep its own manifest in it; its ``outputs.renditions`` entry."""
    if storyboard:
        (out / VTT).write_text(storyboard.vtt(duration))
    if unit.ladder.cmaf:
        (track,) = package_cmaf(out, unit.ladder)
        (out / MPD).rename(out / unit.name / RENDITION_MPD)
        (out / MASTER).unlink(missing_ok=True)
        return track.summary()
    (variant,) = unit.ladder.ts_variants
    master = (out / MASTER).read_text()
    (out / MASTER).unlink()
    stream_inf = next(line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF:"))
    return {**rendition_entry(variant), "stream_inf": stream_inf.partition(":")[2]}


async def _write(path: Path, text: str) -> Path:
    async with aiofiles.open(path, "w") as f:
        await f.write(text)
    return path


async def _read(storage: StorageBackend, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.open_range(key)])


async def _concatenate(storage: StorageBackend, prefix: str, target: Path) -> Path:
    """The rendition under ``prefix`` as one file: its init segment (CMAF) then its segments in order."""
    keys = sorted([info.key async for info in storage.list(prefix) if info.key.endswith((".m4s", ".ts"))])
    keys.sort(key=lambda key: not key.endswith("/init.m4s"))
    async with aiofiles.open(target, "wb") as f:
        for key in keys:
            async for chunk in storage.open_range(key):
                await f.write(chunk)
    return target
