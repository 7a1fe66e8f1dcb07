"""Rendering an XTL timeline with ffmpeg: one filter graph, one encode, frame-accurate.

Every clip is an input of its own, opened at its ``start`` (input seeking, which ffmpeg makes exact
when it decodes) and cut to an exact number of frames of the output rate: a main-track clip of
``d`` seconds is ``d × fps`` frames, halves rounded up (a source that ends early repeats its last
frame), and its sound exactly as long (``round(frames / fps × 48000)`` samples: silence when the source has no
sound, or the track has ``audio="0"``). Clips of different sizes and rates are normalised to the
output's: scaled to fit, padded (letterbox), square pixels, the output's frame rate. So the clips
of a track concatenate with picture and sound in step, and the output has exactly the frames the
timeline adds up to.

Over the main track's picture the overlay tracks are laid in order (images from ``/api/overlay_img``
or media files, at ``x``/``y``, shown from ``position`` for the clip's duration); audio-only tracks are
mixed in at their positions. Groups play one after another. The output's size and rate are the
timeline's ``width``/``height``/``fps``, else the first main-track video source's (else 1280x720 at
25 fps). Without any video track the output is sound only (M4A).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import orjson

from mediaedge.ffmpeg import ffmpeg_exe, ffprobe_exe, is_cover_art, run_tool
from origin.editor.xtl import Clip, Group, Timeline, Track

SAMPLE_RATE = 48_000
DEFAULT_SIZE = (1280, 720)
DEFAULT_FPS = Fraction(25)
PROBE_TIMEOUT = 60.0
STDERR_TAIL = 1500
#: Progress is reported at most this often (seconds); the abort check runs as often.
REPORT_EVERY = 0.5

SourceKind = Literal["video", "audio", "image"]


@dataclass(frozen=True)
class Source:
    """A clip's media, where ffmpeg reads it (a local path or an http(s) URL), and its facts."""

    location: str
    kind: SourceKind
    width: int | None = None
    height: int | None = None
    fps: Fraction | None = None
    has_audio: bool = False
    duration: float | None = None


@dataclass(frozen=True)
class Command:
    args: list[str]
    #: Output length in seconds, and (with video) in frames.
    duration: float
    frames: int
    extension: str


class RenderFailed(Exception):
    """ffmpeg failed; the message carries the end of its error output."""


class Aborted(Exception):
    """The task was stopped while ffmpeg ran."""


def _rate(text: str | None) -> Fraction | None:
    if not text or "/" not in text:
        return None
    num, den = text.split("/", 1)
    if not den.isdigit() or int(den) == 0 or not num.isdigit():
        return None
    rate = Fraction(int(num), int(den))
    return rate if 1 <= rate <= 120 else None


async def probe_source(location: str, kind: SourceKind) -> Source:
    """The facts of a source the renderer needs: size, frame rate, whether it has sound."""
    ffprobe = ffprobe_exe()
    if ffprobe is None:
        return Source(location, kind, has_audio=kind != "image")
    code, out, err = await run_tool(
        ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", location,
        deadline=PROBE_TIMEOUT,
    )  # fmt: skip
    if code != 0:
        raise RenderFailed(f"the source cannot be read: {err.decode(errors='replace').strip()[-300:]}")
    doc = orjson.loads(out)
    streams = doc.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video" and not is_cover_art(s)), None)
    audio = any(s.get("codec_type") == "audio" for s in streams)
    duration = (doc.get("format") or {}).get("duration")
    return Source(
        location=location,
        kind=kind,
        width=int(video["width"]) if video and video.get("width") else None,
        height=int(video["height"]) if video and video.get("height") else None,
        fps=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")) if video else None,
        has_audio=audio and kind != "image",
        duration=float(duration) if duration not in (None, "N/A") else None,
    )


def _even(value: int) -> int:
    return max(2, value - value % 2)


def output_format(timeline: Timeline, sources: dict[str, Source]) -> tuple[int, int, Fraction]:
    """Width, height and frame rate of the output (see the module doc)."""
    first = next(
        (
            sources[c.src]
            for g in timeline.groups
            if (main := g.main) is not None
            for c in main.clips
            if sources[c.src].kind == "video" and sources[c.src].width
        ),
        None,
    )
    if timeline.width and timeline.height:
        width, height = timeline.width, timeline.height
    elif first is not None and first.width and first.height:
        width, height = first.width, first.height
    else:
        width, height = DEFAULT_SIZE
    if timeline.fps:
        fps = Fraction(timeline.fps).limit_denominator(1001)
    else:
        fps = first.fps if first is not None and first.fps else DEFAULT_FPS
    return _even(width), _even(height), fps


def _num(value: float | Fraction) -> str:
    return f"{float(value):.6f}".rstrip("0").rstrip(".") or "0"


