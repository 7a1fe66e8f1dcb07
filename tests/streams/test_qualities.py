"""Seed 001's qualities rules, and how the ffmpeg provider turns a config into renditions."""

from __future__ import annotations

import pytest
from mediaedge_stream_ffmpeg.ladder import plan_ladder, scaled_size
from mediaedge_stream_ffmpeg.probe import SourceInfo

from mediaedge.qualities import AudioConfig, QualitiesError, VideoConfig, default_qualities, parse_qualities
from mediaedge.streams import ProviderRejected

V720 = {
    "resolution": "720p",
    "type": "hls",
    "container_type": "mpegts",
    "video_config": {"codec": "h264", "bitrate": 3_000_000},
}
SOURCE_360 = SourceInfo(640, 360, 25.0, 10.0, video_tracks=1, audio_tracks=1)


def with_(base: dict, **changes: object) -> dict:
    return {**base, **changes}


@pytest.mark.parametrize(
    ("qualities", "reason"),
    [
        ([], "qualities: must be a non-empty array"),
        ("720p", "qualities: must be a non-empty array"),
        ([V720] * 13, "qualities: at most 12 entries"),
        (["720p"], "qualities[0]: must be an object"),
        ([with_(V720, bitrate=1)], "qualities[0]: unknown field 'bitrate'"),
        ([with_(V720, type="rtmp")], 'qualities[0].type: must be "hls" or "dash"'),
        ([with_(V720, container_type="fmp4")], 'qualities[0].container_type: must be "mpegts" or "mp4" for type hls'),
        ([with_(V720, type="dash")], 'qualities[0].container_type: must be "fmp4" for type dash'),
        ([with_(V720, resolution="900p")], "qualities[0].resolution: must be one of 144p, 240p"),
        ([with_(V720, resolution="")], "qualities[0].resolution: must be a non-empty string"),
        ([with_(V720, video_config={"codec": "vp9"})], "qualities[0].video_config.codec: only h264, h265"),
        (
            [with_(V720, video_config={"bitrate": 4_000_001})],
            "qualities[0].video_config.bitrate: 4000001 exceeds the 720p maximum of 4000000 bps",
        ),
        ([with_(V720, resolution="240p", video_config={"bitrate": 700_001})], "exceeds the 240p maximum of 700000"),
        ([with_(V720, resolution="4320p", video_config={"bitrate": 60_000_001})], "the 4320p maximum of 60000000"),
        (
            [with_(V720, video_config={"bitrate": 0})],
            "qualities[0].video_config.bitrate: must be an integer of at least 1",
        ),
        ([with_(V720, video_config={"bitrate": "3M"})], "video_config.bitrate: must be an integer"),
        ([with_(V720, video_config={"bitrate": True})], "video_config.bitrate: must be an integer"),
        ([with_(V720, video_config={"bitrate": 2_500_000.5})], "video_config.bitrate: must be an integer"),
        (
            [with_(V720, video_config={"index": -1})],
            "qualities[0].video_config.index: must be an integer of at least 0",
        ),
        ([with_(V720, video_config={"codec": "h265"})], 'qualities[0].container_type: h265 needs "mp4"'),
        ([with_(V720, audio_config={"codec": "mp3"})], "qualities[0].audio_config.codec: only aac is supported"),
        (
            [with_(V720, audio_config={"sample_rate": 44_000})],
            "qualities[0].audio_config.sample_rate: must be one of 8000",
        ),
        (
            [with_(V720, audio_config={"channels": "6"})],
            'qualities[0].audio_config.channels: must be "1" (mono) or "2"',
        ),
        ([with_(V720, audio_config={"bitrate": 600_000})], "qualities[0].audio_config.bitrate: at most 512000 bps"),
        ([with_(V720, audio_config={"language": "english"})], "qualities[0].audio_config.language: must be an ISO 639"),
        ([with_(V720, audio_config={"volume": 2})], "qualities[0].audio_config: unknown field 'volume'"),
        ([with_(V720, audio_config="aac")], "qualities[0].audio_config: must be an object"),
        ([{"resolution": "audio", "video_config": {"bitrate": 1}}], "qualities[0].resolution: must be one of"),
        ([V720, with_(V720, container_type="mp4")], "hls video qualities must share one container_type"),
        ([V720, with_(V720, video_config={"bitrate": 2_000_000})], "qualities[1]: duplicates an earlier quality"),
        (
            [{"resolution": "a", "audio_config": {}}, {"resolution": "b", "audio_config": {}}],
            "qualities[1]: duplicates",
        ),
    ],
)
def test_invalid_configs_are_refused_with_the_reason(qualities: object, reason: str):
    with pytest.raises(QualitiesError) as raised:
        parse_qualities(qualities)
    assert reason in str(raised.value)


