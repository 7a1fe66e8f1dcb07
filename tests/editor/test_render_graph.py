"""The renderer's filter graph with real ffmpeg, beyond the one-group case the HTTP tests cover:
groups one after another, an image on the main track, an audio-only track mixed in at its
position, a video overlay, a sound-only output; and the XTL parser's strictness."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest

from mediaedge.ffmpeg import ffmpeg_exe
from origin.editor.render import Source, build_command, probe_source, run_render
from origin.editor.xtl import XtlError, parse_xtl
from tests.editor.render_stack import make_marker_clip
from tests.fixtures.media import make_png

pytestmark = pytest.mark.anyio
RATE = 48_000


def _tone(path: Path, seconds: float, frequency: int) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency={frequency}:duration={seconds}", "-c:a", "aac", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _probe(path: Path) -> dict[str, dict[str, str]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,nb_read_frames,width,height,r_frame_rate,duration", "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return {s["codec_type"]: s for s in orjson.loads(out)["streams"]}


def _loudness(path: Path, start: float, end: float) -> int:
    raw = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-ss", str(start), "-t", str(end - start), "-i", str(path),
         "-ac", "1", "-ar", str(RATE), "-f", "s16le", "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return max(abs(int.from_bytes(raw[i : i + 2], "little", signed=True)) for i in range(0, len(raw) - 1, 2))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("graph")
    return {
        "v": make_marker_clip(root / "v.mp4", seconds=4, size="320x240", fps=25, base=60),
        "tone": _tone(root / "tone.m4a", 1.0, 880),
        "still": make_png(root / "still.png", "blue", "100x50"),
    }


async def _render(task: str, media: dict[str, Path], out: Path, kinds: dict[str, str]) -> None:
    sources: dict[str, Source] = {}
    for name, kind in kinds.items():
        sources[name] = await probe_source(str(media[name]), kind)  # type: ignore[arg-type]
    command = build_command(parse_xtl(task).timelines[0], sources, str(out), preset="ultrafast")

    async def go_on(_: float) -> bool:
        return True

    await run_render(command, go_on, max_seconds=120)


async def test_groups_images_mixed_sound_and_a_video_overlay(media: dict[str, Path], tmp_path: Path) -> None:
    # Group 1: 1 s of video, then 0.5 s of a still image; a tone mixed in from 0.2 s (it has no sound
    # of its own between flashes). Group 2: 1 s of video with the same video as a small overlay.
    task = """<timelines><timeline fps="25" width="320" height="240">
      <group>
        <track><clip src="v" start="00:00:00:20" stop="00:00:01:20" timeFormat="time10ms"/>
               <clip src="still" start="0" stop="5000000"/></track>
        <track video="0" audio="1"><clip src="tone" start="0" stop="3000000" position="2000000"/></track>
      </group>
      <group>
        <track><clip src="v" start="20000000" stop="30000000"/></track>
        <track video="1" audio="0"><clip src="v" start="0" stop="5000000" position="2500000" width="80"/></track>
      </group>
    </timeline></timelines>"""
    out = tmp_path / "groups.mp4"
    await _render(task, media, out, {"v": "video", "tone": "audio", "still": "image"})
    streams = _probe(out)
    assert int(streams["video"]["nb_read_frames"]) == 25 + 13 + 25  # 1 s, 0.5 s (12.5: 13), 1 s
    assert abs(float(streams["audio"]["duration"]) - 63 / 25) < 0.05
    # The tone (880 Hz) sounds from 0.2 s to 0.5 s of group 1, where the video is silent (0.4-0.8 s
    # of the source: between its flashes at whole seconds).
    assert _loudness(out, 0.25, 0.45) > 3000
    assert _loudness(out, 0.55, 0.75) < 300


async def test_a_timeline_without_video_is_sound_only(media: dict[str, Path], tmp_path: Path) -> None:
    task = """<timelines><timeline><group>
      <track video="0" audio="1"><clip src="tone" start="0" stop="10000000"/></track>
    </group></timeline></timelines>"""
    out = tmp_path / "sound.m4a"
    await _render(task, media, out, {"tone": "audio"})
    streams = _probe(out)
    assert "video" not in streams and abs(float(streams["audio"]["duration"]) - 1.0) < 0.05


@pytest.mark.parametrize(
    ("task", "where"),
    [
        ("not xml", "<timelines>"),
        ("<timeline/>", "<timeline>"),
        ("<timelines><timeline><group/></timeline></timelines>", "<group>"),
        (
            "<timelines><timeline><group><track><clip src='a' start='0' stop='1' position='0'/></track></group>"
            "</timeline></timelines>",
            "<clip> attribute 'position'",
        ),
        (
            "<timelines><timeline width='100'><group><track><clip src='a' start='0' stop='1'/></track></group>"
            "</timeline></timelines>",
            "<timeline> attribute 'height'",
        ),
        (
            "<timelines><timeline fps='0'><group><track><clip src='a' start='0' stop='1'/></track></group>"
            "</timeline></timelines>",
            "<timeline> attribute 'fps'",
        ),
        (
            "<timelines><timeline><group><track><clip src='a' start='0' stop='1' timeFormat='frames'/></track>"
            "</group></timeline></timelines>",
            "<clip> attribute 'timeFormat'",
        ),
        (
            "<timelines><timeline><group><track><clip src='a' start='5' stop='5'/></track></group></timeline>"
            "</timelines>",
            "<clip> attribute 'stop'",
        ),
        ("<timelines><timeline><group><track><span/></track></group></timeline></timelines>", "<span>"),
        ('<!DOCTYPE t [<!ENTITY x "y">]><timelines/>', "<timelines>"),
    ],
)
def test_the_parser_is_strict(task: str, where: str) -> None:
    with pytest.raises(XtlError) as caught:
        parse_xtl(task)
    assert caught.value.status == 400 and where in caught.value.message, caught.value.message


def test_times_in_both_formats() -> None:
    task = parse_xtl(
        "<timelines><timeline><group><track>"
        "<clip src='a' start='01:02:03:45' stop='01:02:04:00' timeFormat='time10ms'/>"
        "<clip src='b' start='15000000' stop='25000000'/>"
        "</track></group></timeline></timelines>"
    )
    (a, b) = task.timelines[0].groups[0].tracks[0].clips
    assert (a.start, a.stop) == (3723.45, 3724.0) and (b.start, b.stop) == (1.5, 2.5)
