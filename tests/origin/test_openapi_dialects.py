"""The media, video objects, uploads and editor APIs called the way a client does, against a running
origin: each answer is a status its operation declares, with a body matching the schema declared for
that status in the origin's own /openapi.json. Together the calls cover every operation of the four
dialects that declares a JSON success body, but the few listed in :data:`NOT_CALLED` (and why)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.fixtures.media import make_clip, make_png
from tests.origin.openapi_calls import Calls, editor_session, with_success_bodies

DIALECTS = ("media", "videos", "uploads", "editor")
#: Operations with a JSON success body this module does not reach, and why.
NOT_CALLED = {
    # A voiceover needs a WebRTC peer to offer a connection (tests/editor/test_voiceover.py has one).
    ("post", "/api/voiceovers"): "WebRTC offer",
    ("put", "/api/voiceovers/{id}"): "WebRTC offer",
    ("get", "/api/voiceovers/{id}"): "WebRTC offer",
    ("delete", "/api/voiceovers/{id}"): "WebRTC offer",
    # Importing the audio library needs its list file on the server (tests/editor/test_audiolib.py).
    ("post", "/api/import/audiolib_json"): "audio library list",
    # An audio library file exists only once an import ran on a worker (this origin has none).
    ("get", "/api/audiolib_files/{id}"): "audio library import",
}


@pytest.fixture(scope="module")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("openapi-media")
    clip = make_clip(Path(folder) / "clip.mp4", seconds=2, size="160x90", rate=10)
    png = make_png(Path(folder) / "still.png", "red", "64x36")
    return {"mp4": clip.read_bytes(), "png": png.read_bytes()}


def _media_asset(call: Calls, bearer: dict, data: bytes, mime: str, filename: str) -> dict:
    """An asset of the media API: declared, posted to the origin's own form, finalized."""
    declaration = {"sha256": hashlib.sha256(data).hexdigest(), "sizeBytes": len(data), "mime": mime}
    ticket = call("post", "/api/v1/media/upload-url", 201, headers=bearer, json={**declaration, "filename": filename})
    ticket = ticket["data"]
    form = urlsplit(ticket["uploadUrl"]).path
    files = {"file": (filename, data, mime)}
    call("post", "/api/v1/media/direct-upload", 204, form, data=ticket["uploadFields"], files=files)
    asset_id = ticket["assetId"]
    finalized = call("post", "/api/v1/media/{id}/finalize", 200, f"/api/v1/media/{asset_id}/finalize", headers=bearer)
    again = call("post", "/api/v1/media/upload-url", 200, headers=bearer, json={**declaration, "filename": filename})
    assert again["data"]["uploadUrl"] is None and again["data"]["assetId"] == asset_id
    return finalized["data"]


def _media_api(server, client: httpx.Client, call: Calls, media_files: dict[str, bytes]) -> None:
    bearer = {"Authorization": f"Bearer {server.api_key}", "X-User-Id": "u1"}
    video = _media_asset(call, bearer, media_files["mp4"], "video/mp4", "clip.mp4")
    image = _media_asset(call, bearer, media_files["png"], "image/png", "still.png")
    assert image["status"] == "ready" and image["variants"], image  # image variants are made at finalize
    one = f"/api/v1/media/{video['id']}"
    call("get", "/api/v1/media/{id}", 200, one, headers=bearer)
    page = call("get", "/api/v1/media", 200, headers=bearer, params={"page[size]": "1"})
    assert page["links"]["next"]
    call("get", "/api/v1/media/{id}/variants", 200, f"/api/v1/media/{image['id']}/variants", headers=bearer)
    vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello\n"
    caption = {"language": "en-us", "content": vtt}
    call("post", "/api/v1/media/{id}/captions", 201, f"{one}/captions", headers=bearer, json=caption)
    call("get", "/api/v1/media/{id}/captions", 200, f"{one}/captions", headers=bearer)
    track = f"{one}/captions/en-US"
    call("patch", "/api/v1/media/{id}/captions/{lang}", 200, track, headers=bearer, json={"approved": False})
    call("get", "/api/v1/media/{id}/transcript", 200, f"{one}/transcript", headers=bearer, params={"lang": "en-US"})
    call("get", "/api/v1/media/{id}", 200, one, headers=bearer)  # now with its captions and transcript
    call("delete", "/api/v1/media/{id}/captions/{lang}", 204, track, headers=bearer)
    call("get", "/api/v1/media/ai/voices", 200, headers=bearer)
    call("get", "/api/v1/media/ai/usage", 200, headers=bearer)
    captions = {"assetId": video["id"], "language": "en"}
    job_id = call("post", "/api/v1/media/ai/generate-caption", 202, headers=bearer, json=captions)["data"]["id"]
    call("post", "/api/v1/media/ai/generate-caption", 200, headers=bearer, json=captions)  # the same job again
    call("get", "/api/v1/media/ai/jobs/{job_id}", 200, f"/api/v1/media/ai/jobs/{job_id}", headers=bearer)
    call("post", "/api/v1/media/ai/generate-audio", 202, headers=bearer, json={"text": "Hello there", "language": "en"})
    call("post", "/api/v1/media/ai/generate-image", 503, headers=bearer, json={"prompt": "a cat", "size": "256x256"})
    call("delete", "/api/v1/media/{id}", 204, f"/api/v1/media/{image['id']}", headers=bearer)


