"""Project import over real HTTP: a zip of media and a project file (mediaedge JSON or CMX3600 EDL)
uploaded in chunks becomes a project and media files; an imported EDL renders; zip-slip and zip
bombs are refused; a session can be canceled."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from origin.editor import edl
from origin.editor.xtl import parse_xtl
from tests.editor.conftest import EditorStack, Session, wait_for


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _upload(client: httpx.Client, data: bytes, **options: Any) -> str:
    created = client.post("/api/upload/project", json={"size": len(data), "name": "trip.zip", **options})
    assert created.status_code == 200, created.text
    project_id = str(created.json()["id"])
    half = len(data) // 2
    first = client.put("/api/upload/project", params={"id": project_id}, content=data[:half],
                       headers={"Content-Range": f"bytes 0-{half - 1}/{len(data)}"})  # fmt: skip
    assert first.status_code == 206 and first.headers["range"] == f"bytes=0-{half - 1}", first.text
    assert client.get("/api/upload/project", params={"id": project_id}).json()["stage"] == "upload"
    last = client.put("/api/upload/project", params={"id": project_id}, content=data[half:],
                      headers={"Content-Range": f"bytes {half}-{len(data) - 1}/{len(data)}"})  # fmt: skip
    assert last.status_code == 200, last.text
    return project_id


def _settled(client: httpx.Client, project_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get("/api/upload/project", params={"id": project_id}).json()
        return body if body["stage"] == "ready" or body.get("error") else None

    return wait_for(check, timeout=90, interval=0.2, what="the import to settle")  # type: ignore[no-any-return]


@pytest.fixture
def client(editor_stack: EditorStack, session: Session) -> Any:
    with editor_stack.client(session.id) as opened:
        yield opened


def test_a_zip_with_a_json_project_imports(client: httpx.Client, luma_clip: Path) -> None:
    project = {"name": "Trip", "data": {"clips": [{"src": "ref-1", "start": 0}], "note": "ref-1 stays a word"},
               "media": {"ref-1": "media/luma.mp4"}}  # fmt: skip
    data = _zip({"media/luma.mp4": luma_clip.read_bytes(), "project.json": orjson.dumps(project)})
    project_id = _upload(client, data, createFolder=True)
    assert _settled(client, project_id) == {"stage": "ready", "progress": 100}
    got = client.get(f"/api/projects/{project_id}").json()
    assert got["name"] == "Trip" and got["data"]["note"] == "ref-1 stays a word"
    media_id = got["data"]["clips"][0]["src"]
    entry = client.get(f"/api/mediafiles/{media_id}").json()
    assert entry["name"] == "luma.mp4" and entry["mediaType"] == "video" and entry["size"] == luma_clip.stat().st_size
    folders = client.get("/api/mediafiles", params={"filter": "folder"}).json()["entries"]
    trip = next(f for f in folders if f["name"] == "trip")
    inside = client.get("/api/mediafiles", params={"folder": trip["id"]}).json()["entries"]
    assert [e["id"] for e in inside] == [media_id]


EDL = """TITLE: Two cuts
FCM: NON-DROP FRAME

