"""The embed page: what it plays, the tokens it carries, escaping, CSP, embed URLs and its assets."""

from __future__ import annotations

import dataclasses
import json
import re
from urllib.parse import urlsplit

import httpx
import pytest

from mediaedge.tokens import KeySet
from origin.store.streams import NewStream

pytestmark = pytest.mark.anyio

CONFIG = re.compile(r'<script id="embed-config" type="application/json">(.*?)</script>', re.S)


async def _upload(client: httpx.AsyncClient, headers: dict, name: str, data: bytes) -> dict:
    response = await client.post(
        "/upload/direct-upload", headers=headers, data={"userId": "u1"}, files={"file": (name, data)}
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def video(origin_client, tenant, clip) -> dict:
    return await _upload(origin_client, tenant.headers, "clip.mp4", clip.read_bytes())


def _config(response: httpx.Response) -> dict:
    match = CONFIG.search(response.text)
    assert match, response.text
    return json.loads(match.group(1))


async def _claims(client: httpx.AsyncClient, url: str):
    token = urlsplit(url).path.split("/")[1]
    return KeySet.from_jwks((await client.get("/.well-known/jwks.json")).json()).verify(token)


async def test_page_plays_the_file_through_the_edge_with_an_exact_token(origin_client, tenant, video, settings):
    response = await origin_client.get("/embed", params={"file": video["id"], "api_key": tenant.api_key})
    assert response.status_code == 200, response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and f"media-src {settings.edge.url} blob:" in csp
    assert "frame-ancestors *" in csp
    config = _config(response)
    assert config["source"] == "aauti-embed"  # the documented name host pages filter on
    assert config["hls"] is None
    assert config["mp4"].startswith(settings.edge.url + "/") and config["mp4"].endswith("/" + video["key"])
    assert config["duration"] == pytest.approx(video["duration"])
    assert {k: config[k] for k in ("autoplay", "muted", "loop", "controls", "loader")} == {
        "autoplay": False,
        "muted": False,
        "loop": False,
        "controls": True,
        "loader": True,
    }
    claims = await _claims(origin_client, config["mp4"])
    assert claims.scope == "exact" and claims.path == video["key"] and claims.fid == video["id"]
    assert tenant.api_key not in response.text.replace(f"api_key={tenant.api_key}", "")


async def _ready_stream(origin_state, tenant, video, *, dash: bool = False) -> tuple[str, str]:
    """A ready stream of the file (its HLS master, and its DASH manifest when ``dash``); its id and folder."""
    prefix = video["key"] + ".stream/"
    edge = origin_state.settings.edge.url
    async with origin_state.store.transaction() as conn:
        stream_id = await origin_state.store.streams.insert(
            conn,
            NewStream(
                tenant_id=tenant.tenant.id,
                provider=origin_state.settings.streams.default_provider,
                url=video["url"],
                source_ref=video["id"],
                meta={"name": "clip"},
                require_signed=False,
                source_file_id=video["id"],
                output_prefix=prefix,
            ),
        )
        await origin_state.store.streams.update(
            conn,
            stream_id,
            status="ready",
            hls_url=f"{edge}/{video['id']}/{prefix}master.m3u8",
            dash_url=f"{edge}/{video['id']}/{prefix}manifest.mpd" if dash else None,
        )
    return stream_id, prefix


async def test_ready_hls_stream_gets_a_prefix_token_for_its_folder(origin_client, origin_state, tenant, video):
    stream_id, prefix = await _ready_stream(origin_state, tenant, video)
    query = {"file": video["id"], "api_key": tenant.api_key}
    config = _config(await origin_client.get("/embed", params=query))
    assert config["hls"].endswith("/" + prefix + "master.m3u8")
    claims = await _claims(origin_client, config["hls"])
    assert claims.scope == "prefix" and claims.path == prefix and claims.aid == stream_id
    assert claims.allows(prefix + "720p/segment_00001.ts", "127.0.0.1")
    assert not claims.allows(video["key"], "127.0.0.1")
    assert _config(await origin_client.get("/embed", params={**query, "playStream": "false"}))["hls"] is None
    asked = await origin_client.get("/embed", params={**query, "format": "dash"})
    assert _config(asked)["hls"].endswith("/" + prefix + "master.m3u8")  # no DASH stream: HLS it is
    assert _config(asked)["dash"] is None
    assert "dash.mediaplayer.min.js" not in asked.text


async def test_format_dash_plays_the_dash_manifest_with_dash_js(origin_client, origin_state, tenant, video):
    stream_id, prefix = await _ready_stream(origin_state, tenant, video, dash=True)
    query = {"file": video["id"], "api_key": tenant.api_key}
    page = await origin_client.get("/embed", params={**query, "format": "dash"})
    config = _config(page)
    assert config["hls"] is None and config["dash"].endswith("/" + prefix + "manifest.mpd")
    claims = await _claims(origin_client, config["dash"])
    assert claims.scope == "prefix" and claims.path == prefix and claims.aid == stream_id
    assert claims.allows(prefix + "r0/seg_00001.m4s", "127.0.0.1")
    assert re.search(r'<script src="/embed/assets/dash.mediaplayer.min.js\?v=\w+"></script>', page.text)
    assert "hls.min.js" not in page.text
    assert f"media-src {origin_state.settings.edge.url} blob:" in page.headers["content-security-policy"]
    hls = _config(await origin_client.get("/embed", params=query))
    assert hls["dash"] is None and hls["hls"].endswith("master.m3u8")  # HLS unless DASH is asked for


async def test_every_parameter_is_escaped(origin_client, tenant, video):
    evil = '</script><script>alert("x")</script><img src=x onerror=alert(1)>&'
    params = {"file": video["id"], "api_key": tenant.api_key, "user_name": evil, "user_email": "a@b.c"}
    response = await origin_client.get("/embed", params=params)
    assert response.status_code == 200
    assert "<img src=x" not in response.text and "<script>" not in response.text
    assert response.text.count("<script") == response.text.count("</script>") == 2  # config and player.js
    assert _config(response)["watermark"] == f"{evil} · a@b.c"


async def test_errors_render_a_page_that_reports_them(origin_client, tenant, video):
    cases = [
        ({"file": video["id"], "api_key": "wrong"}, 401),
        ({"file": video["id"]}, 400),
        ({"file": "nope", "api_key": tenant.api_key}, 404),
        ({"file": video["id"], "api_key": tenant.api_key, "autoplay": "maybe"}, 400),
        ({"file": video["id"], "api_key": tenant.api_key, "format": "smooth"}, 400),
        ({"file": video["id"], "api_key": tenant.api_key, "player": "<img src=x onerror=alert(1)>"}, 404),
    ]
    for params, status in cases:
        response = await origin_client.get("/embed", params=params)
        assert response.status_code == status, params
        assert response.headers["content-type"].startswith("text/html")
        assert _config(response)["error"] and "<img src=x" not in response.text


async def test_whitelisted_tenant_limits_who_may_frame_the_player(origin_client, origin_state, tenant, video):
    await origin_state.store.tenants.update(tenant.tenant.id, whitelisted_domains=["school.example", "*.lms.example"])
    params = {"file": video["id"], "api_key": tenant.api_key}
    ok = await origin_client.get("/embed", params=params, headers={"Referer": "https://school.example/course"})
    assert ok.status_code == 200
    assert (
        "frame-ancestors https://*.lms.example http://*.lms.example https://school.example http://school.example"
        in ok.headers["content-security-policy"]
    )
    refused = await origin_client.get("/embed", params=params, headers={"Referer": "https://evil.example/"})
    assert refused.status_code == 403


async def test_embed_token_makes_a_url_without_the_api_key(origin_client, tenant, video):
    response = await origin_client.post(
        "/embed/token", headers=tenant.headers, json={"file": video["id"], "expiresIn": "5m", "user_id": "u-7"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert tenant.api_key not in body["url"]
    page = await origin_client.get(body["url"] + "&user_id=forged")
    assert page.status_code == 200
    assert _config(page)["watermark"] == "u-7"
    other = await _upload(origin_client, tenant.headers, "notes.txt", b"not a video")
    mismatch = await origin_client.get("/embed", params={"token": body["token"], "file": other["id"]})
    assert mismatch.status_code == 400
    tampered = await origin_client.get("/embed", params={"token": body["token"][:-2] + "xx"})
    assert tampered.status_code == 401
    assert (
        await origin_client.post("/embed/token", headers=tenant.headers, json={"file": other["id"]})
    ).status_code == 400


async def test_source_name_is_a_setting(origin_state, origin_client, tenant, video):
    settings = origin_state.settings
    origin_state.settings = settings.replace(embed=dataclasses.replace(settings.embed, source="acme-player"))
    response = await origin_client.get("/embed", params={"file": video["id"], "api_key": tenant.api_key})
    assert _config(response)["source"] == "acme-player"


async def test_page_links_versioned_assets(origin_client, tenant, video):
    page = (await origin_client.get("/embed", params={"file": video["id"], "api_key": tenant.api_key})).text
    assert re.search(r'<link rel="stylesheet" href="/embed/assets/player.css\?v=\w+">', page)
    assert re.search(r'<script src="/embed/assets/player.js\?v=\w+"></script>', page)
    assert "hls.min.js" not in page  # linked only when there is a stream to play


@pytest.mark.parametrize("name", ["player.js", "player.css", "hls.min.js", "dash.mediaplayer.min.js"])
async def test_assets_are_cacheable_for_a_year_at_their_versioned_url(origin_client, name):
    plain = await origin_client.get(f"/embed/assets/{name}")
    assert plain.status_code == 200, "missing asset (hls.js, dash.js: npm install --prefix origin/embed)"
    assert plain.headers["cache-control"] == "public, max-age=300"
    etag = plain.headers["etag"]
    versioned = await origin_client.get(f"/embed/assets/{name}", params={"v": etag.strip('"')})
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert versioned.content == plain.content
    assert (await origin_client.get(f"/embed/assets/{name}", headers={"If-None-Match": etag})).status_code == 304


async def test_only_named_assets_are_served(origin_client):
    for name in ("package.json", "player.html", "..%2Fapp.py"):
        assert (await origin_client.get(f"/embed/assets/{name}")).status_code == 404