def _video_objects_api(server, client: httpx.Client, call: Calls, media_files: dict[str, bytes]) -> None:
    bearer = {"Authorization": f"Bearer {server.api_key}"}
    fields = {"title": "Talk", "description": "A talk", "tags": ["a", "b"], "metadata": [{"key": "k", "value": "v"}]}
    video = call("post", "/api/videos/create", 201, headers=bearer, json=fields)["data"]
    one = f"/api/videos/{video['id']}"
    call("post", "/api/videos", 201, headers=bearer, json={"title": "Second", "is_public": True})
    call("post", "/api/videos", 200, headers=bearer, json={"limit": 5, "sort_by": "title", "order_by": "asc"})
    call("patch", "/api/videos/{video_id}", 200, one, headers=bearer, json={"title": "Renamed"})
    call("get", "/api/videos/cost", 200, headers=bearer, params={"qualities": "360p,720p", "duration": "60"})
    mp4 = media_files["mp4"]
    part = {"Content-Range": f"bytes 0-{len(mp4) - 1}/{len(mp4)}", **bearer}
    form = {"index": "0", "hash": hashlib.md5(mp4).hexdigest()}  # noqa: S324 - the API's part checksum
    files = {"file": ("clip.mp4", mp4)}
    call("post", "/api/videos/{video_id}/part", 200, f"{one}/part", headers=part, data=form, files=files)
    call("post", "/api/videos/{video_id}/complete", 200, f"{one}/complete", headers=bearer)
    call("get", "/api/videos/{video_id}/complete", 200, f"{one}/complete", headers=bearer)  # answers as the first
    thumbnail = {"file": ("still.png", media_files["png"], "image/png")}
    call("post", "/api/videos/{video_id}/thumbnail", 200, f"{one}/thumbnail", headers=bearer, files=thumbnail)
    shown = call("get", "/api/videos/{video_id}", 200, one, headers=bearer)["data"]
    assert shown["metadata"] == [{"key": "k", "value": "v"}] and shown["qualities"], shown
    for target, status in (("thumbnail", 200), ("source", 302)):  # a private video's URLs carry a signed link
        url = urlsplit(shown["assets"][f"{target}_url"])
        call("get", f"/api/videos/{{video_id}}/{target}", status, url.path, params=url.query)
    call("delete", "/api/videos/{video_id}", 200, one, headers=bearer)


def _uploads_api(server, client: httpx.Client, call: Calls, media_files: dict[str, bytes]) -> None:
    bearer = {"Authorization": f"Bearer {server.api_key}"}
    files = {"video": ("clip.mp4", media_files["mp4"], "video/mp4")}
    accepted = call("post", "/api/client/v1/uploads", 202, headers=bearer, files=files, data={"folder": "root/talks"})
    call("get", "/api/client/v1/uploads", 200, headers=bearer)
    upload_id = accepted["data"]["id"]
    call("get", "/api/client/v1/uploads/{upload_id}", 200, f"/api/client/v1/uploads/{upload_id}", headers=bearer)