class _Graph:
    """Inputs and filter chains of one ffmpeg command."""

    def __init__(self, sources: dict[str, Source], width: int, height: int, fps: Fraction) -> None:
        self.sources, self.width, self.height, self.fps = sources, width, height, fps
        self.inputs: list[str] = []
        self.chains: list[str] = []
        self.labels = 0
        self.count = 0

    def label(self, prefix: str) -> str:
        self.labels += 1
        return f"{prefix}{self.labels}"

    def add_input(self, clip: Clip, *, lead: float = 0.5) -> int:
        source = self.sources[clip.src]
        if source.kind == "image":
            self.inputs += ["-loop", "1", "-framerate", str(self.fps), "-t", _num(clip.duration), "-i", source.location]
        else:
            self.inputs += ["-ss", _num(clip.start), "-t", _num(clip.duration + lead), "-i", source.location]
        self.count += 1
        return self.count - 1

    def chain(self, text: str) -> None:
        self.chains.append(text)

    @property
    def fit(self) -> str:
        w, h = self.width, self.height
        return (
            f"scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,"
            "setsar=1,format=yuv420p"
        )

    def samples(self, frames: int) -> int:
        return round(Fraction(frames) / self.fps * SAMPLE_RATE)

    def silence(self, samples: int) -> str:
        out = self.label("s")
        self.chain(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={samples},{_AFORMAT}[{out}]")
        return out

    def black(self, frames: int) -> str:
        out = self.label("k")
        self.chain(
            f"color=c=black:s={self.width}x{self.height}:r={self.fps},trim=end_frame={frames},format=yuv420p[{out}]"
        )
        return out

    def sound(self, index: int, samples: int, delay: int = 0) -> str:
        out = self.label("a")
        delayed = f",adelay=delays={delay}S:all=1" if delay else ""
        self.chain(
            f"[{index}:a:0]asetpts=PTS-STARTPTS,aresample={SAMPLE_RATE},{_AFORMAT},apad,"
            f"atrim=end_sample={samples},asetpts=PTS-STARTPTS{delayed}[{out}]"
        )
        return out


_AFORMAT = "aformat=sample_fmts=fltp:channel_layouts=stereo"


def _frames(graph: _Graph, seconds: float) -> int:
    """Frames of ``seconds`` at the output rate, halves rounded up (at least one)."""
    return max(1, math.floor(Fraction(seconds).limit_denominator(10_000_000) * graph.fps + Fraction(1, 2)))


def _placed(track: Track) -> list[tuple[float, Clip]]:
    """The clips of a track with where each begins on the group's timeline (seconds)."""
    at, placed = 0.0, []
    for clip in track.clips:
        begin = clip.position if clip.position is not None else at
        placed.append((begin, clip))
        at = begin + clip.duration
    return placed


def _group(graph: _Graph, group: Group, with_video: bool) -> tuple[str | None, str, int]:
    """Chains of one group: its picture and sound labels, and its length in frames."""
    main = group.main
    pictures: list[str] = []
    sounds: list[str] = []
    frames = 0
    picture: str | None
    if main is not None:
        for clip in main.clips:
            n = _frames(graph, clip.duration)
            source = graph.sources[clip.src]
            index = graph.add_input(clip)
            if source.kind == "audio":
                pictures.append(graph.black(n))
            else:
                out = graph.label("v")
                graph.chain(
                    f"[{index}:v:0]setpts=PTS-STARTPTS,fps={graph.fps},{graph.fit},"
                    f"tpad=stop_mode=clone:stop_duration={_num(clip.duration + 1)},trim=end_frame={n},"
                    f"setpts=PTS-STARTPTS[{out}]"
                )
                pictures.append(out)
            samples = graph.samples(n)
            sounds.append(graph.sound(index, samples) if main.audio and source.has_audio else graph.silence(samples))
            frames += n
        picture, sound = graph.label("gv"), graph.label("ga")
        pairs = "".join(f"[{v}][{a}]" for v, a in zip(pictures, sounds, strict=True))
        graph.chain(f"{pairs}concat=n={len(pictures)}:v=1:a=1[{picture}][{sound}]")
    else:
        ends = [begin + clip.duration for track in group.tracks for begin, clip in _placed(track)]
        frames = _frames(graph, max(ends))
        picture = graph.black(frames) if with_video else None
        sound = graph.silence(graph.samples(frames))
    total = graph.samples(frames)
    length = Fraction(frames) / graph.fps
    if picture is not None:
        for track in group.overlays:
            for begin, clip in _placed(track):
                if begin >= length:
                    continue
                source = graph.sources[clip.src]
                if source.kind == "audio":
                    continue
                index = graph.add_input(clip)
                scale = f",scale={clip.width or -2}:{clip.height or -2}" if clip.width or clip.height else ""
                layer = graph.label("o")
                if source.kind == "image":
                    graph.chain(f"[{index}:v:0]format=rgba{scale},setpts=PTS-STARTPTS+{_num(begin)}/TB[{layer}]")
                else:
                    graph.chain(
                        f"[{index}:v:0]setpts=PTS-STARTPTS,fps={graph.fps},trim=duration={_num(clip.duration)}"
                        f"{scale},format=yuva420p,setpts=PTS+{_num(begin)}/TB[{layer}]"
                    )
                out = graph.label("b")
                end = begin + clip.duration
                graph.chain(
                    f"[{picture}][{layer}]overlay=x={clip.x}:y={clip.y}:eof_action=pass:"
                    f"enable='between(t,{_num(begin)},{_num(end)})',format=yuv420p[{out}]"
                )
                picture = out
    mixed = [sound]
    for track in group.audio_tracks:
        for begin, clip in _placed(track):
            source = graph.sources[clip.src]
            if begin >= length or not source.has_audio:
                continue
            index = graph.add_input(clip)
            mixed.append(graph.sound(index, round(clip.duration * SAMPLE_RATE), round(begin * SAMPLE_RATE)))
    if len(mixed) > 1:
        out = graph.label("m")
        inputs = "".join(f"[{label}]" for label in mixed)
        graph.chain(
            f"{inputs}amix=inputs={len(mixed)}:duration=first:dropout_transition=0:normalize=0,"
            f"atrim=end_sample={total},{_AFORMAT}[{out}]"
        )
        sound = out
    return picture, sound, frames


def build_command(timeline: Timeline, sources: dict[str, Source], output: str, *, preset: str) -> Command:
    """The ffmpeg arguments that render ``timeline`` to ``output`` (see the module doc); progress
    lines go to stdout (``-progress pipe:1``)."""
    width, height, fps = output_format(timeline, sources)
    graph = _Graph(sources, width, height, fps)
    with_video = timeline.has_video
    parts = [_group(graph, group, with_video) for group in timeline.groups]
    frames = sum(n for _, _, n in parts)
    if len(parts) == 1:
        picture, sound = parts[0][0], parts[0][1]
    else:
        picture, sound = (graph.label("V") if with_video else None), graph.label("A")
        pairs = "".join(f"[{v}][{a}]" if with_video else f"[{a}]" for v, a, _ in parts)
        outs = (f"[{picture}]" if with_video else "") + f"[{sound}]"
        graph.chain(f"{pairs}concat=n={len(parts)}:v={1 if with_video else 0}:a=1{outs}")
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *graph.inputs]
    args += ["-filter_complex", ";".join(graph.chains)]
    if picture is not None:
        args += ["-map", f"[{picture}]", "-c:v", "libx264", "-preset", preset, "-crf", "20", "-pix_fmt", "yuv420p"]
        args += ["-r", str(fps), "-g", str(max(1, round(fps * 2)))]
    args += ["-map", f"[{sound}]", "-c:a", "aac", "-b:a", "160k", "-ar", str(SAMPLE_RATE)]
    args += ["-movflags", "+faststart", "-progress", "pipe:1", "-nostats", output]
    return Command(args, float(Fraction(frames) / fps), frames if picture is not None else 0,
                   "mp4" if picture is not None else "m4a")  # fmt: skip


