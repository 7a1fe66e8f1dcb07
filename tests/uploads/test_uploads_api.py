"""``/api/client/v1/uploads`` against a real origin and worker: 202 on upload, numeric statuses that only
move forward through the real transcode, the recent list, one upload, auth and validation errors, and
the same record seen through the integration API (``/upload/direct-upload``, ``/files/*``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaedge.settings import load_settings
from origin.store import Store, open_store
from tests.uploads.conftest import UPLOADS, Stack

pytestmark = pytest.mark.anyio

ACCEPTED = "Upload accepted and is now being processed."
ITEM_FIELDS = {"id", "filename", "status", "status_text", "created_at", "updated_at"}
TEXTS = {1: "pending", 3: "processing", 5: "uploading", 6: "completed", 7: "failed"}


@asynccontextmanager
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.origin.url, timeout=30.0) as http:
        yield http


@asynccontextmanager
async def store_of(stack: Stack) -> AsyncIterator[Store]:
    store = await open_store(load_settings(environ=stack.origin._env()).database.url)
    try:
        yield store
    finally:
        await store.close()


async def upload(
    http: httpx.AsyncClient, stack: Stack, clip: Path, folder: str | None = "root/my-folder", name: str | None = None
) -> httpx.Response:
    data = {"folder": folder} if folder is not None else {}
    files = {"video": (name or clip.name, clip.read_bytes(), "video/mp4")}
    return await http.post(UPLOADS, headers=stack.bearer, files=files, data=data)


async def follow(
    http: httpx.AsyncClient, stack: Stack, upload_id: str, until: set[int], timeout: float = 120.0
) -> list[int]:
    """Poll the upload until its status is one of ``until``; every status seen, in order."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await http.get(f"{UPLOADS}/{upload_id}", headers=stack.bearer)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["status_text"] == TEXTS[data["status"]]
        if not seen or seen[-1] != data["status"]:
            seen.append(data["status"])
        if data["status"] in until:
            return seen
        await asyncio.sleep(0.02)
    raise AssertionError(f"upload {upload_id} still at {seen} after {timeout:g} s")


async def test_an_upload_is_accepted_pending_and_moves_forward_to_completed(stack: Stack, short_clip: Path):
    async with client(stack) as http:
        response = await upload(http, stack, short_clip)
        assert response.status_code == 202, response.text
        body = response.json()
        upload_id = body["data"]["id"]
        assert body == {"message": ACCEPTED, "data": {"id": upload_id, "status": 1, "status_text": "pending"}}

        seen = await follow(http, stack, upload_id, {6, 7})
        assert seen[-1] == 6, seen
        assert seen == sorted(seen), f"a status went backwards: {seen}"
        assert set(seen) <= {1, 3, 5, 6}

        one = (await http.get(f"{UPLOADS}/{upload_id}", headers=stack.bearer)).json()["data"]
        assert set(one) == ITEM_FIELDS
        assert (one["id"], one["filename"], one["status"], one["status_text"]) == (
            upload_id,
            "my_new_video.mp4",
            6,
            "completed",
        )
        assert one["created_at"].endswith("Z") and one["updated_at"] >= one["created_at"]

    async with store_of(stack) as store:
        asset = await store.assets.get(await tenant_id(store, stack), upload_id)
        assert asset is not None
        assert (asset.kind, asset.folder, asset.dialect, asset.status) == (
            "video",
            "root/my-folder",
            "uploads",
            "ready",
        )
        assert asset.stream_id is not None
        stream = await store.streams.get(asset.stream_id)
        assert stream is not None and stream.status == "ready" and stream.hls_url
        file = await store.files.get(upload_id)  # one id: the asset's source file has the asset's id
        assert file is not None and file.status == "ready" and file.size == short_clip.stat().st_size


def ids(listed: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in listed]


async def tenant_id(store: Store, stack: Stack) -> str:
    tenant = await store.tenants.by_api_key(stack.origin.api_key)
    assert tenant is not None
    return tenant.id


