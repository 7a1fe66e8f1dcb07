"""Captions (WebVTT and SRT, validated with line numbers), transcripts read from them, and signed stream
URLs; the captions appear in the asset's HLS master playlist and DASH MPD after a real ffmpeg transcode."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.tokens import KeySet
from tests.media.conftest import Media, drain

pytestmark = pytest.mark.anyio

VTT = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n<v Ann>Hello from the <b>captions</b>\n\n"
    "00:00:12.000 --> 00:00:14.000\nSecond cue\n"
)
SRT = "1\n00:00:00,500 --> 00:00:02,000\nBonjour\n\n2\n00:00:02,500 --> 00:00:04,000\n<i>le monde</i>\n"
DASH = "{urn:mpeg:dash:schema:mpd:2011}"


async def _edge_get(media: Media, key: str) -> Any:
    return await media.client.get(f"/_edge/objects/{key}", headers={EDGE_SECRET_HEADER: media.state.edge_secret})


async def test_captions_and_streams_of_a_transcoded_video(media: Media, clip: Path) -> None:
    asset = await media.upload(clip.read_bytes(), "video/mp4", "clip.mp4")
    url = f"/api/v1/media/{asset['id']}"
    early = await media.client.get(f"{url}/stream/hls/master/index.m3u8", headers=media.headers)
    assert early.status_code == 409 and early.json()["code"] == "media.transcoding"

    added = await media.client.post(
        f"{url}/captions", headers=media.headers, json={"language": "en-us", "content": VTT}
    )  # before the transcode ends
    assert added.status_code == 201, added.text
    caption = added.json()["data"]
    assert caption["language"] == "en-US" and caption["label"] == "English (United States)"
    assert caption["approved"] is True and caption["source"] == "manual" and caption["format"] == "vtt"

    assert await drain(media.state) == 1  # the ffmpeg transcode
    shown = (await media.client.get(url, headers=media.headers)).json()["data"]
    assert shown["status"] == "ready"
    assert {v["name"] for v in shown["variants"] if v["kind"] == "video"} >= {"360p"}
    assert shown["captions"][0]["language"] == "en-US"
    assert shown["transcript"]["language"] == "en-US"

    french = await media.client.post(
        f"{url}/captions", headers=media.headers, json={"language": "fr-FR", "content": SRT}
    )
    assert french.status_code == 201  # after: the manifests are rewritten at once
    listed = await media.client.get(f"{url}/captions", params={"lang": "fr-FR"}, headers=media.headers)
    assert [c["language"] for c in listed.json()["data"]] == ["fr-FR"]
    vtt_key = listed.json()["data"][0]["url"].split("/", 4)[4]
    stored = await _edge_get(media, vtt_key)
    assert stored.status_code == 200 and stored.text.startswith("WEBVTT") and "le monde" in stored.text

    redirect = await media.client.get(
        f"{url}/stream/hls/master/index.m3u8", headers={**media.headers, "X-User-Id": "student-9"}
    )
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    token, key = location.removeprefix(media.state.settings.edge.url + "/").split("/", 1)
    claims = KeySet.from_jwks((await media.client.get("/.well-known/jwks.json")).json()).verify(token)
    stream = await media.state.store.streams.get(
        (await media.state.store.assets.get(media.tenant.id, asset["id"])).stream_id  # type: ignore[union-attr]
    )
    assert stream is not None and key == f"{stream.output_prefix}master.m3u8"
    assert (claims.scope, claims.path, claims.aid, claims.sub) == (
        "prefix",
        stream.output_prefix,
        stream.id,
        "student-9",
    )

    master = (await _edge_get(media, key)).text
    subtitles = [line for line in master.splitlines() if line.startswith("#EXT-X-MEDIA:TYPE=SUBTITLES")]
    assert len(subtitles) == 2
    assert any('LANGUAGE="en-US"' in line and 'URI="subs/en-US/index.m3u8"' in line for line in subtitles)
    assert all('SUBTITLES="subs"' in line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF"))
    playlist = (await _edge_get(media, f"{stream.output_prefix}subs/en-US/index.m3u8")).text
    segments = [line for line in playlist.splitlines() if line.endswith(".vtt")]
    assert segments == ["seg_00000.vtt", "seg_00001.vtt"]  # 10 s segments over the 10 s clip + the cue at 12 s
    first = (await _edge_get(media, f"{stream.output_prefix}subs/en-US/seg_00000.vtt")).text
    assert "<v Ann>Hello from the <b>captions</b>" in first and "Second cue" not in first  # markup kept

    mpd_redirect = await media.client.get(f"{url}/stream/dash/master.mpd", headers=media.headers)
    assert mpd_redirect.status_code == 302 and mpd_redirect.headers["location"].endswith(".stream/manifest.mpd")
    mpd = ET.fromstring((await _edge_get(media, f"{stream.output_prefix}manifest.mpd")).content)
    texts = [a for a in mpd.iter(f"{DASH}AdaptationSet") if a.get("contentType") == "text"]
    assert sorted(a.get("lang") for a in texts) == ["en-US", "fr-FR"]
    assert all(a.find(f"{DASH}Representation/{DASH}BaseURL").text.endswith("/captions.vtt") for a in texts)

    variant = await media.client.get(f"{url}/stream/hls/360p/index.m3u8", headers=media.headers)
    assert variant.status_code == 302 and variant.headers["location"].endswith(".stream/360p/index.m3u8")
    missing = await media.client.get(f"{url}/stream/hls/4k/index.m3u8", headers=media.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "media.variant_not_found"

    transcript = await media.client.get(f"{url}/transcript", params={"lang": "fr-FR"}, headers=media.headers)
    assert transcript.status_code == 200
    assert transcript.json()["data"] == {
        "language": "fr-FR",
        "source": "captions",
        "text": "Bonjour le monde",  # cue markup dropped
        "cues": [{"start": 0.5, "end": 2.0, "text": "Bonjour"}, {"start": 2.5, "end": 4.0, "text": "le monde"}],
    }
    none = await media.client.get(f"{url}/transcript", params={"lang": "de"}, headers=media.headers)
    assert none.status_code == 404 and none.json()["code"] == "media.transcript_not_found"

    await media.state.store.transcripts.put(
        asset["id"], "en-US", "hello world", [{"start": 0.0, "end": 1.0, "text": "hello world"}]
    )
    stored_transcript = await media.client.get(f"{url}/transcript?lang=en-US", headers=media.headers)
    assert stored_transcript.json()["data"]["source"] == "transcript"
    assert stored_transcript.json()["data"]["text"] == "hello world"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:0x.000 --> 00:00:03.000\nbad\n",
            "line 6: invalid WebVTT cue timing '00:00:0x.000 --> 00:00:03.000'",
        ),
        (
            "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nbackwards\n",
            "line 3: the cue ends (00:00:02.000) before it starts",
        ),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nhi\n00:00:03,000 --> 00:00:04,000\nrun together\n",
            "line 4: the cue does not start a block of its own",
        ),
        ("Just some text", "line 1: expected WEBVTT (a WebVTT file) or a cue number (an SRT file)"),
        ("WEBVTTX\n\n00:00:01.000 --> 00:00:02.000\nx\n", "line 1: the WEBVTT header must be followed by"),
    ],
)
async def test_bad_caption_files_are_refused_with_the_line(
    media: Media, m4a: bytes, content: str, message: str
) -> None:
    asset = await media.upload(m4a, "audio/mp4", "tone.m4a")
    response = await media.client.post(
        f"/api/v1/media/{asset['id']}/captions", headers=media.headers, json={"language": "en", "content": content}
    )
    assert response.status_code == 400 and response.json()["code"] == "validation.captions.invalid"
    assert response.json()["message"].startswith(message)


async def test_caption_languages_are_bcp47(media: Media, m4a: bytes) -> None:
    asset = await media.upload(m4a, "audio/mp4", "tone.m4a")
    for language in ("english", "", 42, "en_US!"):
        response = await media.client.post(
            f"/api/v1/media/{asset['id']}/captions", headers=media.headers, json={"language": language, "content": VTT}
        )
        assert response.status_code == 400 and response.json()["code"] == "validation.language.invalid", language
    listed = await media.client.get(f"/api/v1/media/{asset['id']}/captions?lang=xx-!!", headers=media.headers)
    assert listed.status_code == 400 and listed.json()["code"] == "validation.language.invalid"


async def test_images_take_no_captions_and_pending_assets_have_no_streams(media: Media, png: bytes) -> None:
    image = await media.upload(png, "image/png", "p.png")
    response = await media.client.post(
        f"/api/v1/media/{image['id']}/captions", headers=media.headers, json={"language": "en", "content": VTT}
    )
    assert response.status_code == 409 and response.json()["code"] == "media.captions_unsupported"
    no_stream = await media.client.get(
        f"/api/v1/media/{image['id']}/stream/hls/master/index.m3u8", headers=media.headers
    )
    assert no_stream.status_code == 404 and no_stream.json()["code"] == "media.no_stream"
