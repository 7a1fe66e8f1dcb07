"""Imports by URL (SSRF guard, the from-URL retry rules, failures as error objects and callbacks),
from an S3 bucket (moto, with credentials of its own), and media-info tasks."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from mediaedge.settings import load_settings
from origin.store import open_store
from origin.store.schema import jobs
from tests.editor.conftest import (
    Developer,
    EditorStack,
    Receiver,
    Session,
    luma_clip,  # noqa: F401 - fixture
    luma_reference,  # noqa: F401 - fixture
    nearest_frame,
    serve_routes,
    wait_for,
)
from tests.fixtures.s3 import empty_and_delete_bucket

pytestmark = pytest.mark.slow

TICKS = 10_000_000


class Upstream:
    def __init__(self, clip: Path) -> None:
        self.clip = clip
        self.hits: Counter[str] = Counter()
        self.url = ""

    async def serve(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.hits[name] += 1
        if name == "flaky.mp4" and self.hits[name] == 1:
            return PlainTextResponse("busy", 503)
        if name in ("clip.mp4", "flaky.mp4", "info.mp4"):
            return FileResponse(self.clip, media_type="video/mp4")
        if name == "notes.txt":
            return PlainTextResponse("not media")
        return PlainTextResponse("no such file", 404)


@pytest.fixture(scope="module")
def upstream(luma_clip: Path) -> Iterator[Upstream]:  # noqa: F811
    source = Upstream(luma_clip)
    with serve_routes([Route("/media/{name}", source.serve)]) as url:
        source.url = f"{url}/media"
        yield source


def _status(client: Any, media_id: str) -> dict[str, Any]:
    response = client.get("/api/mediafile/status", params={"id": media_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _settled(client: Any, media_id: str) -> dict[str, Any]:
    return dict(
        wait_for(lambda: (s := _status(client, media_id))["status"] == "ready" and s, timeout=90, what="import")
    )


def test_import_by_url(
    editor_stack: EditorStack,
    developer: Developer,
    session: Session,
    receiver: Receiver,
    upstream: Upstream,
    luma_reference: list[float],  # noqa: F811
) -> None:
    with editor_stack.client(session.id) as client:
        folder = client.post("/api/folders", json={"name": "Imports"}).json()["id"]
        made = client.post("/api/import/media/url", json={"url": f"{upstream.url}/clip.mp4", "folder": folder})
        assert made.status_code == 200, made.text
        media_id = made.json()["id"]
        assert _status(client, media_id)["status"] in ("import", "prepare_thumbnails", "ready")
        assert _settled(client, media_id)["error"] is None
        entry = client.get(f"/api/mediafiles/{media_id}").json()
        assert (entry["type"], entry["name"]) == ("url", "clip.mp4")
        listed = client.get("/api/mediafiles", params={"folder": folder}).json()
        assert [e["id"] for e in listed["entries"]] == [media_id]
        assert abs(entry["duration"] - 5 * TICKS) <= TICKS // 10
        frame = client.get("/api/clip_thumbnail", params={"id": media_id, "time": 33_000_000}).json()
        import base64

        assert nearest_frame(base64.b64decode(frame["data"]), luma_reference) == 33

        flaky = client.post("/api/import/media/url", json={"url": f"{upstream.url}/flaky.mp4"}).json()["id"]
        assert _settled(client, flaky)["error"] is None
        assert upstream.hits["flaky.mp4"] == 2  # a 503 is retried

        missing = client.post("/api/import/media/url", json={"url": f"{upstream.url}/gone.mp4"}).json()["id"]
        failed = wait_for(lambda: (s := _status(client, missing))["error"] and s, timeout=60, what="failure")
        assert failed["status"] == "ready" and failed["error"]["type"] == "not_found"
        assert upstream.hits["gone.mp4"] == 1  # a 4xx is not

        text = client.post("/api/import/media/url", json={"url": f"{upstream.url}/notes.txt"}).json()["id"]
        refused = wait_for(lambda: (s := _status(client, text))["error"] and s, timeout=60, what="failure")
        assert refused["error"]["type"] == "unsupported_media"

        for url in ("http://10.0.0.1/a.mp4", "http://169.254.169.254/latest/meta-data", "file:///etc/passwd"):
            blocked = client.post("/api/import/media/url", json={"url": url})
            assert blocked.status_code == 400 and blocked.json()["code"] == "editor.import.url_refused", url

    ready = [orjson.loads(b) for _, b in receiver.of_type("media_ready")]
    assert {e["payload"]["mediaFileId"] for e in ready} >= {media_id, flaky}
    errors = wait_for(lambda: receiver.of_type("media_error"), what="media_error callback")
    payloads = [orjson.loads(b)["payload"] for _, b in errors]
    assert {
        "mediaFileId": missing,
        "error": {"type": "not_found", "message": "URL returned HTTP 404 Not Found"},
    } in payloads


def test_import_from_an_s3_bucket(
    editor_stack: EditorStack,
    developer: Developer,
    session: Session,
    s3_server: str,
    s3_client: Any,
    luma_clip: Path,  # noqa: F811
) -> None:
    bucket = f"editor-src-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    try:
        s3_client.put_object(Bucket=bucket, Key="clips/from-bucket.mp4", Body=luma_clip.read_bytes())
        s3_client.put_object(Bucket=bucket, Key="readme.txt", Body=b"not media")
        body = {
            "awsAccessKey": "AKIDEDITORTEST",
            "awsSecreteKey": "bucket-secret-value",
            "awsBucketName": bucket,
            "awsEndPoint": s3_server,
        }
        with editor_stack.client(session.id) as client:
            answer = client.post("/api/import/media/awsbucket", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["id"] and answer.json()["error"] == ""

            def imported() -> list[dict[str, Any]]:
                found = client.get("/api/mediafiles", params={"search": "from-bucket", "count": 50}).json()
                return [e for e in found["entries"] if e["status"] == "ready"]

            (entry,) = wait_for(imported, timeout=90, what="the bucket's media file")
            assert entry["error"] is None, entry["error"]
            assert (entry["name"], entry["type"], entry["size"]) == ("from-bucket.mp4", "url", luma_clip.stat().st_size)
            assert client.get("/api/mediafiles", params={"search": "readme"}).json()["total_count"] == 0

        async def payloads() -> list[str]:
            store = await open_store(load_settings(environ=editor_stack.env).database.url)
            try:
                result = await store.db.execute(sa.select(jobs.c.payload).where(jobs.c.kind.like("editor.%")))
                return [orjson.dumps(row[0]).decode() for row in result]
            finally:
                await store.close()

        stored = asyncio.run(payloads())
        assert stored and not any("bucket-secret-value" in p or "AKIDEDITORTEST" in p for p in stored)
    finally:
        empty_and_delete_bucket(s3_client, bucket)


def test_mediainfo_tasks(
    editor_stack: EditorStack,
    developer: Developer,
    session: Session,
    upstream: Upstream,
    luma_reference: list[float],  # noqa: F811
) -> None:
    import base64

    with editor_stack.client(developer.api_key) as client:
        body = {"originalUrl": f"{upstream.url}/info.mp4", "previewUrl": f"{upstream.url}/info.mp4?preview=1"}
        task_id = client.post("/api/task/mediainfo", json=body).json()["id"]
        first = client.get(f"/api/task/mediainfo/{task_id}")
        assert first.status_code in (200, 202)
        done = wait_for(
            lambda: (r := client.get(f"/api/task/mediainfo/{task_id}")).status_code == 200 and r.json(),
            timeout=90,
            what="media info",
        )
        info = done["info"]
        assert (info["name"], info["filetype"], info["mediaType"]) == ("info.mp4", "mp4", "video")
        assert abs(info["duration"] - 5 * TICKS) <= TICKS // 10 and (info["width"], info["height"]) == (320, 180)
        assert info["previewUrl"] == body["previewUrl"] and info["audioTracks"] == ["Narration"]
        assert info["size"] == upstream.clip.stat().st_size
        assert nearest_frame(base64.b64decode(info["thumbnail"]), luma_reference) == 0
        times = [t["time"] for t in done["thumbnails"]]
        assert times == [n * TICKS for n in range(5)]
        assert [nearest_frame(base64.b64decode(t["data"]), luma_reference) for t in done["thumbnails"]] == [
            0,
            10,
            20,
            30,
            40,
        ]

        hits = upstream.hits["info.mp4"]
        assert client.post("/api/task/mediainfo", json=body).json()["id"] == task_id  # cached per source
        assert upstream.hits["info.mp4"] == hits

        blocked = client.post("/api/task/mediainfo", json={"originalUrl": "http://10.1.2.3/x.mp4"}).json()["id"]
        failed = wait_for(
            lambda: (r := client.get(f"/api/task/mediainfo/{blocked}")).status_code == 422 and r.json(),
            timeout=60,
            what="the refused fetch",
        )
        assert failed["code"] == "editor.mediainfo.failed" and "private" in failed["message"]
        assert client.post("/api/task/mediainfo", json={}).status_code == 400
    with editor_stack.client(session.id) as client:  # a session is not the developer's key
        assert client.post("/api/task/mediainfo", json=body).json()["code"] == "editor.api_key.invalid"