001  AX       B     C        00:00:01:00 00:00:02:00 01:00:00:00 01:00:01:00
* FROM CLIP NAME: luma.mp4
002  AX       B     C        00:00:03:05 00:00:04:00 01:00:01:00 01:00:01:05
* FROM CLIP NAME: luma.mp4
"""


def test_an_edl_project_imports_and_renders(client: httpx.Client, luma_clip: Path) -> None:
    data = _zip({"luma.mp4": luma_clip.read_bytes(), "cut.edl": EDL.encode()}, zipfile.ZIP_DEFLATED)
    project_id = _upload(client, data, fps=10)
    settled = _settled(client, project_id)
    assert settled["stage"] == "ready", settled
    got = client.get(f"/api/projects/{project_id}").json()
    assert got["name"] == "Two cuts"
    events = got["data"]["events"]
    assert [(e["sourceIn"], e["sourceOut"]) for e in events] == [(10_000_000, 20_000_000), (35_000_000, 40_000_000)]
    created = client.post("/api/task/editing", json={"xtl_task": got["data"]["xtl"], "projectId": project_id})
    assert created.status_code == 200, created.text
    task_id = created.json()["taskId"]
    done = wait_for(lambda: (b := client.get("/api/task/editing", params={"id": task_id}).json())["status"]
                    in ("completed", "error") and b, timeout=120, interval=0.2, what="the render")  # fmt: skip
    # The developer of these tests configured an output bucket at https://s3.example, which cannot be
    # reached: the task ends in an upload_error, and the output it made stays a playable media file.
    assert done["status"] == "error", done
    assert done["error"]["type"] == "upload_error" and "s3.example" in done["error"]["message"]
    assert len(done["outputUrls"]) == 1
    media = client.get(f"/api/mediafiles/{created.json()['fileId']}").json()
    assert media["type"] == "output" and media["status"] in ("ready", "prepare_thumbnails"), media
    assert media["duration"] == 15_000_000  # 1 s + 0.5 s at 10 fps


@pytest.mark.parametrize(
    ("members", "compression", "error"),
    [
        ({"../evil.mp4": b"x" * 100, "p.json": b'{"data": {}}'}, zipfile.ZIP_STORED, "unsafe path"),
        ({"/abs.mp4": b"x", "p.json": b'{"data": {}}'}, zipfile.ZIP_STORED, "unsafe path"),
        ({"bomb.mp4": bytes(64 * 1024 * 1024), "p.json": b'{"data": {}}'}, zipfile.ZIP_DEFLATED, "zip bomb"),
        ({"clip.mp4": b"x"}, zipfile.ZIP_STORED, "no project file"),
        ({"p.json": b'{"data": {"a": "r"}, "media": {"r": "missing.mp4"}}'}, zipfile.ZIP_STORED, "not in the zip"),
        ({"p.edl": b"001 AX V C 00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00"}, zipfile.ZIP_STORED, "needs the"),
    ],
)
def test_unsafe_or_broken_zips_are_refused(
    client: httpx.Client, editor_stack: EditorStack, members: dict[str, bytes], compression: int, error: str
) -> None:
    project_id = _upload(client, _zip(members, compression))
    settled = _settled(client, project_id)
    assert settled["stage"] != "ready" and error in settled["error"], settled
    assert client.get(f"/api/projects/{project_id}").status_code == 404
    data_dir = editor_stack.origin.data_dir
    assert not list(data_dir.parent.rglob("evil.mp4")) and not list(data_dir.parent.rglob("abs.mp4"))
    assert not any((data_dir / "imports").iterdir())


def test_an_import_session_can_be_canceled(client: httpx.Client) -> None:
    data = _zip({"p.json": b'{"data": {}}'})
    created = client.post("/api/upload/project", json={"size": len(data)})
    project_id = created.json()["id"]
    first = client.put("/api/upload/project", params={"id": project_id}, content=data[:10],
                       headers={"Content-Range": f"bytes 0-9/{len(data)}"})  # fmt: skip
    assert first.status_code == 206
    assert client.delete("/api/upload/project", params={"id": project_id}).json() == {}
    assert client.get("/api/upload/project", params={"id": project_id}).json()["stage"] == "canceled"
    again = client.put("/api/upload/project", params={"id": project_id}, content=data[10:],
                       headers={"Content-Range": f"bytes 10-{len(data) - 1}/{len(data)}"})  # fmt: skip
    assert again.status_code == 404
    for body in ({"size": 0}, {"size": 10, "fps": 500}, {"size": 10, "createFolder": "yes"}):
        assert client.post("/api/upload/project", json=body).status_code == 400


def test_edl_events_become_a_timeline() -> None:
    parsed = edl.parse_edl(EDL + "003  BL       A     C        00:00:00:00 00:00:00:05 01:00:00:05 01:00:01:00\n", 10)
    assert parsed.title == "Two cuts" and len(parsed.events) == 3
    assert parsed.events[0].media == "luma.mp4" and parsed.events[2].media == "BL" and not parsed.events[2].video
    task = parse_xtl(edl.to_xtl(parsed, {"luma.mp4": "mda_1", "BL": "mda_2"}))
    (group,) = task.timelines[0].groups
    assert [(c.src, c.start, c.stop) for c in group.main.clips] == [("mda_1", 1.0, 2.0), ("mda_1", 3.5, 4.0)]  # type: ignore[union-attr]
    (sound,) = group.audio_tracks
    assert [(c.src, c.position) for c in sound.clips] == [("mda_2", 0.5)]
    with pytest.raises(edl.EdlError, match="line 1"):
        edl.parse_edl("001 AX V C 00:00:00:30 00:00:01:00 00:00:00:00 00:00:01:00", 25)
    with pytest.raises(edl.EdlError, match="no events"):
        edl.parse_edl("TITLE: empty\n", 25)
