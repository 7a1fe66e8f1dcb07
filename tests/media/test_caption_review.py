"""Approving, withdrawing and deleting a caption track (``PATCH|DELETE /api/v1/media/{id}/captions/{lang}``):
the stream's HLS master and DASH MPD list exactly the approved tracks, and the edges are told to forget."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaedge.cluster import EDGE_SECRET_HEADER
from tests.media.conftest import Media, drain

pytestmark = pytest.mark.anyio

VTT = "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello\n"
SRT = "1\n00:00:00,500 --> 00:00:02,000\nBonjour\n"
DASH = "{urn:mpeg:dash:schema:mpd:2011}"


class Purges:
    """The purge requests the origin sends its edges (``POST {edge}/_edge/purge``)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/_edge/purge" and request.headers[EDGE_SECRET_HEADER]
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"purged": 1})

    def keys(self) -> set[str]:
        return {key for body in self.bodies for key in body["keys"]}


async def _edge_get(media: Media, key: str) -> httpx.Response:
    return await media.client.get(f"/_edge/objects/{key}", headers={EDGE_SECRET_HEADER: media.state.edge_secret})


async def _manifests(media: Media, prefix: str) -> tuple[list[str], list[str]]:
    """The languages of the SUBTITLES renditions in the master playlist and of the MPD's text sets."""
    master = (await _edge_get(media, f"{prefix}master.m3u8")).text
    hls = [
        line.split('LANGUAGE="', 1)[1].split('"', 1)[0]
        for line in master.splitlines()
        if line.startswith("#EXT-X-MEDIA:TYPE=SUBTITLES")
    ]
    mpd = ET.fromstring((await _edge_get(media, f"{prefix}manifest.mpd")).content)
    dash = [a.get("lang") or "" for a in mpd.iter(f"{DASH}AdaptationSet") if a.get("contentType") == "text"]
    return sorted(hls), sorted(dash)


async def test_approve_withdraw_and_delete_a_track(media: Media, clip: Path) -> None:
    asset = await media.upload(clip.read_bytes(), "video/mp4", "talk.mp4")
    url = f"/api/v1/media/{asset['id']}/captions"
    for language, content in (("en-US", VTT), ("fr-FR", SRT)):
        added = await media.client.post(url, headers=media.headers, json={"language": language, "content": content})
        assert added.status_code == 201, added.text
    assert await drain(media.state) == 1
    stored = await media.state.store.assets.get(media.tenant.id, asset["id"])
    stream = await media.state.store.streams.get(stored.stream_id)  # type: ignore[union-attr,arg-type]
    assert stream is not None and stream.status == "ready"
    prefix = stream.output_prefix
    assert await _manifests(media, prefix) == (["en-US", "fr-FR"], ["en-US", "fr-FR"])

    purges = Purges()
    await media.state.http.aclose()
    media.state.http = httpx.AsyncClient(transport=httpx.MockTransport(purges))

    withdrawn = await media.client.patch(f"{url}/fr-fr", headers=media.headers, json={"approved": False})
    assert withdrawn.status_code == 200, withdrawn.text
    [caption] = withdrawn.json()["data"]
    assert (caption["language"], caption["approved"]) == ("fr-FR", False)
    assert await _manifests(media, prefix) == (["en-US"], ["en-US"])
    assert (await _edge_get(media, f"{prefix}subs/fr-FR/index.m3u8")).status_code == 404
    assert {f"{prefix}master.m3u8", f"{prefix}manifest.mpd"} <= purges.keys()
    assert any(f"{prefix}subs/" in body["prefixes"] for body in purges.bodies)
    listed = (await media.client.get(url, params={"lang": "fr-FR"}, headers=media.headers)).json()["data"]
    assert [c["approved"] for c in listed] == [False]  # kept, only out of the stream

    approved = await media.client.patch(f"{url}/fr-FR", headers=media.headers, json={"approved": True})
    assert approved.status_code == 200 and approved.json()["data"][0]["approved"] is True
    assert await _manifests(media, prefix) == (["en-US", "fr-FR"], ["en-US", "fr-FR"])

    english = (await media.client.get(url, params={"lang": "en-US"}, headers=media.headers)).json()["data"][0]
    vtt_key = english["url"].split("/", 4)[4]
    assert (await _edge_get(media, vtt_key)).status_code == 200
    purges.bodies.clear()
    deleted = await media.client.delete(f"{url}/en-US", headers=media.headers)
    assert deleted.status_code == 204
    assert await _manifests(media, prefix) == (["fr-FR"], ["fr-FR"])
    assert (await _edge_get(media, vtt_key)).status_code == 404
    assert (await _edge_get(media, f"{prefix}subs/en-US/index.m3u8")).status_code == 404
    assert {vtt_key, f"{prefix}master.m3u8", f"{prefix}manifest.mpd"} <= purges.keys()
    assert (await media.client.get(url, params={"lang": "en-US"}, headers=media.headers)).json()["data"] == []
    shown = (await media.client.get(f"/api/v1/media/{asset['id']}", headers=media.headers)).json()["data"]
    assert [c["language"] for c in shown["captions"]] == ["fr-FR"]

    again = await media.client.delete(f"{url}/en-US", headers=media.headers)
    assert again.status_code == 404
    assert again.json() == {
        "statusCode": 404,
        "message": "The asset has no en-US caption",
        "error": "NotFound",
        "code": "media.caption_not_found",
    }


async def test_a_source_narrows_the_track_and_bad_requests_are_refused(media: Media, m4a: bytes) -> None:
    asset = await media.upload(m4a, "audio/mp4", "talk.m4a")
    url = f"/api/v1/media/{asset['id']}/captions"
    await media.client.post(url, headers=media.headers, json={"language": "en", "content": VTT, "approved": False})

    generated = await media.client.patch(
        f"{url}/en", params={"source": "generated"}, headers=media.headers, json={"approved": True}
    )
    assert generated.status_code == 404 and generated.json()["code"] == "media.caption_not_found"
    manual = await media.client.patch(
        f"{url}/en", params={"source": "manual"}, headers=media.headers, json={"approved": True}
    )
    assert manual.status_code == 200 and manual.json()["data"][0]["approved"] is True

    not_bool = await media.client.patch(f"{url}/en", headers=media.headers, json={"approved": "yes"})
    assert not_bool.status_code == 400 and not_bool.json()["code"] == "validation.captions.invalid"
    missing = await media.client.patch(f"{url}/en", headers=media.headers, json={})
    assert missing.status_code == 400 and missing.json()["code"] == "validation.captions.invalid"
    bad_tag = await media.client.delete(f"{url}/xx-!!", headers=media.headers)
    assert bad_tag.status_code == 400 and bad_tag.json()["code"] == "validation.language.invalid"
    other_asset = await media.client.delete("/api/v1/media/mda_nothing/captions/en", headers=media.headers)
    assert other_asset.status_code == 404 and other_asset.json()["code"] == "media.not_found"
    anonymous = await media.client.delete(f"{url}/en")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "auth.missing"
