"""The audio library: imported from the server's JSON list (paths kept inside its directory),
listed by type, category and mood, with live counts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest

from mediaedge.ffmpeg import ffmpeg_exe
from tests.editor.conftest import Developer, EditorStack, Session, wait_for

pytestmark = pytest.mark.slow


def _tone(path: Path, frequency: int) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={frequency}:duration=1", "-c:a", "aac", "-b:a", "48k", str(path)],
        check=True,
    )  # fmt: skip


def test_audio_library(editor_stack: EditorStack, developer: Developer, session: Session) -> None:
    library = editor_stack.origin.data_dir / "audiolib"
    (library / "music").mkdir(parents=True)
    _tone(library / "music" / "funk.m4a", 440)
    _tone(library / "music" / "calm.m4a", 220)
    _tone(library / "cats.m4a", 880)
    entries = [
        {"name": "Funk", "relativePath": "music/funk.m4a", "category": "Electro", "mood": "Happy", "type": "music"},
        {"name": "Calm", "relativePath": "music/calm.m4a", "category": "Ambient", "mood": "Happy", "type": "music"},
        {"name": "Cats", "relativePath": "cats.m4a", "category": "animals", "type": "sound"},
        {"name": "Escape", "relativePath": "../edge_secret", "category": "x", "type": "sound"},
        {"name": "Gone", "relativePath": "missing.m4a", "category": "x", "type": "music"},
    ]
    (library / "audioLib.json").write_bytes(orjson.dumps({"entries": entries}))

    with editor_stack.client(session.id) as client:
        assert client.post("/api/import/audiolib_json", json={}).json() == {}

        def finished() -> dict | None:
            state = client.get("/api/import/audiolib_json").json()
            return state if state["status"] == "done" else None

        state = wait_for(finished, timeout=90, what="the audio library import")
        assert (state["processedCount"], state["totalCount"]) == (5, 5)
        assert "outside the audio library directory" in state["error"] and "missing.m4a" in state["error"]

        music = client.get("/api/audiolib_files", params={"type": "music"}).json()
        assert music["total_count"] == 2 and [e["name"] for e in music["entries"]] == ["Calm", "Funk"]
        assert all(e["mediaType"] == "audio" and e["status"] == "ready" for e in music["entries"])
        assert abs(music["entries"][0]["duration"] - 10_000_000) < 1_000_000
        desc = client.get("/api/audiolib_files", params={"sort_order": "desc"}).json()  # music is the default
        assert [e["name"] for e in desc["entries"]] == ["Funk", "Calm"]

        categories = client.get("/api/audiolib_files/categories", params={"type": "music"}).json()["entries"]
        assert [(c["name"], c["entriesCount"]) for c in categories] == [("Ambient", 1), ("Electro", 1)]
        moods = client.get("/api/audiolib_files/moods").json()["entries"]
        assert [(m["name"], m["entriesCount"]) for m in moods] == [("Happy", 2)]
        electro = next(c["id"] for c in categories if c["name"] == "Electro")
        only = client.get("/api/audiolib_files", params={"category_id": electro}).json()
        assert [e["name"] for e in only["entries"]] == ["Funk"]
        assert only["entries"][0]["categoryId"] == electro and only["entries"][0]["moodId"] == moods[0]["id"]
        happy = client.get("/api/audiolib_files", params={"mood_id": moods[0]["id"], "search": "CAL"}).json()
        assert [e["name"] for e in happy["entries"]] == ["Calm"]

        sounds = client.get("/api/audiolib_files", params={"type": "sound"}).json()
        assert [e["name"] for e in sounds["entries"]] == ["Cats"]
        one = client.get(f"/api/audiolib_files/{sounds['entries'][0]['id']}").json()
        assert one["name"] == "Cats" and one["filetype"] == "m4a"
        assert client.get("/api/audiolib_files", params={"type": "noise"}).status_code == 400

        # Importing again adds nothing twice.
        client.post("/api/import/audiolib_json", json={})
        wait_for(finished, timeout=90, what="the second import")
        assert client.get("/api/audiolib_files", params={"type": "music"}).json()["total_count"] == 2
