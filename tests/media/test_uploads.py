"""Presigned uploads on local disk (the origin's own signed form): declare, post, finalize; SHA-256
idempotency within a tenant; every refusal of the form and of finalize; content sniffing."""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import datetime
from pathlib import Path

import pytest

from origin.catalogue.status import Status
from tests.fixtures.origin import make_settings
from tests.media.conftest import FAST, Media, open_media

pytestmark = pytest.mark.anyio


async def test_a_video_uploads_through_the_signed_form_and_finalizes(media: Media, clip: Path) -> None:
    data = clip.read_bytes()
    declared = await media.declare(data, "video/mp4", "Lecture 1.mp4", kind="video")
    assert declared.status_code == 201, declared.text
    ticket = declared.json()["data"]
    assert ticket["assetId"].startswith("mda_") and len(ticket["assetId"]) == 30
    assert ticket["uploadUrl"] == f"{media.state.settings.origin.url}/api/v1/media/direct-upload"
    fields = ticket["uploadFields"]
    assert fields["Content-Type"] == "video/mp4"
    assert fields["key"] == f"{media.tenant.id}/anonymous/{ticket['assetId']}/Lecture 1.mp4"
    expires = datetime.fromisoformat(ticket["expiresAt"].replace("Z", "+00:00")).timestamp()
    assert abs(expires - (time.time() + 900)) < 5  # 15 minutes
    assert declared.headers["RateLimit-Limit"] == "30" and declared.headers["RateLimit-Remaining"] == "29"

    posted = await media.post_form(ticket, data, "video/mp4")
    assert posted.status_code == 204, posted.text
    etag = posted.headers["etag"]
    info = await media.state.backends["local"].stat(fields["key"])
    assert info.size == len(data) and f'"{info.etag}"' == etag

    finalized = await media.client.post(
        f"/api/v1/media/{ticket['assetId']}/finalize", headers=media.headers, json={"etag": etag}
    )
    assert finalized.status_code == 200, finalized.text
    asset = finalized.json()["data"]
    assert asset["id"] == ticket["assetId"]
    assert asset["kind"] == "video" and asset["source"] == "upload" and asset["mime"] == "video/mp4"
    assert asset["status"] == "pending"  # its stream is queued; "transcoding" once a worker has it
    assert (asset["width"], asset["height"]) == (640, 360)
    assert abs(asset["durationSeconds"] - 10.0) < 0.2
    assert asset["sha256"] == hashlib.sha256(data).hexdigest() and asset["sizeBytes"] == len(data)
    stored = await media.state.store.assets.get(media.tenant.id, asset["id"])
    assert stored is not None and stored.stream_id and stored.file_id == asset["id"]
    record = await media.state.store.files.get(asset["id"])
    assert record is not None and record.key == fields["key"] and record.require_signed

    again = await media.client.post(f"/api/v1/media/{asset['id']}/finalize", headers=media.headers, json={})
    assert again.status_code == 200 and again.json()["data"]["id"] == asset["id"]  # finalizing twice is harmless


async def test_the_same_bytes_make_one_asset(media: Media) -> None:
    data = b"%PDF-1.4 one and the same document\n"
    first = (await media.declare(data, "application/pdf", "a.pdf")).json()["data"]
    second = await media.declare(data, "application/pdf", "b.pdf")
    assert second.status_code == 201 and second.json()["data"]["assetId"] == first["assetId"]
    assert second.json()["data"]["uploadFields"]["key"] == first["uploadFields"]["key"]  # a fresh form, same key
    await media.post_form(second.json()["data"], data, "application/pdf")
    done = await media.client.post(f"/api/v1/media/{first['assetId']}/finalize", headers=media.headers)
    assert done.status_code == 200 and done.json()["data"]["status"] == "ready"
    third = await media.declare(data, "application/pdf", "c.pdf")
    assert third.status_code == 200  # uploaded already: no form
    assert third.json()["data"] == {
        "assetId": first["assetId"],
        "uploadUrl": None,
        "uploadFields": {},
        "expiresAt": None,
        "status": "ready",
    }
    other, _ = await media.state.store.tenants.create("other", media.state.settings.storage.default)
    _, other_key = await media.state.store.api_keys.create(other.id, "second")
    elsewhere = await media.client.post(
        "/api/v1/media/upload-url",
        headers={"Authorization": f"Bearer {other_key}"},
        json={
            "sha256": hashlib.sha256(data).hexdigest(),
            "sizeBytes": len(data),
            "mime": "application/pdf",
            "filename": "a.pdf",
        },
    )
    assert elsewhere.status_code == 201 and elsewhere.json()["data"]["assetId"] != first["assetId"]  # per tenant


