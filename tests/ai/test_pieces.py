"""Small parts: chunk planning at pauses, the PocketSphinx decoder settings, cue grouping, WebVTT times,
espeak voice choice, image requests."""

from __future__ import annotations

import pytest
from mediaedge_ai_espeak.voices import parse_catalogue
from mediaedge_ai_pocketsphinx import PocketSphinxProvider, decode
from mediaedge_ai_pocketsphinx.silences import parse_silences, plan_chunks

from mediaedge.ai import AIRejected, ImageRequest, Word, cues_from_words, image_mime, parse_webvtt
from mediaedge.ai.transcripts import format_timestamp
from mediaedge.plugins import configure_plugins, get_plugin_manager
from mediaedge.settings import SettingsError
from tests.fixtures.origin import make_settings


def test_chunks_cut_mid_pause_once_long_enough_and_never_past_the_longest():
    silences = [(9.0, 11.0), (12.0, 12.4), (25.0, 26.0)]
    assert plan_chunks(silences, 100.0, target=8, longest=30) == [
        (0, 10.0),
        (10.0, 25.5),
        (25.5, 55.5),
        (55.5, 85.5),
        (85.5, 100.0),
    ]
    assert plan_chunks([], 5.0, target=8, longest=30) == [(0, 5.0)]


def test_the_decoder_search_settings_reach_each_workers_decoder(tmp_path):
    table = {"maxhmmpf": 1200, "maxwpf": -1, "fwdflat": True, "bestpath": False, "ds": 2, "topn": 2}
    settings = configure_plugins(make_settings(tmp_path, plugins={"pocketsphinx": table}), get_plugin_manager())
    options = PocketSphinxProvider.from_settings(settings).options
    assert options.decoder == table
    decode.init_worker(16000, options.decoder)
    assert decode._decoder is not None
    assert {name: decode._decoder.config[name] for name in table} == table
    for bad in ({"maxhmmpf": 0}, {"maxwpf": -2}, {"ds": 0}, {"fwdflat": "no"}):
        with pytest.raises(SettingsError, match=f"plugins.pocketsphinx.{next(iter(bad))}"):
            configure_plugins(make_settings(tmp_path, plugins={"pocketsphinx": bad}), get_plugin_manager())


def test_silencedetect_log_parsing_closes_an_open_pause_at_the_end():
    log = (
        b"[silencedetect @ 0x1] silence_start: -0.01\n"
        b"[silencedetect @ 0x1] silence_end: 0.5 | silence_duration: 0.5\n"
        b"[silencedetect @ 0x1] silence_start: 7.25\n"
    )
    assert parse_silences(log, 9.0) == [(0.0, 0.5), (7.25, 9.0)]


def test_cues_break_on_pauses_and_length():
    words = [
        Word("a", 0, 0.5),
        Word("b", 0.6, 1.0),
        Word("c", 2.5, 3.0),
        *[Word("w", 3 + i, 3.5 + i) for i in range(8)],
    ]  # noqa: E501
    cues = cues_from_words(words, max_gap=0.8, max_seconds=5.0)
    assert [c.text for c in cues] == ["a b", "c w w w w w", "w w w"]  # a pause; then 5 s at most
    assert cues[0].words == tuple(words[:2]) and (cues[1].start, cues[1].end) == (2.5, 7.5)


def test_webvtt_round_trips_milliseconds():
    assert format_timestamp(3723.4567) == "01:02:03.457"
    cues = parse_webvtt("WEBVTT\n\n00:00:01.250 --> 00:01:02.500\nhello\nthere\n")
    assert [(c.start, c.end, c.text) for c in cues] == [(1.25, 62.5, "hello there")]
    with pytest.raises(ValueError, match="not a WebVTT"):
        parse_webvtt("1\n00:00:01,000 --> 00:00:02,000\nsrt\n")


VOICES = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  yue             --/M      Chinese_(Cantonese) sit/yue              (zh-yue 5)(zh 8)
 5  yue             --/M      Chinese_(Cantonese,_latin) sit/yue-Latn-jyutping (zh-yue 5)(zh 8)
"""
VARIANTS = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  variant         --/M      Klatt              !v/klatt
"""


def test_espeak_voice_choice():
    catalogue = parse_catalogue(VOICES, VARIANTS)
    assert [v.id for v in catalogue.voices] == ["en-gb", "en-us", "yue", "sit/yue-Latn-jyutping"]
    assert catalogue.choose("", "en-US") == "en-us"
    assert catalogue.choose("", "en") == "en-gb"  # espeak ranks en-gb first for "en"
    assert catalogue.choose("en-us+klatt", "en") == "en-us+klatt"
    for voice, language, message in [
        ("xx", "en", "no voice"),
        ("en-us+nope", "en", "no variant"),
        ("yue", "en", "speaks yue, not en"),
        ("", "fi", "no voice for 'fi'"),
    ]:
        with pytest.raises(AIRejected, match=message):
            catalogue.choose(voice, language)


def test_image_requests_check_size_and_aspect_ratio():
    assert ImageRequest("x", "1792x1024", aspect_ratio="7:4").width == 1792
    for size, ratio, message in [
        ("1024", None, "size"),
        ("10x10", None, "size"),
        ("1024x1024", "16:9", "does not match"),  # noqa: E501
        ("1024x1024", "0:1", "aspectRatio"),
    ]:
        with pytest.raises(AIRejected, match=message):
            ImageRequest("x", size, aspect_ratio=ratio)
    assert image_mime(b"\x89PNG\r\n\x1a\n....") == "image/png" and image_mime(b"<svg") is None