async def test_the_list_shows_the_50_most_recent_videos_newest_first(stack: Stack, short_clip: Path):
    async with store_of(stack) as store:
        tid = await tenant_id(store, stack)
        made = []
        for i in range(52):  # catalogue entries made directly: the list's limit, not the transcoder, is tested
            asset = await store.assets.create(tid, kind="video", title=f"old_{i}.mp4", status="ready")
            made.append(asset.id)
            await store.assets.update(tid, asset.id, created_at=1_700_000_000.0 + i)
        await store.assets.create(tid, kind="image", title="poster.png", status="ready")
    async with client(stack) as http:
        fresh = (await upload(http, stack, short_clip, name="latest.mp4")).json()["data"]["id"]
        response = await http.get(UPLOADS, headers=stack.bearer)
    assert response.status_code == 200
    listed = response.json()["data"]
    assert len(listed) == 50
    assert listed[0]["id"] == fresh and listed[0]["filename"] == "latest.mp4"
    assert all(set(item) == ITEM_FIELDS for item in listed)
    assert all(item["status_text"] == TEXTS[item["status"]] for item in listed)
    created = [item["created_at"] for item in listed]
    assert created == sorted(created, reverse=True)
    assert "poster.png" not in {item["filename"] for item in listed}  # videos only
    listed_ids = [item["id"] for item in listed]
    assert made[-1] in listed_ids and made[0] not in listed_ids and made[1] not in listed_ids


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "auth.missing"),
        ({"Authorization": "Bearer sk-not-a-key"}, "auth.invalid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "auth.missing"),
    ],
)
async def test_every_route_needs_a_bearer_key(stack: Stack, short_clip: Path, headers: dict[str, str], code: str):
    async with client(stack) as http:
        answers = [
            await http.post(
                UPLOADS, headers=headers, files={"video": ("a.mp4", short_clip.read_bytes())}, data={"folder": "root"}
            ),
            await http.get(UPLOADS, headers=headers),
            await http.get(f"{UPLOADS}/mda_anything", headers=headers),
        ]
    for answer in answers:
        assert answer.status_code == 401, answer.text
        assert answer.json()["code"] == code
        assert answer.json()["statusCode"] == 401 and answer.json()["error"] == "Unauthorized"


async def test_the_integration_api_key_header_is_not_a_bearer_key(stack: Stack):
    async with client(stack) as http:
        answer = await http.get(UPLOADS, headers=stack.origin.headers)
    assert (answer.status_code, answer.json()["code"]) == (401, "auth.missing")


@pytest.mark.parametrize(
    ("folder", "field", "status", "code"),
    [
        ("root/my-folder", "file", 400, "validation.video.required"),
        (None, "video", 400, "validation.folder.required"),
        ("  ", "video", 400, "validation.folder.required"),
        ("root/../other", "video", 400, "validation.folder.invalid"),
        ("root/./x", "video", 400, "validation.folder.invalid"),
    ],
)
async def test_invalid_uploads_are_refused_with_the_field_named(
    stack: Stack, short_clip: Path, folder: str | None, field: str, status: int, code: str
):
    data = {"folder": folder} if folder is not None else {}
    async with client(stack) as http:
        before = (await http.get(UPLOADS, headers=stack.bearer)).json()["data"]
        answer = await http.post(
            UPLOADS, headers=stack.bearer, data=data, files={field: ("clip.mp4", short_clip.read_bytes(), "video/mp4")}
        )
        after = (await http.get(UPLOADS, headers=stack.bearer)).json()["data"]
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert ids(after) == ids(before)  # statuses of earlier uploads may move meanwhile; no new entry


async def test_a_file_that_is_not_a_video_is_refused_and_nothing_is_stored(stack: Stack, tmp_path: Path):
    notes = tmp_path / "notes.mp4"
    notes.write_bytes(b"these are not moving pictures\n" * 100)
    async with client(stack) as http:
        before = (await http.get(UPLOADS, headers=stack.bearer)).json()["data"]
        answer = await upload(http, stack, notes)
        after = (await http.get(UPLOADS, headers=stack.bearer)).json()["data"]
    assert (answer.status_code, answer.json()["code"]) == (415, "validation.mime.unsupported"), answer.text
    assert ids(after) == ids(before)  # statuses of earlier uploads may move meanwhile; no new entry