async def run_render(command: Command, on_progress: Callable[[float], Awaitable[bool]], *, max_seconds: float) -> None:
    """Run ffmpeg; ``on_progress`` gets the percent done at most every :data:`REPORT_EVERY` seconds
    and answers whether to go on (``False``: kill ffmpeg, :class:`Aborted`). ffmpeg never outlives
    this call (cancellation, timeout, abort)."""
    proc = await asyncio.create_subprocess_exec(
        *command.args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    stderr = asyncio.create_task(proc.stderr.read())
    deadline = time.monotonic() + max_seconds
    reported, done = 0.0, 0.0
    try:
        while True:
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), REPORT_EVERY)
            except TimeoutError:
                line = None
            if line == b"":
                break
            if line:
                key, _, value = line.decode(errors="replace").strip().partition("=")
                if key == "out_time_us" and value.isdigit() and command.duration > 0:
                    done = min(99.0, int(value) / 1e6 / command.duration * 100)
            if time.monotonic() > deadline:
                raise RenderFailed(f"the render took longer than {max_seconds:g} s")
            if time.monotonic() - reported >= REPORT_EVERY:
                reported = time.monotonic()
                if not await on_progress(done):
                    raise Aborted()
        code = await proc.wait()
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        stderr.cancel()
        raise
    errors = (await stderr).decode(errors="replace").strip()
    if code != 0:
        raise RenderFailed(f"ffmpeg exited with {code}: {errors[-STDERR_TAIL:]}")