def test_the_seed_example_is_valid_and_defaults_are_filled_in():
    config = parse_qualities(
        [
            {
                "resolution": "1080p",
                "type": "hls",
                "container_type": "mpegts",
                "video_config": {"codec": "h264", "bitrate": 5_000_000, "index": 0},
                "audio_config": {
                    "codec": "aac",
                    "bitrate": 192_000,
                    "channels": "2",
                    "sample_rate": 48_000,
                    "language": "en",
                    "index": 0,
                },
            },
            {
                "resolution": "720p",
                "type": "dash",
                "container_type": "fmp4",
                "video_config": {"codec": "h265", "bitrate": 3_000_000, "index": 0},
            },
            {
                "resolution": "audio",
                "type": "dash",
                "container_type": "fmp4",
                "audio_config": {"codec": "aac", "bitrate": 192_000, "channels": "2", "sample_rate": 48_000},
            },
        ]
    )
    hls, dash, audio = config.qualities
    (bare,) = parse_qualities([{"resolution": "480p"}]).qualities
    assert hls.audio == AudioConfig(bitrate=192_000, language="en") and not hls.fmp4
    assert dash.video == VideoConfig("h265", 3_000_000) and dash.audio is None and dash.fmp4
    assert audio.video is None and audio.audio == AudioConfig(bitrate=192_000)
    assert (bare.type, bare.container_type, bare.video, bare.audio) == (
        "hls",
        "mp4",
        VideoConfig("h264", 1_400_000),
        AudioConfig(),
    )
    assert parse_qualities(config.to_list()) == config


def test_scaling_keeps_the_source_shape_with_even_sides():
    assert scaled_size(240, 640, 360) == (426, 240)  # the seed's 426 × 240
    assert scaled_size(480, 1920, 1080) == (854, 480)
    assert scaled_size(360, 1080, 1920) == (360, 640)  # portrait: the short side is the width
    assert scaled_size(144, 640, 480) == (192, 144)


def test_the_default_ladder_keeps_the_rungs_the_source_can_fill():
    ladder = plan_ladder(default_qualities(), SOURCE_360)
    assert [(v.name, v.width, v.height, v.bitrate) for v in ladder.cmaf_video] == [
        ("360p", 640, 360, 800_000),
        ("240p", 426, 240, 400_000),
    ]
    assert [a.name for a in ladder.cmaf_audio] == ["audio-128k"] and not ladder.ts_variants


def test_renditions_above_the_source_are_skipped_and_an_empty_ladder_refused():
    config = parse_qualities([{"resolution": "1080p"}, {"resolution": "360p"}])
    assert [v.name for v in plan_ladder(config, SOURCE_360).video] == ["360p"]
    with pytest.raises(ProviderRejected, match="every video quality is above the source resolution"):
        plan_ladder(parse_qualities([{"resolution": "480p"}]), SOURCE_360)


def test_sources_without_audio_or_video_keep_what_they_can():
    silent = SourceInfo(640, 360, 25.0, 10.0, video_tracks=1, audio_tracks=0)
    ladder = plan_ladder(parse_qualities([{"resolution": "360p"}]), silent)
    assert [v.name for v in ladder.video] == ["360p"] and not ladder.cmaf_audio
    sound = SourceInfo(0, 0, 25.0, 10.0, video_tracks=0, audio_tracks=1)
    with pytest.raises(ProviderRejected, match="no video track"):
        plan_ladder(parse_qualities([{"resolution": "360p"}]), sound)
    audio_only = plan_ladder(parse_qualities([{"resolution": "audio", "type": "dash"}]), sound)
    assert [a.name for a in audio_only.cmaf_audio] == ["audio-128k"]
    with pytest.raises(ProviderRejected, match="no audio track 1"):
        plan_ladder(parse_qualities([{"resolution": "a", "audio_config": {"index": 1}}]), SOURCE_360)


def test_rendition_names_are_unique_directories():
    config = parse_qualities(
        [
            {"resolution": "240p", "type": "dash"},
            {"resolution": "240p", "type": "hls", "container_type": "mpegts"},
            {"resolution": "240p", "type": "dash", "video_config": {"codec": "h265"}},
            {"resolution": "en", "type": "dash", "audio_config": {"language": "en"}},
        ]
    )
    ladder = plan_ladder(config, SOURCE_360)
    assert [v.name for v in ladder.video] == ["240p", "240p-h265", "240p-2"]
    assert [a.name for a in ladder.cmaf_audio] == ["audio-128k", "audio-128k-en"]