async def test_a_body_that_is_not_multipart_is_a_400(stack: Stack):
    async with client(stack) as http:
        answer = await http.post(UPLOADS, headers=stack.bearer, json={"video": "x", "folder": "root"})
    assert (answer.status_code, answer.json()["code"]) == (400, "validation.body.invalid")


async def test_an_unknown_or_foreign_upload_is_a_404(stack: Stack, tmp_path: Path):
    async with store_of(stack) as store:
        other, _ = await store.tenants.create("other", "local")
        foreign = await store.assets.create(other.id, kind="video", title="theirs.mp4")
    async with client(stack) as http:
        for upload_id in ("mda_01NOTHERE0000000000000000", foreign.id):
            answer = await http.get(f"{UPLOADS}/{upload_id}", headers=stack.bearer)
            assert (answer.status_code, answer.json()["code"]) == (404, "upload.not_found"), answer.text
        listed = (await http.get(UPLOADS, headers=stack.bearer)).json()["data"]
    assert foreign.id not in {item["id"] for item in listed}


async def test_a_transcode_that_cannot_succeed_ends_failed(idle_stack: Stack, short_clip: Path):
    """The source vanishes from storage before the worker gets to it: every attempt fails, then 7."""
    async with client(idle_stack) as http:
        upload_id = (await upload(http, idle_stack, short_clip)).json()["data"]["id"]
        async with store_of(idle_stack) as store:
            file = await store.files.get(upload_id)
            assert file is not None
        (idle_stack.origin.data_dir / "objects" / file.key).unlink()  # the local backend's root
        idle_stack.worker.start()
        seen = await follow(http, idle_stack, upload_id, {6, 7})
    assert seen[-1] == 7 and seen == sorted(seen), seen


async def test_one_record_in_both_apis(stack: Stack, short_clip: Path):
    """Uploaded here: the integration API finds the file under the same id; uploaded there: listed here."""
    async with client(stack) as http:
        upload_id = (await upload(http, stack, short_clip)).json()["data"]["id"]
        await follow(http, stack, upload_id, {6, 7})
        async with store_of(stack) as store:
            file = await store.files.get(upload_id)
            assert file is not None
        settings = load_settings(environ=stack.origin._env())
        url = f"{settings.edge.url}/{upload_id}/{file.key}"
        duration = await http.get("/files/duration", params={"file": url}, headers=stack.origin.headers)
        assert duration.status_code == 200, duration.text
        assert abs(duration.json()["duration"] - 2.0) < 0.2

        direct = await http.post(
            "/upload/direct-upload",
            headers=stack.origin.headers,
            files={"file": ("from_integration.mp4", short_clip.read_bytes())},
        )
        assert direct.status_code == 201, direct.text
        direct_id = direct.json()["id"]
        listed = {item["id"]: item for item in (await http.get(UPLOADS, headers=stack.bearer)).json()["data"]}
        assert direct_id in listed and listed[direct_id]["filename"] == "from_integration.mp4"
        one = await http.get(f"{UPLOADS}/{direct_id}", headers=stack.bearer)
        assert one.status_code == 200 and one.json()["data"]["id"] == direct_id

        deleted = await http.request("DELETE", "/files/delete", headers=stack.origin.headers, json={"file": url})
        assert deleted.status_code == 200, deleted.text
        gone = await http.get(f"{UPLOADS}/{upload_id}", headers=stack.bearer)
        assert (gone.status_code, gone.json()["code"]) == (404, "upload.not_found"), gone.text
        assert upload_id not in {item["id"] for item in (await http.get(UPLOADS, headers=stack.bearer)).json()["data"]}


async def test_a_file_above_the_tenants_limit_is_a_413_and_nothing_is_listed(
    origin_client, origin_state, tenant, short_clip
):
    await origin_state.store.tenants.update(tenant.tenant.id, max_file_size=1000)
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    answer = await origin_client.post(
        UPLOADS,
        headers=headers,
        data={"folder": "root"},
        files={"video": ("big.mp4", short_clip.read_bytes(), "video/mp4")},
    )
    assert (answer.status_code, answer.json()["code"]) == (413, "validation.size.exceeds_limit"), answer.text
    listed = await origin_client.get(UPLOADS, headers=headers)
    assert listed.json() == {"data": []}
