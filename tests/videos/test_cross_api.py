"""One video, every API: an upload through the uploads API (``/api/client/v1/uploads``) is a video
object here — listed, shown ``done`` once transcoded, played through its ``hls_url`` — and a media
file of the editor, in the folders its path names."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from origin.state import OriginState
from tests.streams.conftest import drain
from tests.videos.conftest import VideoTenant

pytestmark = pytest.mark.anyio


async def test_an_upload_of_the_uploads_api_is_a_video_object_here(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState, clip: Path
):
    accepted = await client.post(
        "/api/client/v1/uploads",
        headers=vtenant.headers,
        data={"folder": "root/course"},
        files={"video": ("lecture.mp4", clip.read_bytes(), "video/mp4")},
    )
    assert accepted.status_code == 202, accepted.text
    upload_id = accepted.json()["data"]["id"]
    await drain(origin_state)
    listed = (await client.post("/api/videos", headers=vtenant.pair_headers, json={})).json()["data"]
    assert [v["id"] for v in listed["videos"]] == [upload_id]
    video = listed["videos"][0]
    assert video["status"] == "done", video
    assert video["duration"] == pytest.approx(10, abs=0.2) and video["size"] == clip.stat().st_size
    assert video["qualities"] and {q["status"] for q in video["qualities"]} == {"done"}
    hls = await client.get(video["assets"]["hls_url"])
    assert hls.status_code == 302 and hls.headers["location"].endswith("/master.m3u8")
    assert f"/{upload_id}/" in hls.headers["location"]  # public: the upload's own id opens it at the edge


async def test_an_upload_into_a_new_path_makes_its_folders_which_the_editor_lists(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState, clip: Path
):
    accepted = await client.post(
        "/api/client/v1/uploads",
        headers=vtenant.headers,
        data={"folder": "root/a/b"},
        files={"video": ("lecture.mp4", clip.read_bytes(), "video/mp4")},
    )
    assert accepted.status_code == 202, accepted.text
    upload_id = accepted.json()["data"]["id"]
    # The upload made the folders itself (before the editor ever listed anything).
    (a,) = await origin_state.store.editor.subfolders(vtenant.id, None)
    (b,) = await origin_state.store.editor.subfolders(vtenant.id, a.id)
    assert (a.name, b.name) == ("a", "b")

    developer = await client.post("/api/developer", headers=vtenant.headers, json={})
    assert developer.status_code == 201, developer.text
    user = {"name": "ann", "data": "", "apiKey": developer.json()["apiKey"], "apiAuthToken": "ann-token"}
    session = (await client.post("/api/users", json=user)).json()["id"]

    async def entries(folder: str | None = None) -> list[tuple[str, str, str]]:
        params = {"folder": folder} if folder else {}
        listed = await client.get("/api/mediafiles", headers={"Authorization": session}, params=params)
        assert listed.status_code == 200, listed.text
        return [(e["id"], e["name"], e["filetype"]) for e in listed.json()["entries"]]

    assert (a.id, "a", "folder") in await entries()
    assert await entries(a.id) == [(b.id, "b", "folder")]
    assert [entry[0] for entry in await entries(b.id)] == [upload_id]
    again = await client.post(
        "/api/client/v1/uploads",
        headers=vtenant.headers,
        data={"folder": "/root/a/b/"},
        files={"video": ("second.mp4", clip.read_bytes(), "video/mp4")},
    )
    assert again.status_code == 202, again.text
    assert await entries(a.id) == [(b.id, "b", "folder")]  # the same folders, not new ones
    assert {entry[0] for entry in await entries(b.id)} == {upload_id, again.json()["data"]["id"]}
    # The editor's own folder calls keep one folder per name too.
    editor = {"Authorization": session}
    same = await client.post("/api/folders", headers=editor, json={"name": "b", "folder": a.id})
    assert same.json() == {"id": b.id}
    c = (await client.post("/api/folders", headers=editor, json={"name": "c", "folder": a.id})).json()["id"]
    taken = await client.patch(f"/api/folders/{c}", headers=editor, json={"name": "b"})
    assert (taken.status_code, taken.json()["code"]) == (409, "editor.folder.exists")
    assert await entries(a.id) == [(b.id, "b", "folder"), (c, "c", "folder")]