def _editor_api(server, client: httpx.Client, call: Calls, media_files: dict[str, bytes]) -> None:
    bearer = {"Authorization": f"Bearer {server.api_key}"}
    call("post", "/api/developer", (200, 201), headers=bearer, json={"corsOrigins": ["https://editor.example"]})
    call("get", "/api/developer", 200, headers=bearer)
    user = call("post", "/api/users", 200, json={"apiKey": server.api_key, "name": "ann", "data": "{}"})["id"]
    call("patch", "/api/users/{id}", 200, f"/api/users/{user}", json={"name": "bob"})
    call("get", "/api/users/{id}", 200, f"/api/users/{user}")
    me = {"Authorization": editor_session(client, server.api_key)}

    project = call("post", "/api/projects", 200, headers=me, json={"name": "p1", "data": {"tracks": []}})["id"]
    call("get", "/api/projects", 200, headers=me)
    call("get", "/api/projects", 200, headers=me, params={"data": "0"})
    call("patch", "/api/projects/{id}", 200, f"/api/projects/{project}", headers=me, json={"name": "p2"})
    call("get", "/api/projects/{id}", 200, f"/api/projects/{project}", headers=me)
    action = call("post", "/api/actions", 200, headers=me, json={"project": project, "name": "cut", "data": {}})["id"]
    call("get", "/api/actions", 200, headers=me, params={"project": project})
    call("patch", "/api/actions/{id}", 200, f"/api/actions/{action}", headers=me, json={"canceled": True})
    call("delete", "/api/projects/{id}", 200, f"/api/projects/{project}", headers=me)

    png = media_files["png"]
    media = {"Authorization": f"Bearer {server.api_key}"}
    image = _media_asset(call, media, png, "image/png", "frame.png")["id"]
    call("get", "/api/mediafiles/{id}", 200, f"/api/mediafiles/{image}", headers=me)
    call("get", "/api/mediafile/status", 200, headers=me, params={"id": image})
    call("get", "/api/dev/files/{id}", 200, f"/api/dev/files/{image}", headers=me)
    call("get", "/api/dev/media", 200, headers=me)
    for template in ("/api/clip_thumbnail", "/api/dev/thumbnail"):
        call("get", template, 200, headers=me, params={"id": image, "time": "0"})
    call("get", "/api/clip_thumbnails", 200, headers=me, params={"id": image, "count": "2"})
    xtl = (
        '<timelines version="2"><timeline width="64" height="36" fps="25" name="out.mp4"><group>'
        f'<track video="1" audio="0"><clip src="{image}" start="0" stop="10000000"/></track>'
        "</group></timeline></timelines>"
    )
    task = call("post", "/api/task/editing", 200, headers=me, json={"xtl_task": xtl})["taskId"]
    call("get", "/api/task/editing", 200, headers=me, params={"id": task})
    call("delete", "/api/task/editing", 200, headers=me, params={"id": task})

    folder = call("post", "/api/folders", 200, headers=me, json={"name": "docs"})["id"]
    inner = call("post", "/api/folders", 200, headers=me, json={"name": "inner", "folder": folder})["id"]
    call("patch", "/api/folders/{id}", 200, f"/api/folders/{inner}", headers=me, json={"name": "renamed"})
    move = {"files": [image], "folders": []}
    call("put", "/api/folders/{id}/entries", 200, f"/api/folders/{folder}/entries", headers=me, json=move)
    listed = call("get", "/api/mediafiles", 200, headers=me, params={"folder": folder})
    assert {e["type"] for e in listed["entries"]} == {"folder", "uploaded"}, listed
    call("get", "/api/mediafiles", 200, headers=me)
    call("delete", "/api/folders/{id}", 409, f"/api/folders/{folder}", headers=me)
    call("delete", "/api/folders/{id}", 200, f"/api/folders/{folder}", headers=me, params={"force": "1"})
    call("delete", "/api/mediafiles/{id}", 404, f"/api/mediafiles/{image}", headers=me)

    session = call("post", "/api/upload/media", 200, headers=me, json={"size": len(png), "name": "up.png"})["id"]
    chunk = {**me, "Content-Range": f"bytes 0-{len(png) - 1}/{len(png)}", "Content-Type": "application/octet-stream"}
    call("put", "/api/upload/media", 200, headers=chunk, params={"id": session}, content=png)
    call("get", "/api/upload/media", 200, headers=me, params={"id": session})
    call("delete", "/api/mediafiles/{id}", 200, f"/api/mediafiles/{session}", headers=me)
    call("post", "/api/import/media/url", 200, headers=me, json={"url": "https://media.example/a.mp4"})
    bucket = {"awsAccessKey": "AK", "awsSecreteKey": "SK", "awsBucketName": "media"}
    call("post", "/api/import/media/awsbucket", 200, headers=me, json=bucket)
    imported = call("post", "/api/upload/project", 200, headers=me, json={"size": 1000})["id"]
    zip_chunk = {**me, "Content-Range": "bytes 0-9/1000", "Content-Type": "application/octet-stream"}
    start = b"PK\x03\x04" + b"\0" * 6
    call("put", "/api/upload/project", 206, headers=zip_chunk, params={"id": imported}, content=start)
    call("get", "/api/upload/project", 200, headers=me, params={"id": imported})
    call("delete", "/api/upload/project", 200, headers=me, params={"id": imported})

    overlay = call("post", "/api/overlay_img", 200, headers=me, json={"data": base64.b64encode(png).decode()})["id"]
    call("get", "/api/overlay_img/{id}", 200, f"/api/overlay_img/{overlay}", headers=me)
    call("get", "/api/stat", 200, headers=me)
    call("get", "/api/version", 200)
    call("get", "/api/import/audiolib_json", 200, headers=me)
    call("get", "/api/audiolib_files", 200, headers=me, params={"type": "sound"})
    call("get", "/api/audiolib_files/categories", 200, headers=me)
    call("get", "/api/audiolib_files/moods", 200, headers=me)
    developer = {"Authorization": server.api_key}
    info = call(
        "post", "/api/task/mediainfo", 200, headers=developer, json={"originalUrl": "https://media.example/a.mp4"}
    )
    call("get", "/api/task/mediainfo/{id}", 202, f"/api/task/mediainfo/{info['id']}", headers=developer)


def test_dialect_answers_match_the_document_everywhere(shared_origin_server, media_files):
    """Each dialect's calls; together they reach every operation with a declared success body, but
    :data:`NOT_CALLED`."""
    server = shared_origin_server
    with httpx.Client(base_url=server.url, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        call = Calls(client, client.get("/openapi.json").json())
        for dialect in (_media_api, _video_objects_api, _uploads_api, _editor_api):
            dialect(server, client, call, media_files)
    missing = with_success_bodies(call.document, DIALECTS) - call.checked
    assert missing == set(NOT_CALLED), sorted(missing ^ set(NOT_CALLED))
