"""The video objects API on PostgreSQL (the other tests run on SQLite): a video created, listed by tag
and metadata, uploaded in parts, completed, transcoded and deleted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mediaedge.settings import Settings
from origin.state import OriginState
from tests.fixtures.db import fresh_pg_database
from tests.fixtures.origin import make_settings
from tests.streams.conftest import FAST, drain
from tests.videos.conftest import MAX_PART, MIN_PART, VideoTenant, create_video, upload_in_parts

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(tmp_path: Path, pg_admin_dsn: str) -> Iterator[Settings]:
    with fresh_pg_database(pg_admin_dsn) as url:
        yield make_settings(
            tmp_path / "var",
            **FAST,
            database={"url": url},
            videos={"min_part_bytes": MIN_PART, "max_part_bytes": MAX_PART},
        )


async def test_a_video_from_create_to_delete_on_postgresql(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState, clip: Path
):
    assert origin_state.store.db.dialect == "postgresql"
    quality = {"resolution": "240p", "type": "hls", "container_type": "mp4", "video_config": {"codec": "h264"}}
    video = await create_video(
        client, vtenant, tags=["live"], metadata=[{"key": "genre", "value": "rock"}], qualities=[quality]
    )
    await create_video(client, vtenant, title="Other")
    listed = await client.post(
        "/api/videos",
        headers=vtenant.pair_headers,
        json={"tags": "live", "metadata": {"genre": "rock"}, "sort_by": "title"},
    )
    assert [v["id"] for v in listed.json()["data"]["videos"]] == [video["id"]]
    await upload_in_parts(client, vtenant, video["id"], clip.read_bytes(), part_size=MIN_PART * 4)
    assert (await client.get(f"/api/videos/{video['id']}/complete", headers=vtenant.headers)).status_code == 200
    await drain(origin_state)
    done = (await client.get(f"/api/videos/{video['id']}", headers=vtenant.headers)).json()["data"]
    assert (done["status"], done["qualities"]) == ("done", [{"name": "240p", "status": "done", "type": "hls"}])
    assert (await client.get(done["assets"]["hls_url"])).status_code == 302
    assert (await client.delete(f"/api/videos/{video['id']}", headers=vtenant.headers)).status_code == 200
    statuses = await client.post("/api/videos", headers=vtenant.headers, json={"status": "deleted"})
    assert [v["id"] for v in statuses.json()["data"]["videos"]] == [video["id"]]
