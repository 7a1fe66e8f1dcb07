"""The editor uploads a 200 MB file in 5 MB chunks, loses a connection mid-chunk and resumes from the
server's ``Range``; then browses the media tab and takes thumbnails at 100 ns times, which show the
frame at that time (each frame of the clip has its own grey level). Media files are the catalogue:
a file uploaded through another API is listed with its own id. Folders, deletes, callbacks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from pathlib import Path

import httpx
import orjson
import pytest

from mediaedge.settings import load_settings
from origin.editor.uploads import fail_expired
from origin.state import OriginState
from origin.store import open_store
from origin.tus.cleaner import sweep
from tests.editor.conftest import (
    FPS,
    Developer,
    EditorStack,
    Receiver,
    Session,
    luma_clip,  # noqa: F401 - fixture
    luma_reference,  # noqa: F401 - fixture
    nearest_frame,
    pad_mp4,
    wait_for,
)
from tests.fixtures.origin_server import TcpProxy

pytestmark = pytest.mark.slow

SIZE = 200 * 10**6
CHUNK = 5 * 10**6
CUT_CHUNK = 7  # the chunk whose connection is cut halfway
TICKS = 10_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def big_clip(tmp_path_factory: pytest.TempPathFactory, luma_clip: Path) -> Path:  # noqa: F811
    return pad_mp4(luma_clip, tmp_path_factory.mktemp("big") / "luma-200mb.mp4", SIZE)


def _put(client: httpx.Client, upload_id: str, data: bytes, start: int) -> httpx.Response:
    end = start + len(data) - 1
    headers = {"Content-Range": f"bytes {start}-{end}/{SIZE}", "Content-Type": "application/octet-stream"}
    return client.put("/api/upload/media", params={"id": upload_id}, content=data, headers=headers)


def _held(response: httpx.Response) -> int:
    """Bytes the server holds, from ``Range: bytes=0-N``."""
    value = response.headers.get("range")
    if value is None:
        return 0
    assert value.startswith("bytes=0-")
    return int(value.removeprefix("bytes=0-")) + 1


def _frame(png_b64: str, reference: list[float]) -> int:
    png = base64.b64decode(png_b64)
    assert png.startswith(PNG_SIGNATURE)
    return nearest_frame(png, reference)


async def _asset_folder(stack: EditorStack, asset_id: str) -> str:
    """The catalogue's folder path of an asset, as every API sees it."""
    store = await open_store(load_settings(environ=stack.env).database.url)
    try:
        (tenant,) = [t for t in await store.tenants.list_all() if t.name == "test"]
        asset = await store.assets.get(tenant.id, asset_id)
        assert asset is not None
        return asset.folder
    finally:
        await store.close()


def _signing_key(stack: EditorStack) -> str:
    async def read() -> str:
        store = await open_store(load_settings(environ=stack.env).database.url)
        try:
            (tenant,) = [t for t in await store.tenants.list_all() if t.name == "test"]
            return tenant.webhook_signing_key
        finally:
            await store.close()

    return asyncio.run(read())


