"""The ffmpeg provider's output: playlists, MPD, renditions, segment lengths, keyframes, images."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from mediaedge.ffmpeg import ffmpeg_exe, ffprobe_exe
from mediaedge.qualities import RESOLUTIONS
from mediaedge.streams import ProviderRejected
from tests.streams.conftest import PREFIX, Ladder, transcode

DASH = "{urn:mpeg:dash:schema:mpd:2011}"
SEGMENT_SECONDS = 4.0
KEYFRAME_SECONDS = 2.0
VIDEO = {"360p": (640, 360, 800_000), "240p": (426, 240, 400_000), "144p": (256, 144, 200_000)}


def attributes(line: str) -> dict[str, str]:
    """``#TAG:A=1,B="x,y"`` → ``{"A": "1", "B": "x,y"}``."""
    body = line.split(":", 1)[1]
    return {k: v.strip('"') for k, v in re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', body)}


def master_variants(text: str) -> list[tuple[dict[str, str], str]]:
    lines = text.splitlines()
    return [(attributes(line), lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF")]


def media_segments(text: str) -> tuple[int, str | None, list[tuple[float, str]]]:
    """Target duration, the EXT-X-MAP URI and (duration, URI) per segment of a media playlist."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST"
    target = int(next(line for line in lines if line.startswith("#EXT-X-TARGETDURATION")).split(":")[1])
    init = next((attributes(line)["URI"] for line in lines if line.startswith("#EXT-X-MAP")), None)
    segments = [
        (float(line[8:].rstrip(",")), lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXTINF")
    ]
    return target, init, segments


def probe(path: Path | str, *args: str) -> dict:
    exe = ffprobe_exe()
    assert exe, "ffprobe is needed"
    out = subprocess.run(
        [exe, "-v", "error", "-print_format", "json", *args, str(path)], check=True, capture_output=True
    ).stdout
    return json.loads(out)


def rendition_file(ladder: Ladder, name: str, tmp_path: Path) -> Path:
    """The rendition's init segment and media segments joined into one playable MP4."""
    _, init, segments = media_segments((ladder.dir / name / "index.m3u8").read_text())
    joined = tmp_path / f"{name}.mp4"
    assert init is not None
    joined.write_bytes(b"".join((ladder.dir / name / uri).read_bytes() for uri in [init, *(s for _, s in segments)]))
    return joined


def test_master_playlist_lists_each_video_rendition_with_the_shared_audio_group(ladder: Ladder):
    text = (ladder.dir / "master.m3u8").read_text()
    variants = master_variants(text)
    assert [uri for _, uri in variants] == ["360p/index.m3u8", "240p/index.m3u8", "144p/index.m3u8"]
    for attrs, uri in variants:
        width, height, _ = VIDEO[uri.split("/")[0]]
        assert attrs["RESOLUTION"] == f"{width}x{height}"
        assert re.fullmatch(r"avc1\.[0-9a-f]{6},mp4a\.40\.2", attrs["CODECS"])
        assert int(attrs["BANDWIDTH"]) >= int(attrs["AVERAGE-BANDWIDTH"]) > 0
        assert attrs["AUDIO"] == "audio"
    audio = [attributes(line) for line in text.splitlines() if line.startswith("#EXT-X-MEDIA:")]
    assert audio == [
        {
            "TYPE": "AUDIO",
            "GROUP-ID": "audio",
            "NAME": "audio-128k",
            "DEFAULT": "YES",
            "AUTOSELECT": "YES",
            "CHANNELS": "2",
            "URI": "audio-128k/index.m3u8",
        }
    ]


@pytest.mark.parametrize("name", ["360p", "240p", "144p", "audio-128k"])
def test_media_playlists_reference_existing_fmp4_segments_no_longer_than_the_target(ladder: Ladder, name: str):
    text = (ladder.dir / name / "index.m3u8").read_text()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text
    target, init, segments = media_segments(text)
    assert target == SEGMENT_SECONDS
    assert init == "init.m4s" and (ladder.dir / name / init).stat().st_size > 0
    assert all((ladder.dir / name / uri).is_file() for _, uri in segments)
    assert all(round(seconds) <= target for seconds, _ in segments)
    assert all(abs(seconds - SEGMENT_SECONDS) < 0.05 for seconds, _ in segments[:-1])  # only the last is short
    assert sum(seconds for seconds, _ in segments) == pytest.approx(10.0, abs=0.05)


def test_the_mpd_references_the_same_segments_as_the_hls_playlists(ladder: Ladder):
    mpd = ET.parse(ladder.dir / "manifest.mpd").getroot()
    assert mpd.get("type") == "static" and mpd.get("mediaPresentationDuration") == "PT10.0S"
    sets = mpd.findall(f"{DASH}Period/{DASH}AdaptationSet")
    assert [s.get("contentType") for s in sets] == ["video", "audio"]
    for rep in mpd.iter(f"{DASH}Representation"):
        template = rep.find(f"{DASH}SegmentTemplate")
        assert template is not None
        name = template.get("initialization", "").split("/")[0]
        number = int(template.get("startNumber", "1"))
        count = sum(int(s.get("r", "0")) + 1 for s in template.iter(f"{DASH}S"))
        media = [template.get("media", "").replace("$Number%05d$", f"{n:05d}") for n in range(number, number + count)]
        _, init, segments = media_segments((ladder.dir / name / "index.m3u8").read_text())
        assert template.get("initialization") == f"{name}/{init}"
        assert media == [f"{name}/{uri}" for _, uri in segments]  # one set of CMAF segments for both
        if name in VIDEO:
            assert (int(rep.get("width", 0)), int(rep.get("height", 0))) == VIDEO[name][:2]


@pytest.mark.parametrize("name", list(VIDEO))
def test_each_rendition_has_its_codec_size_and_bitrate(ladder: Ladder, name: str, tmp_path: Path):
    doc = probe(rendition_file(ladder, name, tmp_path), "-show_streams", "-show_format")
    (stream,) = doc["streams"]
    width, height, target = VIDEO[name]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", width, height)
    bitrate = int(doc["format"]["size"]) * 8 / float(doc["format"]["duration"])
    assert bitrate <= min(RESOLUTIONS[name].max_bitrate, target * 1.25)


def test_keyframes_are_aligned_across_renditions(ladder: Ladder, tmp_path: Path):
    keyframes = {}
    for name in VIDEO:
        packets = probe(
            rendition_file(ladder, name, tmp_path), "-select_streams", "v", "-show_entries", "packet=pts_time,flags"
        )["packets"]
        keyframes[name] = [round(float(p["pts_time"]), 3) for p in packets if "K" in p["flags"]]
    assert keyframes["360p"] == keyframes["240p"] == keyframes["144p"]
    assert keyframes["360p"] == pytest.approx([n * KEYFRAME_SECONDS for n in range(5)], abs=0.05)


@pytest.mark.parametrize("manifest", ["master.m3u8", "manifest.mpd"])
def test_ffmpeg_plays_the_hls_and_dash_manifests(ladder: Ladder, manifest: str):
    streams = probe(ladder.dir / manifest, "-show_entries", "stream=codec_name,width,height")["streams"]
    assert {(s["codec_name"], s.get("width")) for s in streams} == {
        ("h264", 640),
        ("h264", 426),
        ("h264", 256),
        ("aac", None),
    }


def test_poster_and_storyboard_for_scrubbing(ladder: Ladder):
    (poster,) = probe(ladder.dir / "poster.jpg", "-show_streams")["streams"]
    assert (poster["codec_name"], poster["width"], poster["height"]) == ("mjpeg", 640, 360)
    (sprite,) = probe(ladder.dir / "storyboard.jpg", "-show_streams")["streams"]
    assert (sprite["width"], sprite["height"]) == (1600, 90)  # ten 160x90 thumbnails, one per second
    vtt = (ladder.dir / "storyboard.vtt").read_text().split("\n\n")
    assert vtt[0] == "WEBVTT"
    cues = [c.splitlines() for c in vtt[1:] if c]
    assert cues[0] == ["00:00:00.000 --> 00:00:01.000", "storyboard.jpg#xywh=0,0,160,90"]
    assert cues[-1] == ["00:00:09.000 --> 00:00:10.000", "storyboard.jpg#xywh=1440,0,160,90"]


def test_result_has_edge_urls_renditions_and_progress_was_reported(ladder: Ladder):
    result = ladder.result
    assert (result.state, result.uid, result.duration) == ("ready", "s1", 10.0)
    assert result.hls_url == f"https://edge.test/F1/{PREFIX}master.m3u8"
    assert result.dash_url == f"https://edge.test/F1/{PREFIX}manifest.mpd"
    assert result.thumbnail == f"https://edge.test/F1/{PREFIX}poster.jpg"
    assert result.outputs["storyboard"] == f"https://edge.test/F1/{PREFIX}storyboard.vtt"
    assert [r["name"] for r in result.outputs["renditions"]] == ["360p", "240p", "144p", "audio-128k"]
    progress = [p for status, p in ladder.reports.calls if status == "processing"]
    assert progress and all(0 <= p < 100 for p in progress if p is not None)
    assert ladder.reports.calls[-1] == ("downloading", None)


def test_nothing_but_the_stream_is_in_its_prefix(ladder: Ladder):
    files = {p.relative_to(ladder.dir).as_posix() for p in ladder.dir.rglob("*") if p.is_file()}
    top = {f for f in files if "/" not in f}
    assert top == {"master.m3u8", "manifest.mpd", "poster.jpg", "storyboard.jpg", "storyboard.vtt", "video.mp4"}
    assert {f.split("/")[0] for f in files - top} == {"360p", "240p", "144p", "audio-128k"}


def test_renditions_are_made_one_at_a_time_smallest_first_each_playable_once_published(ladder: Ladder):
    snapshots = [
        ({r["name"]: r["status"] for r in stream.outputs["renditions"]}, stream, master)
        for stream, master in ladder.published.calls
    ]
    started = [next(n for n, status in s.items() if status == "processing") for s, _, _ in snapshots[::2][:4]]
    assert started == ["audio-128k", "144p", "240p", "360p"]  # audio first, then video by size
    first_playable = next((s, stream, master) for s, stream, master in snapshots if stream.hls_url)
    statuses, stream, master = first_playable
    assert statuses == {"audio-128k": "ready", "144p": "ready", "240p": "queued", "360p": "queued"}
    assert master is not None and [uri for _, uri in master_variants(master)] == ["144p/index.m3u8"]
    assert stream.state == "processing" and stream.dash_url and stream.thumbnail is None
    qualities = {q["name"]: q["renditions"] for q in stream.outputs["qualities"]}
    assert qualities == {"360p": ["360p"], "240p": ["240p"], "144p": ["144p"], "audio": ["audio-128k"]}
    last = ladder.published.calls[-1][0]
    assert {r["status"] for r in last.outputs["renditions"]} == {"ready"}
    assert last.outputs["mp4"] == {
        "status": "ready",
        "name": "video.mp4",
        "rendition": "360p",
        "codec": "h264",
        "size": (ladder.dir / "video.mp4").stat().st_size,
    }


def top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4 file's top-level boxes, in file order (ISO/IEC 14496-12 box headers)."""
    data, boxes, at = path.read_bytes(), [], 0
    while at < len(data):
        size, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8].decode("latin-1")
        if size == 1:  # a 64-bit size follows the type
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - at
        assert size >= 8, f"corrupt box {kind!r} at {at}"
        boxes.append(kind)
        at += size
    return boxes


def test_the_progressive_mp4_is_faststart_h264_aac_from_the_highest_rendition(ladder: Ladder):
    mp4 = ladder.dir / "video.mp4"
    boxes = top_level_boxes(mp4)
    assert boxes[0] == "ftyp" and "moof" not in boxes  # progressive, not fragmented
    assert boxes.index("moov") < boxes.index("mdat")
    found = probe(mp4, "-show_streams", "-show_format")
    streams = {s["codec_type"]: s for s in found["streams"]}
    assert (streams["video"]["codec_name"], streams["video"]["width"], streams["video"]["height"]) == ("h264", 640, 360)
    assert (streams["audio"]["codec_name"], int(streams["audio"]["sample_rate"])) == ("aac", 48_000)
    assert float(found["format"]["duration"]) == pytest.approx(10, abs=0.2)
    decoded = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(mp4), "-f", "null", "-"], capture_output=True, check=True
    )
    assert decoded.stderr == b""  # every frame decodes