async def test_concurrent_declarations_of_the_same_bytes_make_one_asset(media_on_db: Media) -> None:
    data = b"the very same bytes, declared ten times at once"
    answers = await asyncio.gather(*(media_on_db.declare(data, "text/plain", f"n{i}.txt") for i in range(10)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["data"]["assetId"] for a in answers}) == 1
    listed, _ = await media_on_db.state.store.assets.page(media_on_db.tenant.id)
    assert len(listed) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"mime": "application/x-msdownload"}, 415, "validation.mime.unsupported"),
        ({"sizeBytes": 10**12}, 413, "validation.size.exceeds_limit"),
        ({"sha256": "abc"}, 400, "validation.sha256.invalid"),
        ({"sizeBytes": 0}, 400, "validation.size.invalid"),
        ({"mime": "video"}, 400, "validation.mime.invalid"),
        ({"filename": ""}, 400, "validation.filename.invalid"),
        ({"kind": "film"}, 400, "validation.kind.invalid"),
        ({"kind": "audio"}, 400, "validation.kind.mismatch"),
    ],
)
async def test_declarations_are_validated(media: Media, body: dict, status: int, code: str) -> None:
    valid = {"sha256": "a" * 64, "sizeBytes": 1000, "mime": "video/mp4", "filename": "x.mp4"}
    response = await media.client.post("/api/v1/media/upload-url", headers=media.headers, json={**valid, **body})
    assert response.status_code == status
    error = response.json()
    assert error["code"] == code and error["statusCode"] == status and error["message"] and error["error"]


async def test_the_size_limit_is_the_tenants(media: Media) -> None:
    tenant = await media.state.store.tenants.update(media.tenant.id, max_file_size=100)
    assert tenant is not None and tenant.max_file_size == 100
    response = await media.declare(b"x" * 101, "text/plain", "big.txt")
    assert response.status_code == 413 and response.json()["code"] == "validation.size.exceeds_limit"
    assert (await media.declare(b"x" * 100, "text/plain", "fits.txt")).status_code == 201