def test_chunked_upload_resumes_and_thumbnails_are_frame_accurate(
    editor_stack: EditorStack,
    developer: Developer,
    session: Session,
    receiver: Receiver,
    big_clip: Path,
    luma_reference: list[float],  # noqa: F811
) -> None:
    assert len(luma_reference) == 5 * FPS
    data = big_clip.read_bytes()
    rss_before = editor_stack.origin.rss_bytes()
    with editor_stack.client(session.id) as client, TcpProxy(editor_stack.origin.port) as proxy:
        created = client.post("/api/upload/media", json={"size": SIZE, "name": "luma.mp4"})
        assert created.status_code == 200, created.text
        upload_id = created.json()["id"]
        assert upload_id.startswith("mda_")
        first = client.get(f"/api/mediafiles/{upload_id}").json()
        assert (first["status"], first["progress"], first["type"]) == ("upload", 0, "uploaded")
        assert client.get("/api/stat").json()["activeImportFromLocalDriveCount"] == 1

        offset, chunks, statuses = 0, 0, []
        while offset < SIZE:
            piece = data[offset : offset + CHUNK]
            if chunks == CUT_CHUNK:
                proxy.cut_after = 2 * 1024 * 1024  # this request's connection dies mid-body
                with httpx.Client(base_url=proxy.url, headers={"Authorization": session.id}) as cut:
                    with pytest.raises(httpx.TransportError):
                        _put(cut, upload_id, piece, offset)
                # The next chunk starts past what the server holds: refused, with what it holds.
                ahead = _put(client, upload_id, data[offset + CHUNK : offset + 2 * CHUNK], offset + CHUNK)
                assert ahead.status_code == 206, ahead.text
                held = _held(ahead)
                assert offset <= held < offset + CHUNK  # part of the cut chunk was kept, never more
                # The cut request may still be landing its bytes (the server read them before the cut):
                # what it holds only grows, never past what was sent.
                later = _held(client.get("/api/upload/media", params={"id": upload_id}))
                assert held <= later < offset + CHUNK
                # Resume from the first answer: bytes the server got meanwhile are trimmed from the chunk.
                offset = held
                chunks += 1
                continue
            response = _put(client, upload_id, piece, offset)
            statuses.append(response.status_code)
            assert response.status_code in (200, 206), response.text
            offset = _held(response)
            chunks += 1
            if chunks == 3:
                during = client.get(f"/api/mediafiles/{upload_id}").json()
                assert during["status"] == "upload" and during["progress"] == round(100 * offset / SIZE)
        assert statuses[-1] == 200 and set(statuses[:-1]) == {206}
        assert proxy.cuts == 1
        rss_growth = editor_stack.origin.rss_bytes() - rss_before
        assert rss_growth < 64 * 2**20, f"origin grew by {rss_growth} bytes"  # streamed, not buffered

        seen = set()

        def ready() -> bool:
            response = client.get("/api/mediafile/status", params={"id": upload_id})
            assert response.status_code == 200, response.text
            status = response.json()
            seen.add(status["status"])
            assert status["error"] is None
            return status["status"] == "ready"

        wait_for(ready, timeout=120, interval=0.1, what="the upload to be ready")

        def idle() -> bool:  # the thumbnails job ends a moment after it marks the file ready
            stat = client.get("/api/stat").json()
            assert stat["activeImportFromLocalDriveCount"] == 0
            return stat["activeBuildThumbsTasksCount"] == 0

        wait_for(idle, timeout=30, interval=0.1, what="no thumbnails task left")
        assert "upload" not in seen and seen <= {"prepare_thumbnails", "ready"}
        assert client.get(f"/api/mediafiles/{upload_id}").json()["progress"] == 100
        entry = client.get(f"/api/mediafiles/{upload_id}").json()
        assert entry["id"] == upload_id and entry["size"] == SIZE
        assert (entry["filetype"], entry["mediaType"], entry["type"]) == ("mp4", "video", "uploaded")
        assert abs(entry["duration"] - 5 * TICKS) <= TICKS // 10  # 100 ns units
        assert (entry["width"], entry["height"]) == (320, 180)
        assert entry["audioTracks"] == ["Narration"]
        assert _frame(entry["thumbnail"], luma_reference) == 0
        settings = load_settings(environ=editor_stack.env)
        assert entry["previewUrl"].startswith(settings.edge.url + "/ey") and entry["previewUrl"].endswith("/luma.mp4")

        # Timeline thumbnails: prepared at ingest (cached) and made now, at 100 ns times.
        cached = client.get(
            "/api/clip_thumbnails",
            params={"id": upload_id, "start_time": 0, "step": TICKS, "count": 5, "cached": "true"},
        ).json()
        assert cached["status"] == "" and [t["time"] for t in cached["thumbnails"]] == [n * TICKS for n in range(5)]
        assert [_frame(t["data"], luma_reference) for t in cached["thumbnails"]] == [0, 10, 20, 30, 40]
        live = client.get(
            "/api/clip_thumbnails",
            params={"id": upload_id, "start_time": 12_500_000, "step": 3_000_000, "count": 4, "cached": "false"},
        ).json()
        assert [_frame(t["data"], luma_reference) for t in live["thumbnails"]] == [12, 15, 18, 21]
        one = client.get("/api/clip_thumbnail", params={"id": upload_id, "time": 23_450_000}).json()
        assert _frame(one["data"], luma_reference) == 23
        # The custom URLs over the catalogue: fetchThumbnailUrl, fetchFileUrl, mediaTabContentUrl.
        dev_thumb = client.get("/api/dev/thumbnail", params={"id": upload_id, "time": 41_000_000}).json()
        assert _frame(dev_thumb["data"], luma_reference) == 41
        dev_file = client.get(f"/api/dev/files/{upload_id}").json()
        assert set(dev_file) == {"id", "previewUrl", "name", "filetype", "mediaType", "duration", "size", "width",
                                 "height", "thumbnail", "audioTracks"}  # fmt: skip
        assert dev_file["duration"] == entry["duration"]
        tab = client.get(
            "/api/dev/media", params={"start_number": 0, "count": 5, "filter": "video,audio", "search": "LUMA"}
        ).json()
        assert tab["total_count"] == 1 and tab["entries"][0]["id"] == upload_id

    # The session that uploaded gets a signed media_ready callback.
    key = _signing_key(editor_stack)
    headers, body = wait_for(lambda: receiver.of_type("media_ready"), what="media_ready callback")[0]
    event = orjson.loads(body)
    assert event == {
        "type": "media_ready",
        "userData": "user-data-ann",
        "apiAuthToken": session.api_auth_token,
        "payload": {"mediaFileId": upload_id, "name": "luma.mp4"},
    }
    assert headers["authorization"] == session.id
    assert headers["webhook-signature"] == "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def test_media_files_are_the_shared_catalogue(
    editor_stack: EditorStack,
    developer: Developer,
    session: Session,
    luma_clip: Path,  # noqa: F811
) -> None:
    with httpx.Client(base_url=editor_stack.url, headers=editor_stack.origin.headers, timeout=60) as tenant:
        uploaded = tenant.post(
            "/upload/direct-upload", files={"file": ("other-api.mp4", luma_clip.read_bytes(), "video/mp4")}
        )
        second = tenant.post(
            "/upload/direct-upload", files={"file": ("b-second.mp4", luma_clip.read_bytes(), "video/mp4")}
        )
    assert uploaded.status_code == 201 and second.status_code == 201, uploaded.text
    file_id, second_id = uploaded.json()["id"], second.json()["id"]
    with editor_stack.client(session.id) as client:
        entry = client.get(f"/api/mediafiles/{file_id}").json()
        assert entry["id"] == file_id and entry["name"] == "other-api.mp4" and entry["mediaType"] == "video"
        # Seen by the editor, it gets its timeline strip too.
        wait_for(lambda: client.get(f"/api/mediafiles/{file_id}").json()["thumbnail"], timeout=60, what="thumbnail")

        # Folders: nested, renamed, moved into, listed, deleted recursively.
        outer = client.post("/api/folders", json={"name": "Projects"}).json()["id"]
        inner = client.post("/api/folders", json={"name": "Drafts", "folder": outer}).json()["id"]
        assert client.patch(f"/api/folders/{inner}", json={"name": "Cuts"}).json() == {}
        assert client.put(f"/api/folders/{inner}/entries", json={"files": [file_id]}).json() == {}
        listed = client.get("/api/mediafiles", params={"folder": outer}).json()
        assert listed["total_count"] == 1 and listed["entries"][0]["id"] == inner
        assert (listed["entries"][0]["name"], listed["entries"][0]["filetype"]) == ("Cuts", "folder")
        in_inner = client.get("/api/mediafiles", params={"folder": inner}).json()
        assert [e["id"] for e in in_inner["entries"]] == [file_id]
        root = client.get(
            "/api/mediafiles", params={"filter": "video", "sort_field": "name", "sort_order": "asc"}
        ).json()
        assert file_id not in [e["id"] for e in root["entries"]]
        names = [e["name"] for e in root["entries"]]
        assert names == sorted(names)
        bad_move = client.put(f"/api/folders/{inner}/entries", json={"folders": [outer]})
        assert bad_move.status_code == 400  # not into its own subfolder
        refused = client.delete(f"/api/folders/{outer}")
        assert refused.status_code == 409 and refused.json()["error"]["type"] == "not_empty"
        assert client.delete(f"/api/folders/{outer}", params={"force": 1}).json() == {"error": None}
        gone = client.get(f"/api/mediafiles/{file_id}")
        assert gone.status_code == 404
        assert client.get("/api/mediafiles", params={"folder": inner}).status_code == 404

        # A folder another API made (the uploads API's root/... paths) is a folder here too, and
        # renaming it here moves what it holds for every API.
        with httpx.Client(base_url=editor_stack.url, headers=editor_stack.tenant_headers, timeout=60) as api:
            made = api.post(
                "/api/client/v1/uploads",
                data={"folder": "root/shared-folder/sub"},
                files={"video": ("deep.mp4", luma_clip.read_bytes(), "video/mp4")},
            )
        assert made.status_code == 202, made.text
        deep_id = made.json()["data"]["id"]
        top = client.get("/api/mediafiles", params={"filter": "folder"}).json()
        (shared,) = [e for e in top["entries"] if e["name"] == "shared-folder"]
        (sub,) = client.get("/api/mediafiles", params={"folder": shared["id"]}).json()["entries"]
        assert (sub["name"], sub["type"], sub["folder"]) == ("sub", "folder", shared["id"])
        assert [e["id"] for e in client.get("/api/mediafiles", params={"folder": sub["id"]}).json()["entries"]] == [
            deep_id
        ]
        client.patch(f"/api/folders/{shared['id']}", json={"name": "renamed"})
        assert [e["id"] for e in client.get("/api/mediafiles", params={"folder": sub["id"]}).json()["entries"]] == [
            deep_id
        ]
        assert asyncio.run(_asset_folder(editor_stack, deep_id)) == "root/renamed/sub"
        client.put("/api/folders/root/entries", json={"folders": [sub["id"]]})  # sub moves to the top
        assert asyncio.run(_asset_folder(editor_stack, deep_id)) == "root/sub"

        # Paging and filters over the root.
        everything = client.get("/api/mediafiles", params={"count": 100, "filter": "video"}).json()
        assert second_id in [e["id"] for e in everything["entries"]]
        pages = [
            client.get("/api/mediafiles", params={"start_number": n, "count": 1, "filter": "video"}).json()
            for n in range(everything["total_count"])
        ]
        assert [p["entries"][0]["id"] for p in pages] == [e["id"] for e in everything["entries"]]
        assert {p["total_count"] for p in pages} == {everything["total_count"]}
        with_folders = client.get("/api/mediafiles", params={"count": 100}).json()
        kinds = [e["type"] == "folder" for e in with_folders["entries"]]
        assert kinds == sorted(kinds, reverse=True) and any(kinds)  # folders first, then files
        assert client.get("/api/mediafiles", params={"filter": "audio"}).json() == {"total_count": 0, "entries": []}
        found = client.get("/api/mediafiles", params={"search": "B-SEC"}).json()
        assert [e["id"] for e in found["entries"]] == [second_id]
        assert client.get("/api/mediafiles", params={"filter": "pdf"}).status_code == 400
        # Upload sessions refuse what cannot be edited or stored.
        pdf = client.post("/api/upload/media", json={"size": 10, "name": "notes.pdf"})
        assert (pdf.status_code, pdf.json()["code"], pdf.json()["error"]) == (
            514,
            "unsupported_media",
            "UnsupportedMedia",
        )
        huge = client.post("/api/upload/media", json={"size": 10**13, "name": "huge.mp4"})
        assert (huge.status_code, huge.json()["code"]) == (507, "exceeded_file_size")
        over_quota = client.post("/api/upload/media", json={"size": 15 * 10**9, "name": "long.mp4"})  # quota 10 GB
        assert (over_quota.status_code, over_quota.json()["code"]) == (507, "exceeded_per_user_size")
        assert client.post("/api/upload/media", json={"size": -1, "name": "a.mp4"}).status_code == 400
        small = client.post("/api/upload/media", json={"size": 9, "name": "tiny.mp4"}).json()["id"]
        for content_range in ("bytes 5-1/9", "bytes 0-9/9", "bytes 0-3/10", "items 0-3/9", None):
            headers = {"Content-Range": content_range} if content_range else {}
            bad = client.put("/api/upload/media", params={"id": small}, content=b"x", headers=headers)
            assert (bad.status_code, bad.json()["code"]) == (400, "editor.upload.range"), content_range
        assert client.put("/api/upload/media", params={"id": second_id}, content=b"x").status_code == 404

        missing = client.delete("/api/mediafiles/mda_nothing")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"


