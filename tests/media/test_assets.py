"""Assets of every kind: images with resized variants, audio, other files; the list with filters and
cursor pages; get; delete (storage removed)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.tokens import KeySet
from tests.media.conftest import Media

pytestmark = pytest.mark.anyio


async def test_an_image_gets_webp_and_jpeg_variants_served_by_the_edge(media: Media, png: bytes) -> None:
    asset = await media.upload(png, "image/png", "still.png")
    assert asset["kind"] == "image" and asset["status"] == "ready" and asset["mime"] == "image/png"
    assert (asset["width"], asset["height"]) == (1600, 900)
    names = sorted(v["name"] for v in asset["variants"])
    assert names == ["1280w.jpg", "1280w.webp", "320w.jpg", "320w.webp", "640w.jpg", "640w.webp"]

    response = await media.client.get(
        f"/api/v1/media/{asset['id']}/variants", headers={**media.headers, "X-User-Id": "viewer-7"}
    )
    assert response.status_code == 200
    variants = {v["name"]: v for v in response.json()["data"]}
    small = variants["320w.webp"]
    assert (small["width"], small["height"], small["mime"], small["status"]) == (320, 180, "image/webp", "ready")
    assert small["sizeBytes"] > 0 and variants["1280w.jpg"]["height"] == 720
    token, key = small["url"].removeprefix(media.state.settings.edge.url + "/").split("/", 1)
    keys = KeySet.from_jwks((await media.client.get("/.well-known/jwks.json")).json())
    claims = keys.verify(token)
    assert claims.scope == "prefix" and claims.aid == asset["id"] and claims.sub == "viewer-7"
    assert claims.tid == media.tenant.id and key.startswith(claims.path) and claims.path.startswith(media.tenant.id)

    served = await media.client.get(f"/_edge/objects/{key}", headers={EDGE_SECRET_HEADER: media.state.edge_secret})
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert served.content[:4] == b"RIFF" and served.content[8:12] == b"WEBP"
    assert served.headers["x-mediaedge-asset-id"] == asset["id"]
    assert served.headers["x-mediaedge-access"] == "signed"


async def test_audio_gets_a_stream_and_other_files_are_ready_at_once(media: Media, m4a: bytes) -> None:
    audio = await media.upload(m4a, "audio/mp4", "tone.m4a")
    assert audio["kind"] == "audio" and audio["status"] == "pending"
    assert abs(audio["durationSeconds"] - 3.0) < 0.2 and audio["width"] is None
    document = await media.upload(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf", "doc.pdf")
    assert document["kind"] == "other" and document["status"] == "ready" and document["variants"] == []


async def test_the_list_filters_and_pages_with_a_stable_cursor(media: Media) -> None:
    texts = [await media.upload(f"note {i}".encode(), "text/plain", f"n{i}.txt") for i in range(5)]
    ticket = (await media.declare(b"never uploaded", "text/plain", "pending.txt")).json()["data"]
    newest_first = [ticket["assetId"], *[t["id"] for t in reversed(texts)]]

    everything = await media.client.get("/api/v1/media", headers=media.headers)
    assert [a["id"] for a in everything.json()["data"]] == newest_first
    ready = await media.client.get("/api/v1/media", params={"filter[status]": "ready"}, headers=media.headers)
    assert [a["id"] for a in ready.json()["data"]] == newest_first[1:]
    pending = await media.client.get("/api/v1/media", params={"filter[status]": "pending"}, headers=media.headers)
    assert [a["id"] for a in pending.json()["data"]] == [ticket["assetId"]]
    images = await media.client.get("/api/v1/media", params={"filter[kind]": "image"}, headers=media.headers)
    assert images.json()["data"] == []

    seen: list[str] = []
    url: str | None = "/api/v1/media?page[size]=2"
    inserted = False
    while url:
        page = await media.client.get(url, headers=media.headers)
        assert page.status_code == 200 and len(page.json()["data"]) <= 2
        seen += [a["id"] for a in page.json()["data"]]
        if not inserted:  # an asset created while paging appears on no later page and shifts nothing
            await media.upload(b"inserted meanwhile", "text/plain", "late.txt")
            inserted = True
        next_url = page.json()["links"]["next"]
        url = next_url and f"{urlsplit(next_url).path}?{urlsplit(next_url).query}"
    assert seen == newest_first

    created = texts[2]["createdAt"]
    ranged = await media.client.get("/api/v1/media", params={"filter[createdTo]": created}, headers=media.headers)
    assert [a["id"] for a in ranged.json()["data"]] == [texts[1]["id"], texts[0]["id"]]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"page[size]": "201"}, "validation.page.size"),
        ({"page[size]": "0"}, "validation.page.size"),
        ({"page[cursor]": "not-a-cursor"}, "validation.cursor.invalid"),
        ({"filter[kind]": "film"}, "validation.query.invalid"),
        ({"filter[status]": "done"}, "validation.query.invalid"),
        ({"filter[createdFrom]": "yesterday"}, "validation.query.invalid"),
    ],
)
async def test_bad_list_queries_are_refused(media: Media, query: dict[str, str], code: str) -> None:
    response = await media.client.get("/api/v1/media", params=query, headers=media.headers)
    assert response.status_code == 400 and response.json()["code"] == code


async def test_two_hundred_is_the_largest_page(media: Media) -> None:
    await asyncio.gather(*(media.declare(f"f{i}".encode(), "text/plain", "f.txt") for i in range(3)))
    response = await media.client.get("/api/v1/media", params={"page[size]": "200"}, headers=media.headers)
    assert response.status_code == 200 and len(response.json()["data"]) == 3
    assert response.json()["links"]["next"] is None and response.json()["meta"]["pageSize"] == 200


async def test_delete_removes_the_asset_and_its_storage(media: Media, png: bytes) -> None:
    asset = await media.upload(png, "image/png", "gone.png")
    prefix = f"{media.tenant.id}/"
    assert len([o async for o in media.state.backends["local"].list(prefix)]) == 7  # source + 6 variants
    deleted = await media.client.delete(f"/api/v1/media/{asset['id']}", headers=media.headers)
    assert deleted.status_code == 204
    assert [o async for o in media.state.backends["local"].list(prefix)] == []
    gone = await media.client.get(f"/api/v1/media/{asset['id']}", headers=media.headers)
    assert gone.status_code == 404 and gone.json()["code"] == "media.not_found"
    assert (await media.client.delete(f"/api/v1/media/{asset['id']}", headers=media.headers)).status_code == 404
    again = await media.declare(png, "image/png", "gone.png")
    assert again.status_code == 201 and again.json()["data"]["assetId"] != asset["id"]  # a new asset


async def test_other_tenants_assets_are_not_found(media: Media) -> None:
    asset = await media.upload(b"mine", "text/plain", "mine.txt")
    other, _ = await media.state.store.tenants.create("other", media.state.settings.storage.default)
    _, key = await media.state.store.api_keys.create(other.id, "k")
    headers = {"Authorization": f"Bearer {key}"}
    for method, path in [
        ("GET", ""),
        ("DELETE", ""),
        ("GET", "/variants"),
        ("GET", "/captions"),
        ("GET", "/stream/hls/master/index.m3u8"),
    ]:
        response = await media.client.request(method, f"/api/v1/media/{asset['id']}{path}", headers=headers)
        assert response.status_code == 404 and response.json()["code"] == "media.not_found", path


async def test_an_asset_uploaded_through_another_api_shows_here(media: Media, clip: Path) -> None:
    api_key_headers = {"API-Key": media.headers["Authorization"].removeprefix("Bearer ")}
    uploaded = await media.client.post(
        "/upload/direct-upload", headers=api_key_headers, files={"file": ("other-api.mp4", clip.read_bytes())}
    )
    assert uploaded.status_code == 201, uploaded.text
    shown = await media.client.get(f"/api/v1/media/{uploaded.json()['id']}", headers=media.headers)
    assert shown.status_code == 200
    assert shown.json()["data"]["kind"] == "video" and shown.json()["data"]["status"] == "ready"