async def test_without_or_with_a_wrong_key_the_api_answers_401(media: Media) -> None:
    missing = await media.client.post("/api/v1/media/upload-url", json={})
    assert missing.status_code == 401 and missing.json()["code"] == "auth.missing"
    wrong = await media.client.get("/api/v1/media", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "auth.invalid"


async def test_the_form_enforces_its_policy(media: Media) -> None:
    data = b"exactly these forty-two bytes, no more!!!!"
    ticket = (await media.declare(data, "text/plain", "t.txt")).json()["data"]
    cases = [
        ({"data": data + b"!", "fields": {}}, 400, "upload.entity_too_large"),
        ({"data": data[:-1], "fields": {}}, 400, "upload.entity_too_small"),
        ({"data": data, "fields": {"Content-Type": "text/html"}}, 403, "upload.policy_violation"),
        (
            {"data": data, "fields": {"key": f"{media.tenant.id}/anonymous/elsewhere.txt"}},
            403,
            "upload.policy_violation",
        ),
        (
            {"data": data, "fields": {"policy": ticket["uploadFields"]["policy"][:-4] + "AAAA"}},
            403,
            "upload.policy_invalid",
        ),
    ]
    for case, status, code in cases:
        response = await media.post_form(ticket, case["data"], "text/plain", **case["fields"])
        assert (response.status_code, response.json()["code"]) == (status, code), case
    assert [o async for o in media.state.backends["local"].list(f"{media.tenant.id}/")] == []
    assert (await media.post_form(ticket, data, "text/plain")).status_code == 204


async def test_an_expired_form_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", media={"upload_url_ttl": "1"}, **FAST)
    async for media in open_media(settings):
        ticket = (await media.declare(b"late", "text/plain", "late.txt")).json()["data"]
        deadline = time.time() + 5
        while time.time() < deadline:
            response = await media.post_form(ticket, b"late", "text/plain")
            if response.status_code == 403:
                break
            await media.state.backends["local"].delete(ticket["uploadFields"]["key"])
            await asyncio.sleep(0.2)
        assert response.status_code == 403 and response.json()["code"] == "upload.policy_expired"


async def test_finalize_checks_the_object_its_etag_and_its_hash(media: Media) -> None:
    data = b"the declared content"
    ticket = (await media.declare(data, "text/plain", "d.txt")).json()["data"]
    url = f"/api/v1/media/{ticket['assetId']}/finalize"
    early = await media.client.post(url, headers=media.headers, json={})
    assert early.status_code == 409 and early.json()["code"] == "upload.missing"

    tampered = b"other content, same len"[: len(data)]
    assert (await media.post_form(ticket, tampered, "text/plain")).status_code == 204
    wrong_etag = await media.client.post(url, headers=media.headers, json={"etag": '"0-0"'})
    assert wrong_etag.status_code == 409 and wrong_etag.json()["code"] == "upload.etag_mismatch"
    mismatch = await media.client.post(url, headers=media.headers, json={})
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "validation.sha256.mismatch"
    asset = await media.state.store.assets.get(media.tenant.id, ticket["assetId"])
    assert asset is not None and asset.status == Status.FAILED
    assert [o async for o in media.state.backends["local"].list(f"{media.tenant.id}/")] == []  # removed

    retry = await media.declare(data, "text/plain", "d.txt")  # the failed asset does not hold the hash
    assert retry.status_code == 201 and retry.json()["data"]["assetId"] != ticket["assetId"]
    unknown = await media.client.post("/api/v1/media/mda_nothing/finalize", headers=media.headers)
    assert unknown.status_code == 404 and unknown.json()["code"] == "media.not_found"


async def test_html_declared_as_video_is_quarantined_and_never_served(media: Media) -> None:
    data = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
    ticket = (await media.declare(data, "video/mp4", "movie.mp4")).json()["data"]
    await media.post_form(ticket, data, "video/mp4")
    finalized = await media.client.post(f"/api/v1/media/{ticket['assetId']}/finalize", headers=media.headers)
    assert finalized.status_code == 451 and finalized.json()["code"] == "media.quarantined"
    shown = await media.client.get(f"/api/v1/media/{ticket['assetId']}", headers=media.headers)
    assert shown.status_code == 451 and shown.json()["code"] == "media.quarantined"
    listed = await media.client.get("/api/v1/media?filter[status]=quarantined", headers=media.headers)
    assert [a["id"] for a in listed.json()["data"]] == [ticket["assetId"]]
    edge = await media.client.get(
        f"/_edge/objects/{ticket['uploadFields']['key']}", headers={"X-Mediaedge-Edge-Secret": media.state.edge_secret}
    )
    assert edge.status_code == 404


async def test_an_executable_declared_as_an_image_is_quarantined(media: Media) -> None:
    data = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
    ticket = (await media.declare(data, "image/png", "cat.png")).json()["data"]
    await media.post_form(ticket, data, "image/png")
    finalized = await media.client.post(f"/api/v1/media/{ticket['assetId']}/finalize", headers=media.headers)
    assert finalized.status_code == 451 and "executable" in finalized.json()["message"]


async def test_content_of_another_kind_than_declared_fails(media: Media, png: bytes) -> None:
    ticket = (await media.declare(png, "video/mp4", "not-a-video.mp4")).json()["data"]
    await media.post_form(ticket, png, "video/mp4")
    finalized = await media.client.post(f"/api/v1/media/{ticket['assetId']}/finalize", headers=media.headers)
    assert finalized.status_code == 415 and finalized.json()["code"] == "validation.mime.mismatch"
    asset = await media.state.store.assets.get(media.tenant.id, ticket["assetId"])
    assert asset is not None and asset.status == Status.FAILED and "image/png" in (asset.error or "")


async def test_upload_url_creation_is_rate_limited_per_user(tmp_path: Path) -> None:
    async for media in open_media(make_settings(tmp_path / "var", media={"upload_url_rate": 3}, **FAST)):
        for i in range(3):
            ok = await media.declare(f"file {i}".encode(), "text/plain", "f.txt")
            assert ok.status_code == 201 and ok.headers["RateLimit-Remaining"] == str(2 - i)
        limited = await media.declare(b"file 3", "text/plain", "f.txt")
        assert limited.status_code == 429 and limited.json()["code"] == "rate.limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.headers["RateLimit-Remaining"] == "0" and limited.headers["RateLimit-Limit"] == "3"
        other_user = await media.client.post(
            "/api/v1/media/upload-url",
            headers={**media.headers, "X-User-Id": "u2"},
            json={"sha256": "b" * 64, "sizeBytes": 5, "mime": "text/plain", "filename": "g.txt"},
        )
        assert other_user.status_code == 201  # each user has a budget of their own


async def test_the_other_refusals_of_uploads(media: Media) -> None:
    data = b"twelve bytes"
    first = (await media.declare(data, "text/plain", "a.txt")).json()["data"]
    resized = await media.client.post(
        "/api/v1/media/upload-url",
        headers=media.headers,
        json={"sha256": hashlib.sha256(data).hexdigest(), "sizeBytes": 13, "mime": "text/plain", "filename": "a.txt"},
    )
    assert resized.status_code == 409 and resized.json()["code"] == "upload.sha256_conflict"
    bad_user = await media.client.get("/api/v1/media", headers={**media.headers, "X-User-Id": "a b/c"})
    assert bad_user.status_code == 400 and bad_user.json()["code"] == "validation.user.invalid"
    no_file = await media.client.post(
        "/api/v1/media/direct-upload", data=first["uploadFields"], files={"attachment": ("a.txt", data, "text/plain")}
    )
    assert no_file.status_code == 400 and no_file.json()["code"] == "upload.file_missing"

    video = b"\x00\x00\x00\x18ftypmp42 pretend video"
    pending = (await media.declare(video, "video/mp4", "v.mp4")).json()["data"]
    caption = await media.client.post(
        f"/api/v1/media/{pending['assetId']}/captions",
        headers=media.headers,
        json={"language": "en", "content": "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nx\n"},
    )
    assert caption.status_code == 409 and caption.json()["code"] == "media.not_uploaded"
    await media.post_form(pending, video, "video/mp4")
    refused = await media.client.post(f"/api/v1/media/{pending['assetId']}/finalize", headers=media.headers)
    assert refused.status_code == 415  # no video stream in it: the asset failed
    stream = await media.client.get(
        f"/api/v1/media/{pending['assetId']}/stream/hls/master/index.m3u8", headers=media.headers
    )
    assert stream.status_code == 409 and stream.json()["code"] == "media.failed"