def test_an_abandoned_upload_fails_once_its_session_expires(
    editor_stack: EditorStack, developer: Developer, session: Session
) -> None:
    with editor_stack.client(session.id) as client:
        upload_id = client.post("/api/upload/media", json={"size": 1000, "name": "abandoned.mp4"}).json()["id"]

        def put(start: int) -> int:
            headers = {"Content-Range": f"bytes {start}-{start + 99}/1000"}
            return client.put(
                "/api/upload/media", params={"id": upload_id}, content=b"x" * 100, headers=headers
            ).status_code

        assert put(0) == 206

        async def later(seconds: float) -> list[str]:
            state = await OriginState.open(load_settings(environ=editor_stack.env))
            try:
                at = time.time() + seconds
                await sweep(state, now=at)  # the resumable upload expires (tus.expires_after, 24 h)
                return await fail_expired(state, at)
            finally:
                await state.close()

        assert upload_id not in asyncio.run(later(3600))
        assert client.get("/api/mediafile/status", params={"id": upload_id}).json()["status"] == "upload"
        assert upload_id in asyncio.run(later(25 * 3600))
        status = client.get("/api/mediafile/status", params={"id": upload_id}).json()
        assert status["status"] == "ready" and status["error"]["type"] == "internal_server_error"
        assert "expired" in status["error"]["message"]
        assert put(100) == 404