@pytest.mark.anyio
async def test_mpegts_hls_variants_beside_an_hevc_dash_rendition(tmp_path: Path, clip: Path):
    qualities: list[dict[str, Any]] = [
        {
            "resolution": "240p",
            "type": "hls",
            "container_type": "mpegts",
            "video_config": {"bitrate": 400_000},
            "audio_config": {"bitrate": 96_000},
        },
        {"resolution": "144p", "type": "hls", "container_type": "mpegts", "video_config": {"bitrate": 200_000}},
        {
            "resolution": "audio",
            "type": "hls",
            "container_type": "mpegts",
            "audio_config": {"bitrate": 64_000, "sample_rate": 44_100, "channels": "1"},
        },
        {"resolution": "144p", "type": "dash", "video_config": {"codec": "h265", "bitrate": 200_000}},
        {"resolution": "1080p", "type": "dash"},  # above the 360p source: skipped
    ]
    _, result, _ = await transcode(tmp_path, clip, qualities)
    out = tmp_path / "objects" / PREFIX
    assert [uri for _, uri in master_variants((out / "master.m3u8").read_text())] == [
        "240p/index.m3u8",
        "144p/index.m3u8",
    ]
    for name, rate, channels in [("240p", 48_000, 2), ("144p", 44_100, 1)]:  # 144p takes the audio-only quality's
        _, init, segments = media_segments((out / name / "index.m3u8").read_text())
        assert init is None and all(uri.endswith(".ts") for _, uri in segments)
        streams = probe(out / name / segments[0][1], "-show_streams")["streams"]
        audio = [s for s in streams if s["codec_type"] == "audio"]
        assert (int(audio[0]["sample_rate"]), audio[0]["channels"]) == (rate, channels)
    mpd = ET.parse(out / "manifest.mpd").getroot()
    assert [r.get("codecs") for r in mpd.iter(f"{DASH}Representation")] == ["hvc1"]
    streams = probe(out / "manifest.mpd", "-show_entries", "stream=codec_name,codec_tag_string")["streams"]
    assert streams == [{"codec_name": "hevc", "codec_tag_string": "hvc1"}]
    assert [(r["name"], r["packaging"]) for r in result.outputs["renditions"]] == [
        ("144p-h265", "cmaf"),
        ("240p", "mpegts"),
        ("144p", "mpegts"),
    ]
    mp4 = probe(out / "video.mp4", "-show_streams")["streams"]  # the highest H.264 variant, remuxed from TS
    assert [(s["codec_name"], s.get("height")) for s in mp4] == [("h264", 240), ("aac", None)]
    assert top_level_boxes(out / "video.mp4").index("moov") < top_level_boxes(out / "video.mp4").index("mdat")


@pytest.mark.anyio
async def test_a_ladder_entirely_above_the_source_is_refused_before_encoding(tmp_path: Path, clip: Path):
    with pytest.raises(ProviderRejected, match=r"above the source resolution \(640x360\)"):
        await transcode(tmp_path, clip, [{"resolution": "720p"}, {"resolution": "1080p"}])
    assert not (tmp_path / "objects" / PREFIX).exists()
