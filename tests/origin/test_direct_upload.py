"""POST /upload/direct-upload per seed 000, and the file API around it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from mediaedge.storage import ObjectNotFound

pytestmark = pytest.mark.anyio


async def upload(client: httpx.AsyncClient, headers: dict, name: str, data: bytes, **fields: str) -> httpx.Response:
    return await client.post("/upload/direct-upload", headers=headers, files={"file": (name, data)}, data=fields)


async def test_upload_of_a_clip_answers_201_with_key_url_and_probed_duration(origin_client, tenant, clip: Path):
    response = await upload(
        origin_client, tenant.headers, "clip.mp4", clip.read_bytes(), userId="user123", destination="lectures"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["key"] == f"{tenant.tenant.id}/user123/lectures/clip.mp4"
    assert body["url"].endswith(f"/{body['id']}/{body['key']}")
    assert abs(body["duration"] - 10.0) <= 0.1
    assert body["file_type"] == "video/mp4"

    duration = await origin_client.get("/files/duration", params={"file": body["url"]}, headers=tenant.headers)
    assert duration.json() == {"status": 200, "duration": body["duration"]}


async def test_user_defaults_to_anonymous_and_destination_may_be_empty(origin_client, tenant):
    response = await upload(origin_client, tenant.headers, "notes.txt", b"hello")
    assert response.status_code == 201
    assert response.json()["key"] == f"{tenant.tenant.id}/anonymous/notes.txt"
    assert response.json()["duration"] is None


async def test_duplicate_names_get_sequential_suffixes(origin_client, tenant):
    keys = [(await upload(origin_client, tenant.headers, "video.mp4", b"x")).json()["key"] for _ in range(3)]
    assert [k.rsplit("/", 1)[1] for k in keys] == ["video.mp4", "video_1.mp4", "video_2.mp4"]


async def test_twenty_concurrent_uploads_of_one_name_get_twenty_keys(origin_client, tenant):
    responses = await asyncio.gather(
        *(upload(origin_client, tenant.headers, "same.bin", bytes([i]) * 1000) for i in range(20))
    )
    assert {r.status_code for r in responses} == {201}
    keys = [r.json()["key"] for r in responses]
    assert len(set(keys)) == 20
    # every key holds the bytes of exactly the upload that got it
    state = origin_client._transport.app.state.origin  # type: ignore[attr-defined]
    backend = state.backends["local"]
    contents = {b"".join([c async for c in backend.open_range(k)])[:1] for k in keys}
    assert len(contents) == 20


@pytest.mark.parametrize(
    ("filename", "destination", "user_id", "expected_tail"),
    [
        ("../../etc/passwd", "", "u", "u/passwd"),
        ("..\\..\\win.ini", "", "u", "u/win.ini"),
        ("a.mp4", "../../../etc", "u", "u/etc/a.mp4"),
        ("a.mp4", "x/./../y", "u", "u/x/y/a.mp4"),
        ("a.mp4", "", "../other-tenant", "_other-tenant/a.mp4"),
        ("a.mp4", "", "..", "anonymous/a.mp4"),
        ("\x00evil.mp4", "%2e%2e/x", "u", "u/_2e_2e/x/_00evil.mp4"),
        ("..", "", "u", "u/file"),
    ],
)
async def test_traversal_in_names_is_neutralised_inside_the_tenant_prefix(
    origin_client, tenant, filename, destination, user_id, expected_tail
):
    response = await upload(origin_client, tenant.headers, filename, b"data", destination=destination, userId=user_id)
    assert response.status_code == 201, response.text
    assert response.json()["key"] == f"{tenant.tenant.id}/{expected_tail}"


async def test_missing_api_key_is_400_and_invalid_key_is_404_in_seed_format(origin_client):
    missing = await upload(origin_client, {}, "a.txt", b"a")
    assert missing.status_code == 400
    assert missing.json() == {
        "statusCode": 400,
        "message": "Missing API-Key header",
        "error": "BadRequest",
        "code": "API_KEY_REQUIRED",
    }
    invalid = await upload(origin_client, {"API-Key": "tk_nope"}, "a.txt", b"a")
    assert invalid.status_code == 404
    assert invalid.json()["error"] == "NotFound"


async def test_missing_file_is_400(origin_client, tenant):
    response = await origin_client.post(
        "/upload/direct-upload", headers=tenant.headers, data={"userId": "u"}, files={"other": ("x", b"y")}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "FILE_REQUIRED"


async def test_unknown_bucket_is_404(origin_client, tenant):
    response = await upload(origin_client, tenant.headers, "a.txt", b"a", bucket="nope")
    assert response.status_code == 404
    assert response.json()["code"] == "BUCKET_NOT_FOUND"


async def test_file_over_the_tenant_limit_is_413_and_leaves_nothing(origin_client, tenant, origin_state):
    await origin_state.store.tenants.update(tenant.tenant.id, max_file_size=1000)
    response = await upload(origin_client, tenant.headers, "big.bin", b"x" * 5000)
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert await origin_state.store.files.list_ready(tenant.tenant.id) == []
    assert list(Path(origin_state.settings.origin.spool_dir).iterdir()) == []


async def test_unknown_route_and_method_use_the_error_format(origin_client):
    missing = await origin_client.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    wrong = await origin_client.get("/upload/direct-upload")
    assert wrong.status_code == 405 and wrong.json()["error"] == "MethodNotAllowed"


async def test_download_url_for_disk_is_short_lived_and_signed(origin_client, tenant):
    url = (await upload(origin_client, tenant.headers, "doc.pdf", b"%PDF-1.4 body")).json()["url"]
    info = (await origin_client.get("/files/download", params={"file": url}, headers=tenant.headers)).json()
    assert info["filename"] == "doc.pdf" and info["file_size"] == 13
    path = httpx.URL(info["url"])
    got = await origin_client.get(path.raw_path.decode())
    assert got.status_code == 200 and got.content == b"%PDF-1.4 body"
    assert "attachment" in got.headers["content-disposition"]
    tampered = await origin_client.get(path.raw_path.decode().replace("signature=", "signature=0"))
    assert tampered.status_code == 403


async def test_register_existing_object_and_delete(origin_client, tenant, origin_state, clip: Path):
    key = f"{tenant.tenant.id}/u1/imported/clip.mp4"
    backend = origin_state.backends["local"]
    await backend.put_file(key, str(_copy(clip, origin_state)))
    response = await origin_client.post(
        "/files/register", headers=tenant.headers, json={"filePath": key, "requireSignedUrl": True}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == "clip.mp4" and body["file_type"] == "video/mp4"
    assert abs(body["duration"] - 10.0) <= 0.1

    other = await origin_client.post("/files/register", headers=tenant.headers, json={"filePath": "zzz/u/x.mp4"})
    assert other.status_code == 403

    deleted = await origin_client.request("DELETE", "/files/delete", headers=tenant.headers, json={"file": body["url"]})
    assert deleted.json() == {"success": True, "message": "File deleted successfully"}
    with pytest.raises(ObjectNotFound):
        await backend.stat(key)
    again = await origin_client.get("/files/duration", params={"file": body["url"]}, headers=tenant.headers)
    assert again.status_code == 404


def _copy(src: Path, state) -> Path:
    dest = Path(state.settings.data_dir) / "copy.mp4"
    dest.write_bytes(src.read_bytes())
    return dest
