"""The ffmpeg command that makes a ladder (or one rendition of it: a ladder of one): one decode feeding
every rendition it holds.

Every video rendition gets the same keyframe grid (``-force_key_frames`` every ``keyframe_seconds``,
``-g``/``-keyint_min`` at the same distance, no scene-cut keyframes), so segments of all renditions
start on the same frame and players switch cleanly. Outputs of the run:

- ``manifest.mpd`` + ``r{N}/init.m4s``, ``r{N}/seg_00001.m4s`` … (CMAF renditions; dash muxer)
- ``master.m3u8`` + ``{name}/index.m3u8``, ``{name}/seg_00000.ts`` … (MPEG-TS variants; hls muxer)
- ``poster.jpg`` and ``storyboard.jpg``
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from mediaedge.ffmpeg import ffmpeg_exe
from mediaedge.qualities import AudioConfig
from mediaedge_stream_ffmpeg.ladder import Ladder, VideoRendition
from mediaedge_stream_ffmpeg.probe import SourceInfo
from mediaedge_stream_ffmpeg.storyboard import Storyboard

ENCODERS = {"h264": "libx264", "h265": "libx265"}
POSTER = "poster.jpg"
MPD = "manifest.mpd"
MASTER = "master.m3u8"


@dataclass(frozen=True)
class EncodeOptions:
    preset: str
    segment_seconds: float
    keyframe_seconds: float


def poster_time(duration: float) -> float:
    """Where the poster frame is taken: a tenth in, at most 10 s."""
    return round(min(duration / 10, 10.0), 3)


def cmaf_dir(index: int) -> str:
    """Directory ffmpeg writes CMAF representation ``index`` to (renamed when packaged)."""
    return f"r{index}"


def build_command(
    source: str,
    info: SourceInfo,
    ladder: Ladder,
    opts: EncodeOptions,
    out: Path,
    storyboard: Storyboard | None,
    poster: bool = True,
) -> list[str]:
    """The argv; ``out`` must hold the ``r{N}`` directories already (the dash muxer does not create them).
    ``poster``: also write the poster (from the largest rendition), as a ladder with video does by default."""
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if source.startswith(("http://", "https://")):
        args += ["-reconnect", "1", "-reconnect_on_network_error", "1"]
    args += ["-i", source]
    video = ladder.video
    poster = poster and bool(video)
    if video:
        args += ["-filter_complex", _filter_graph(video, info, storyboard, poster)]
    gop = max(1, round(info.fps * opts.keyframe_seconds))
    if ladder.cmaf:
        args += _cmaf_output(ladder, opts, gop, out)
    if ladder.ts_variants:
        args += _ts_output(ladder, opts, gop, out)
    if poster:
        args += ["-map", "[poster]", "-frames:v", "1", "-update", "1", "-q:v", "3", str(out / POSTER)]
    if storyboard:
        args += ["-map", "[storyboard]", "-frames:v", "1", "-update", "1", "-q:v", "5", str(out / "storyboard.jpg")]
    return [*args, "-progress", "pipe:1", "-nostats"]


def _filter_graph(
    video: tuple[VideoRendition, ...], info: SourceInfo, storyboard: Storyboard | None, poster: bool
) -> str:
    """The filters from the decoded source to every rendition, the poster and the storyboard.

    Per source video track, a cascade: the largest rendition is scaled from the source, each smaller
    one from the rendition above it, which costs far less than scaling each from full size. The
    poster comes from the largest rendition, the storyboard from the smallest of its track.
    """
    top = max(video, key=lambda v: v.height)
    chains = []
    for track in dict.fromkeys(v.track for v in video):
        rungs = sorted(((i, v) for i, v in enumerate(video) if v.track == track), key=lambda r: -r[1].height)
        source = f"[0:v:{track}]"
        for n, (i, v) in enumerate(rungs):
            outs, extra = [f"[v{i}]"], []
            if v is top and poster:
                outs.append("[p]")
                extra.append(f"[p]trim=start={poster_time(info.duration)},setsar=1[poster]")
            if n + 1 < len(rungs):
                outs.append(f"[t{track}r{n}]")
            elif storyboard and track == top.track:
                outs.append("[s]")
                extra.append(f"[s]{storyboard.filter()}[storyboard]")
            scale = f"{source}scale={v.width}:{v.height}" + (",format=yuv420p" if n == 0 else "")
            chains.append(scale + (f",split={len(outs)}" if len(outs) > 1 else "") + "".join(outs))
            chains += extra
            source = f"[t{track}r{n}]"
    return ";".join(chains)


def _video_args(
    renditions: list[VideoRendition], all_video: tuple[VideoRendition, ...], opts: EncodeOptions, gop: int
) -> list[str]:
    """Maps and encoder settings for ``renditions``, the video streams of one output file in order."""
    args = [
        "-preset",
        opts.preset,
        "-g",
        str(gop),
        "-keyint_min",
        str(gop),
        "-sc_threshold",
        "0",
        "-force_key_frames",
        f"expr:gte(t,n_forced*{opts.keyframe_seconds:g})",
    ]
    for j, v in enumerate(renditions):
        maxrate = min(v.max_bitrate, v.bitrate * 3 // 2)
        args += [
            "-map",
            f"[v{all_video.index(v)}]",
            f"-c:v:{j}",
            ENCODERS[v.codec],
            f"-b:v:{j}",
            str(v.bitrate),
            f"-maxrate:v:{j}",
            str(maxrate),
            f"-bufsize:v:{j}",
            str(2 * maxrate),
        ]
        if v.codec == "h265":
            args += [
                f"-tag:v:{j}",
                "hvc1",
                f"-x265-params:v:{j}",
                f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error",
            ]
    return args


def _audio_args(configs: list[AudioConfig]) -> list[str]:
    """Maps and encoder settings for the audio streams of one output file, in order."""
    args: list[str] = []
    for k, a in enumerate(configs):
        args += [
            "-map",
            f"0:a:{a.index}",
            f"-c:a:{k}",
            "aac",
            f"-b:a:{k}",
            str(a.bitrate),
            f"-ar:a:{k}",
            str(a.sample_rate),
            f"-ac:a:{k}",
            str(a.channels),
        ]
        if a.language:
            args += [f"-metadata:s:a:{k}", f"language={a.language}"]
    return args


def _cmaf_output(ladder: Ladder, opts: EncodeOptions, gop: int, out: Path) -> list[str]:
    videos, audios = list(ladder.cmaf_video), [a.config for a in ladder.cmaf_audio]
    sets: dict[str, list[int]] = defaultdict(list)  # one adaptation set per codec and per audio language
    for i, v in enumerate(videos):
        sets[v.codec].append(i)
    for k, a in enumerate(audios):
        sets[f"audio-{a.language}"].append(len(videos) + k)
    adaptation_sets = " ".join(
        f"id={n},streams={','.join(map(str, streams))}" for n, streams in enumerate(sets.values())
    )
    return [
        *(_video_args(videos, ladder.video, opts, gop) if videos else []),
        *_audio_args(audios),
        "-f",
        "dash",
        "-seg_duration",
        f"{opts.segment_seconds:g}",
        "-use_template",
        "1",
        "-use_timeline",
        "1",
        "-init_seg_name",
        "r$RepresentationID$/init.$ext$",
        "-media_seg_name",
        "r$RepresentationID$/seg_$Number%05d$.$ext$",
        "-dash_segment_type",
        "mp4",
        "-adaptation_sets",
        adaptation_sets,
        str(out / MPD),
    ]


def _ts_output(ladder: Ladder, opts: EncodeOptions, gop: int, out: Path) -> list[str]:
    videos = [t.video for t in ladder.ts_variants if t.video]
    audios = [t.audio for t in ladder.ts_variants if t.audio]
    stream_map, v, a = [], 0, 0
    for t in ladder.ts_variants:
        parts = []
        if t.video:
            parts.append(f"v:{v}")
            v += 1
        if t.audio:
            parts.append(f"a:{a}")
            a += 1
        stream_map.append(",".join([*parts, f"name:{t.name}"]))
    return [
        *(_video_args(videos, ladder.video, opts, gop) if videos else []),
        *_audio_args(audios),
        "-f",
        "hls",
        "-hls_time",
        f"{opts.segment_seconds:g}",
        "-hls_playlist_type",
        "vod",
        "-hls_segment_type",
        "mpegts",
        "-hls_flags",
        "independent_segments",
        "-master_pl_name",
        MASTER,
        "-var_stream_map",
        " ".join(stream_map),
        "-hls_segment_filename",
        str(out / "%v" / "seg_%05d.ts"),
        str(out / "%v" / "index.m3u8"),
    ]
