"""``/api/videos``: auth, create (every quality rule), get, list (paging, sort, filters, search), update,
delete, and the same record seen by the other APIs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from origin.players import ThemeFields
from origin.state import OriginState
from tests.videos.conftest import VideoTenant, create_video, make_tenant

pytestmark = pytest.mark.anyio

VIDEO_FIELDS = {
    "id",
    "user_id",
    "title",
    "description",
    "metadata",
    "tags",
    "qualities",
    "subtitles",
    "chapters",
    "player_theme",
    "duration",
    "size",
    "is_mp4",
    "is_public",
    "is_panoramic",
    "status",
    "created_at",
    "updated_at",
    "assets",
    "player_theme_id",
    "error",
}
ASSET_FIELDS = {
    "source_url",
    "thumbnail_url",
    "hls_url",
    "hls_iframe",
    "hls_player_url",
    "dash_url",
    "dash_iframe",
    "dash_player_url",
    "mp4_url",
}


async def test_requests_without_a_valid_key_are_refused(client: httpx.AsyncClient, vtenant: VideoTenant):
    missing = await client.post("/api/videos", json={})
    assert missing.status_code == 401
    assert set(missing.json()) == {"statusCode", "message", "error", "code"}
    wrong = await client.post("/api/videos", headers={"Authorization": "Bearer tk_nope"}, json={})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "auth.invalid")
    bad_pair = {"stream-public-key": vtenant.public_key, "stream-secret-key": vtenant.api_key}
    assert (await client.post("/api/videos", headers=bad_pair, json={})).status_code == 401
    assert (await client.post("/api/videos", headers=vtenant.pair_headers, json={})).status_code == 200
    assert (await client.post("/api/videos", headers=vtenant.headers, json={})).status_code == 200


async def test_create_answers_the_full_video_object(client: httpx.AsyncClient, vtenant: VideoTenant):
    response = await client.post(
        "/api/videos/create",
        headers=vtenant.pair_headers,
        json={
            "title": "Intro",
            "description": "First lesson",
            "is_public": False,
            "tags": ["music", "mp4"],
            "metadata": [{"key": "genre", "value": "rock"}],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "success"
    video = body["data"]
    assert set(video) == VIDEO_FIELDS
    assert set(video["assets"]) == ASSET_FIELDS
    assert video["id"].startswith("mda_")
    assert (video["title"], video["description"], video["is_public"]) == ("Intro", "First lesson", False)
    assert video["tags"] == ["music", "mp4"]
    assert video["metadata"] == [{"key": "genre", "value": "rock"}]
    assert (video["status"], video["size"], video["duration"], video["is_mp4"]) == ("new", 0, 0, False)
    assert (video["subtitles"], video["chapters"], video["player_theme"], video["player_theme_id"]) == (
        None,
        None,
        None,
        "",
    )
    assert [q["name"] for q in video["qualities"]] == ["1080p", "720p", "480p", "360p", "240p", "audio"]
    assert {q["status"] for q in video["qualities"]} == {"new"}
    assert {q["type"] for q in video["qualities"]} == {"hls"}
    assert video["created_at"].endswith("Z")
    hls = video["assets"]["hls_url"]
    assert hls.startswith(f"http://127.0.0.1:8000/api/videos/{video['id']}/m3u8?expires=")  # private: signed link
    got = await client.get(f"/api/videos/{video['id']}", headers=vtenant.headers)
    assert got.status_code == 200
    assert got.json()["data"]["title"] == "Intro"


async def test_a_public_videos_asset_urls_are_plain(client: httpx.AsyncClient, vtenant: VideoTenant):
    video = await create_video(client, vtenant)
    assert video["is_public"] is True
    base = f"http://127.0.0.1:8000/api/videos/{video['id']}"
    assert video["assets"]["hls_url"] == f"{base}/m3u8"
    assert video["assets"]["dash_url"] == f"{base}/manifest"
    assert video["assets"]["source_url"] == f"{base}/source"
    assert video["assets"]["mp4_url"] == f"{base}/mp4"
    assert video["assets"]["thumbnail_url"] == f"{base}/thumbnail?resolution=original"
    not_yet = await client.get(f"/api/videos/{video['id']}/m3u8")
    assert (not_yet.status_code, not_yet.json()["code"]) == (404, "VIDEO_NOT_READY")


async def test_custom_qualities_are_listed_with_their_type(client: httpx.AsyncClient, vtenant: VideoTenant):
    qualities = [
        {
            "resolution": "1080p",
            "type": "hls",
            "container_type": "mp4",
            "video_config": {"codec": "h265", "bitrate": 5_000_000, "index": 0},
        },
        {"resolution": "720p", "type": "dash", "container_type": "fmp4", "video_config": {"codec": "h264"}},
        {
            "resolution": "audio",
            "type": "dash",
            "container_type": "fmp4",
            "audio_config": {
                "codec": "aac",
                "bitrate": 192_000,
                "channels": "2",
                "sample_rate": 48_000,
                "language": "en",
                "index": 0,
            },
        },
    ]
    video = await create_video(client, vtenant, qualities=qualities)
    assert video["qualities"] == [
        {"name": "1080p", "status": "new", "type": "hls"},
        {"name": "720p", "status": "new", "type": "dash"},
        {"name": "audio", "status": "new", "type": "dash"},
    ]


def _q(**fields: Any) -> dict[str, Any]:
    return {"resolution": "720p", "type": "hls", "container_type": "mp4", **fields}


@pytest.mark.parametrize(
    ("qualities", "message"),
    [
        ([], "qualities: must be a non-empty array"),
        ("720p", "qualities: must be a non-empty array"),
        ([_q(type="rtmp")], 'qualities[0].type: must be "hls" or "dash"'),
        ([_q(container_type="fmp4")], 'qualities[0].container_type: must be "mpegts" or "mp4" for type hls'),
        ([_q(type="dash", container_type="mpegts")], 'qualities[0].container_type: must be "fmp4" for type dash'),
        ([_q(resolution="999p", video_config={})], "qualities[0].resolution: must be one of"),
        ([_q(), _q(resolution="360p", video_config={"codec": "vp9"})], "qualities[1].video_config.codec"),
        (
            [_q(video_config={"bitrate": 4_000_001})],
            "qualities[0].video_config.bitrate: 4000001 exceeds the 720p maximum of 4000000 bps",
        ),
        ([_q(resolution="240p", video_config={"bitrate": 700_001})], "qualities[0].video_config.bitrate"),
        ([_q(resolution="4320p", video_config={"bitrate": 60_000_001})], "qualities[0].video_config.bitrate"),
        ([_q(video_config={"bitrate": 0})], "qualities[0].video_config.bitrate: must be an integer of at least 1"),
        ([_q(video_config={"index": -1})], "qualities[0].video_config.index"),
        ([_q(container_type="mpegts", video_config={"codec": "h265"})], "qualities[0].container_type: h265 needs"),
        ([_q(audio_config={"codec": "mp3"})], "qualities[0].audio_config.codec: only aac is supported"),
        ([_q(audio_config={"channels": "6"})], 'qualities[0].audio_config.channels: must be "1"'),
        ([_q(audio_config={"sample_rate": 44_000})], "qualities[0].audio_config.sample_rate: must be one of"),
        ([_q(audio_config={"bitrate": 600_000})], "qualities[0].audio_config.bitrate: at most 512000"),
        ([_q(audio_config={"language": "english"})], "qualities[0].audio_config.language"),
        ([_q(audio_config={"index": "0"})], "qualities[0].audio_config.index"),
        ([_q(video_config={"fps": 30})], "qualities[0].video_config: unknown field 'fps'"),
        (
            [_q(video_config={}), _q(resolution="360p", container_type="mpegts", video_config={})],
            "qualities: hls video qualities must share one container_type",
        ),
        ([_q(video_config={}), _q(video_config={})], "qualities[1]: duplicates an earlier quality"),
    ],
)
async def test_every_quality_rule_answers_400_naming_the_field(
    client: httpx.AsyncClient, vtenant: VideoTenant, qualities: Any, message: str
):
    response = await client.post(
        "/api/videos/create", headers=vtenant.headers, json={"title": "x", "qualities": qualities}
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "QUALITIES_INVALID"
    assert response.json()["message"].startswith(message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "title is required"),
        ({"title": "  "}, "title is required"),
        ({"title": 5}, "title must be a string"),
        ({"title": "x", "is_public": "yes"}, "is_public must be true or false"),
        ({"title": "x", "tags": [1]}, "tags must be an array of strings"),
        ({"title": "x", "metadata": [{"value": "v"}]}, "metadata[0].key must be a non-empty string"),
        (
            {"title": "x", "metadata": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]},
            "metadata[1].key 'a' is given twice",
        ),
    ],
)
async def test_invalid_fields_answer_400(client: httpx.AsyncClient, vtenant: VideoTenant, body: dict, message: str):
    response = await client.post("/api/videos/create", headers=vtenant.headers, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"] == message
    assert response.json()["code"]


async def _list(client: httpx.AsyncClient, tenant: VideoTenant, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/videos", headers=tenant.headers, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_list_pages_sorts_filters_and_searches(client: httpx.AsyncClient, vtenant: VideoTenant):
    made = [
        await create_video(
            client, vtenant, title="Bravo rock", tags=["music"], metadata=[{"key": "genre", "value": "rock"}]
        ),
        await create_video(client, vtenant, title="alpha", description="A ROCK concert", tags=["music", "live"]),
        await create_video(client, vtenant, title="Charlie", metadata=[{"key": "genre", "value": "jazz"}]),
    ]
    everything = await _list(client, vtenant)
    assert everything["total"] == 3
    assert [v["id"] for v in everything["videos"]] == [v["id"] for v in reversed(made)]  # newest first
    by_title = await _list(client, vtenant, sort_by="title", order_By="asc")  # the API's own example spelling
    assert [v["title"] for v in by_title["videos"]] == ["alpha", "Bravo rock", "Charlie"]
    page = await _list(client, vtenant, sort_by="title", order_by="desc", limit=1, offset=1)
    assert (page["total"], [v["title"] for v in page["videos"]]) == (3, ["Bravo rock"])
    assert {v["title"] for v in (await _list(client, vtenant, search="rock"))["videos"]} == {"Bravo rock", "alpha"}
    assert {v["title"] for v in (await _list(client, vtenant, tags="music,live"))["videos"]} == {"alpha"}
    assert {v["title"] for v in (await _list(client, vtenant, tags=["music"]))["videos"]} == {"alpha", "Bravo rock"}
    jazz = await _list(client, vtenant, metadata={"genre": "jazz"})
    assert [v["title"] for v in jazz["videos"]] == ["Charlie"]
    assert (await _list(client, vtenant, status="new"))["total"] == 3
    assert (await _list(client, vtenant, status="done"))["total"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"limit": 101}, "limit must be an integer from 1 to 100"),
        ({"limit": 0}, "limit must be an integer from 1 to 100"),
        ({"offset": -1}, "offset must be an integer from 0 to 2147483648"),
        ({"sort_by": "duration"}, "sort_by must be one of created_at, updated_at, title, size"),
        ({"order_by": "up"}, "order_by must be asc or desc"),
        ({"status": "ready"}, "status must be one of new, transcoding, done, fail, deleted"),
    ],
)
async def test_invalid_list_requests_answer_400(
    client: httpx.AsyncClient, vtenant: VideoTenant, body: dict, message: str
):
    response = await client.post("/api/videos", headers=vtenant.headers, json=body)
    assert (response.status_code, response.json()["message"]) == (400, message)


async def test_videos_are_the_tenants_own(client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState):
    other = await make_tenant(origin_state, "other")
    video = await create_video(client, vtenant)
    assert (await _list(client, other))["total"] == 0
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method, f"/api/videos/{video['id']}", headers=other.headers, json={} if method == "PATCH" else None
        )
        assert (response.status_code, response.json()["code"]) == (404, "VIDEO_NOT_FOUND"), method


async def test_update_changes_the_given_fields(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState
):
    video = await create_video(client, vtenant, title="Old", description="keep", tags=["a"])
    player = await origin_state.store.player_themes.create(vtenant.id, ThemeFields(name="Course").columns(), None)
    response = await client.patch(
        f"/api/videos/{video['id']}",
        headers=vtenant.headers,
        json={
            "title": "New",
            "tags": ["b", "c"],
            "metadata": [{"key": "k", "value": "v"}],
            "is_public": False,
            "player_id": player.id,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "success", "message": "Update video info successfully."}
    got = (await client.get(f"/api/videos/{video['id']}", headers=vtenant.headers)).json()["data"]
    assert (got["title"], got["description"], got["tags"], got["is_public"]) == ("New", "keep", ["b", "c"], False)
    assert (got["metadata"], got["player_theme_id"]) == ([{"key": "k", "value": "v"}], player.id)
    assert got["player_theme"]["id"] == player.id and got["player_theme"]["name"] == "Course"
    assert got["player_theme"]["background_color"] == "#000000" and got["player_theme"]["logo_url"] is None
    assert "?expires=" in got["assets"]["hls_url"]
    empty = await client.patch(f"/api/videos/{video['id']}", headers=vtenant.headers, json={"title": ""})
    assert (empty.status_code, empty.json()["code"]) == (400, "VIDEO_TITLE_REQUIRED")


async def test_a_deleted_video_says_deleted_and_leaves_the_list(client: httpx.AsyncClient, vtenant: VideoTenant):
    video = await create_video(client, vtenant)
    response = await client.delete(f"/api/videos/{video['id']}", headers=vtenant.headers)
    assert response.json() == {"status": "success", "message": "Delete video successfully."}
    got = await client.get(f"/api/videos/{video['id']}", headers=vtenant.headers)
    assert (got.status_code, got.json()["data"]["status"]) == (200, "deleted")
    assert (await _list(client, vtenant))["total"] == 0
    assert [v["id"] for v in (await _list(client, vtenant, status="deleted"))["videos"]] == [video["id"]]
    again = await client.patch(f"/api/videos/{video['id']}", headers=vtenant.headers, json={"title": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "VIDEO_DELETED")


async def test_player_id_names_one_of_the_tenants_players(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState
):
    other = await make_tenant(origin_state, "rival")
    theirs = await origin_state.store.player_themes.create(other.id, ThemeFields(name="Theirs").columns(), None)
    for player_id in ("pl_unknown", theirs.id):
        made = await client.post(
            "/api/videos/create", headers=vtenant.headers, json={"title": "x", "player_id": player_id}
        )
        assert (made.status_code, made.json()["code"]) == (400, "PLAYER_ID_INVALID")
    mine = await origin_state.store.player_themes.create(vtenant.id, ThemeFields(name="Mine").columns(), None)
    video = await create_video(client, vtenant, player_id=mine.id)
    assert (video["player_theme_id"], video["player_theme"]["name"]) == (mine.id, "Mine")
    listed = (await _list(client, vtenant))["videos"]
    assert [v["player_theme"]["id"] for v in listed] == [mine.id]

    await origin_state.store.player_themes.delete(vtenant.id, mine.id)  # a deleted player leaves the video
    got = (await client.get(f"/api/videos/{video['id']}", headers=vtenant.headers)).json()["data"]
    assert (got["player_theme"], got["player_theme_id"]) == (None, "")
    cleared = await client.patch(f"/api/videos/{video['id']}", headers=vtenant.headers, json={"player_id": ""})
    assert cleared.status_code == 200


async def test_cost_prices_qualities_per_minute_against_the_credit(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState
):
    response = await client.get("/api/videos/cost?duration=60&qualities=360p%2C1080p", headers=vtenant.headers)
    assert response.status_code == 200, response.text
    prices = origin_state.settings.videos.prices
    assert response.json() == {
        "status": "success",
        "data": {"price": pytest.approx(prices["360p"] + prices["1080p"]), "is_enough": True},
    }
    half = await client.get("/api/videos/cost?duration=30&qualities=720p", headers=vtenant.headers)
    assert half.json()["data"]["price"] == pytest.approx(prices["720p"] / 2)
    await origin_state.store.credits.set(vtenant.id, prices["720p"] / 4)
    poor = await client.get("/api/videos/cost?duration=30&qualities=720p", headers=vtenant.headers)
    assert poor.json()["data"]["is_enough"] is False
    for query, message in [
        ("duration=60&qualities=999p", "qualities: '999p' has no price"),
        ("duration=0&qualities=720p", "duration must be a positive number of seconds"),
        ("duration=x&qualities=720p", "duration must be a number of seconds"),
        ("duration=60", "qualities must name at least one quality"),
    ]:
        bad = await client.get(f"/api/videos/cost?{query}", headers=vtenant.headers)
        assert (bad.status_code, bad.json()["code"]) == (400, "COST_INVALID"), query
        assert bad.json()["message"].startswith(message)


async def test_subtitles_list_the_videos_caption_tracks(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState
):
    video = await create_video(client, vtenant)
    english = await origin_state.store.captions.add(video["id"], "en", format="vtt", key="k/en.vtt", label="English")
    await origin_state.store.captions.add(video["id"], "es", format="srt", key="k/es.srt", label="Español")
    got = (await client.get(f"/api/videos/{video['id']}", headers=vtenant.headers)).json()["data"]
    assert got["subtitles"] == [
        {"id": english.id, "language": "en", "label": "English", "format": "vtt", "is_default": True},
        {"id": got["subtitles"][1]["id"], "language": "es", "label": "Español", "format": "srt", "is_default": False},
    ]
    listed = (await client.post("/api/videos", headers=vtenant.headers, json={})).json()["data"]["videos"]
    assert listed[0]["subtitles"] == got["subtitles"]


async def test_a_body_with_a_title_posted_to_the_list_creates_a_video(client: httpx.AsyncClient, vtenant: VideoTenant):
    response = await client.post("/api/videos", headers=vtenant.headers, json={"title": "video's title"})
    assert response.status_code == 201, response.text
    video = response.json()["data"]
    assert (video["title"], video["status"]) == ("video's title", "new")
    listed = await client.post("/api/videos", headers=vtenant.headers, json={"limit": 10})
    assert [v["id"] for v in listed.json()["data"]["videos"]] == [video["id"]]
