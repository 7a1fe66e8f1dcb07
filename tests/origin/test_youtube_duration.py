"""GET /files/duration of a YouTube URL: the YouTube Data API v3 ``videos.list`` (part=contentDetails),
here a fake of that documented endpoint on a loopback port, reached through the SSRF-safe client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mediaedge.settings import Settings
from origin.youtube import youtube_video_id
from tests.fixtures.loopback import serve_asgi
from tests.fixtures.origin import make_settings
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.anyio

API_KEY = "test-youtube-key"
VIDEO = "dQw4w9WgXcQ"


class FakeDataApi:
    """``GET /youtube/v3/videos``: the documented ``videoListResponse``, or the documented error body
    for a wrong key; ``durations`` by video id (absent: an empty ``items`` list)."""

    def __init__(self) -> None:
        self.durations: dict[str, str] = {VIDEO: "PT3M33S", "liveStream1": "P0D", "longLectur1": "PT1H2M3.5S"}
        self.queries: list[dict[str, str]] = []
        self.broken = False

    async def videos(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.queries.append(query)
        if self.broken:
            return PlainTextResponse("<html>gateway</html>", 502)
        if query.get("key") != API_KEY:
            return JSONResponse(
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "errors": [{"reason": "badRequest", "domain": "global"}],
                    }
                },
                400,
            )
        if query.get("part") != "contentDetails":
            return JSONResponse({"error": {"code": 400, "message": "part is required"}}, 400)
        items = (
            [
                {
                    "kind": "youtube#video",
                    "etag": "e",
                    "id": query["id"],
                    "contentDetails": {
                        "duration": self.durations[query["id"]],
                        "dimension": "2d",
                        "definition": "hd",
                        "caption": "false",
                        "licensedContent": True,
                        "projection": "rectangular",
                    },
                }
            ]
            if query.get("id") in self.durations
            else []
        )
        return JSONResponse(
            {
                "kind": "youtube#videoListResponse",
                "etag": "list",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )


@pytest.fixture
def api_port() -> int:
    return free_port()


@pytest.fixture
async def data_api(api_port: int) -> AsyncIterator[FakeDataApi]:
    api = FakeDataApi()
    async with serve_asgi(Starlette(routes=[Route("/youtube/v3/videos", api.videos)]), port=api_port):
        yield api


def youtube_settings(tmp_path: Path, api_port: int, api_key: str) -> Settings:
    return make_settings(
        tmp_path / "var",
        net={"allow": [f"127.0.0.1:{api_port}"]},
        youtube={"api_key": api_key, "base_url": f"http://127.0.0.1:{api_port}/youtube/v3"},
    )


@pytest.fixture
def settings(tmp_path: Path, api_port: int) -> Settings:
    return youtube_settings(tmp_path, api_port, API_KEY)


async def _duration(client, tenant, url: str):
    return await client.get("/files/duration", params={"file": url}, headers=tenant.headers)


@pytest.mark.parametrize(
    ("url", "video_id", "seconds"),
    [
        (f"https://www.youtube.com/watch?v={VIDEO}", VIDEO, 213.0),
        (f"https://youtu.be/{VIDEO}?t=42", VIDEO, 213.0),
        ("https://m.youtube.com/shorts/liveStream1", "liveStream1", 0.0),
        ("https://www.youtube-nocookie.com/embed/longLectur1", "longLectur1", 3723.5),
    ],
)
async def test_duration_of_a_youtube_video_comes_from_the_data_api(
    origin_client, tenant, data_api: FakeDataApi, url: str, video_id: str, seconds: float
):
    response = await _duration(origin_client, tenant, url)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": 200, "duration": seconds}
    assert data_api.queries == [{"part": "contentDetails", "id": video_id, "key": API_KEY}]


async def test_unknown_video_is_not_found(origin_client, tenant, data_api: FakeDataApi):
    response = await _duration(origin_client, tenant, "https://www.youtube.com/watch?v=AAAAAAAAAAA")
    assert response.status_code == 404
    assert response.json()["code"] == "YOUTUBE_VIDEO_NOT_FOUND" and response.json()["statusCode"] == 404


async def test_api_refusals_are_bad_gateway_with_the_apis_message_and_never_the_key(
    tmp_path: Path, api_port: int, data_api: FakeDataApi, origin_state, origin_client, tenant
):
    data_api.durations.clear()
    data_api.broken = True
    response = await _duration(origin_client, tenant, f"https://youtu.be/{VIDEO}")
    assert (response.status_code, response.json()["code"]) == (502, "YOUTUBE_API_ERROR")
    assert "without JSON" in response.json()["message"]
    data_api.broken = False
    wrong = youtube_settings(tmp_path, api_port, "wrong-key")
    origin_state.settings = wrong
    response = await _duration(origin_client, tenant, f"https://youtu.be/{VIDEO}")
    assert (response.status_code, response.json()["code"]) == (502, "YOUTUBE_API_ERROR")
    assert "API key not valid" in response.json()["message"] and "wrong-key" not in response.text


async def test_the_data_api_is_reached_only_through_net_allow(
    tmp_path: Path, api_port: int, data_api: FakeDataApi, origin_state, origin_client, tenant
):
    origin_state.settings = make_settings(
        tmp_path / "var", youtube={"api_key": API_KEY, "base_url": f"http://127.0.0.1:{api_port}/youtube/v3"}
    )  # loopback not allowed
    response = await _duration(origin_client, tenant, f"https://youtu.be/{VIDEO}")
    assert (response.status_code, response.json()["code"]) == (502, "YOUTUBE_API_ERROR")
    assert data_api.queries == []


async def test_without_an_api_key_the_answer_names_the_setting(
    tmp_path: Path, api_port: int, data_api: FakeDataApi, origin_state, origin_client, tenant
):
    origin_state.settings = youtube_settings(tmp_path, api_port, "")
    response = await _duration(origin_client, tenant, f"https://www.youtube.com/watch?v={VIDEO}")
    assert response.status_code == 400
    body = response.json()
    assert (body["statusCode"], body["code"]) == (400, "YOUTUBE_API_KEY_MISSING")
    assert "youtube.api_key" in body["message"]
    assert data_api.queries == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PL1", VIDEO),
        ("http://youtube.com/live/dQw4w9WgXcQ", VIDEO),
        ("https://music.youtube.com/watch?v=dQw4w9WgXcQ", VIDEO),
        ("https://www.youtube.com/watch?v=short", None),
        ("https://www.youtube.com/channel/UC1234567890", None),
        ("https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ", None),
        ("ftp://youtu.be/dQw4w9WgXcQ", None),
        ("https://edge.example/f1/t1/u1/dQw4w9WgXcQ", None),
    ],
)
def test_youtube_urls_are_recognised_and_nothing_else(url: str, expected: str | None):
    assert youtube_video_id(url) == expected
