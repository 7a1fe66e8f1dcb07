"""Chunked part upload (Content-Range + MD5), completion, the real ffmpeg ladder, status, webhooks, and the
video as the other APIs and the edge contract see it."""

from __future__ import annotations

import asyncio
import hashlib
import html
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.ffmpeg import ffmpeg_exe
from origin.probe import probe
from origin.state import OriginState
from origin.streams.events import transition
from origin.streams.jobs import stream_failed
from origin.videos.parts import expire_parts
from tests.fixtures.media import make_clip
from tests.streams.conftest import drain
from tests.videos.conftest import MAX_PART, MIN_PART, VideoTenant, create_video, send_part, upload_in_parts

pytestmark = pytest.mark.anyio

SMALL_LADDER = [
    {
        "resolution": "360p",
        "type": "hls",
        "container_type": "mp4",
        "video_config": {"codec": "h264", "bitrate": 800_000},
    },
    {"resolution": "1080p", "type": "hls", "container_type": "mp4", "video_config": {"codec": "h264"}},
    {
        "resolution": "audio",
        "type": "hls",
        "container_type": "mp4",
        "audio_config": {"codec": "aac", "bitrate": 128_000, "channels": "2", "sample_rate": 48_000, "language": "en"},
    },
]


async def video_events(state: OriginState, tenant_id: str) -> list[dict[str, Any]]:
    deliveries = await state.store.webhooks.recent(tenant_id, limit=500)
    return [orjson.loads(d.body) for d in sorted(deliveries, key=lambda d: d.created_at) if d.event_type == "video"]


async def edge_get(client: httpx.AsyncClient, state: OriginState, key: str) -> httpx.Response:
    return await client.get(f"/_edge/objects/{key}", headers={EDGE_SECRET_HEADER: state.edge_secret})


async def get_video(client: httpx.AsyncClient, tenant: VideoTenant, video_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/videos/{video_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_parts_in_any_order_complete_into_a_transcoded_video(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState, clip: Path
):
    media = clip.read_bytes()
    video = await create_video(client, vtenant, qualities=SMALL_LADDER, is_public=False)
    await upload_in_parts(client, vtenant, video["id"], media, part_size=MIN_PART * 3)
    parts = await origin_state.store.video_parts.list(video["id"])
    assert len(parts) == -(-len(media) // (MIN_PART * 3))
    for part in parts:  # parts are never served
        assert (await edge_get(client, origin_state, part.key)).status_code == 404
    assert (await get_video(client, vtenant, video["id"]))["status"] == "new"
    assert await origin_state.store.files.get(video["id"]) is None  # nothing of it exists before complete

    done = await client.get(f"/api/videos/{video['id']}/complete", headers=vtenant.headers)
    assert done.json() == {"status": "success", "message": "Upload video complete successfully."}
    transcoding = await get_video(client, vtenant, video["id"])
    assert transcoding["status"] == "transcoding"
    assert (transcoding["size"], transcoding["duration"]) == (len(media), pytest.approx(10, abs=0.2))
    # the source is 640x360: the 1080p quality is skipped, the others move with the video
    assert transcoding["qualities"] == [
        {"name": "360p", "status": "transcoding", "type": "hls"},
        {"name": "audio", "status": "transcoding", "type": "hls"},
    ]
    assert await origin_state.store.video_parts.list(video["id"]) == []
    file = await origin_state.store.files.get(video["id"])  # one id for the video and its source file
    assert file is not None and file.require_signed
    asset = await origin_state.store.assets.get(vtenant.id, video["id"])
    assert asset is not None and asset.sha256 == hashlib.sha256(media).hexdigest()

    assert await drain(origin_state) >= 1
    ready = await get_video(client, vtenant, video["id"])
    assert ready["status"] == "done", ready
    assert {q["status"] for q in ready["qualities"]} == {"done"}
    assert [e["data"]["status"] for e in await video_events(origin_state, vtenant.id)] == ["transcoding", "done"]

    stream = await origin_state.store.streams.get(asset.stream_id or "")
    assert stream is not None and stream.output_prefix
    master = await edge_get(client, origin_state, f"{stream.output_prefix}master.m3u8")
    assert master.status_code == 200
    assert master.headers["x-mediaedge-file-id"] == video["id"]
    assert master.headers["x-mediaedge-access"] == "signed"
    text = master.text
    assert 'TYPE=AUDIO,GROUP-ID="audio"' in text and 'LANGUAGE="en"' in text and "RESOLUTION=640x360" in text

    hls = await client.get(ready["assets"]["hls_url"])
    assert hls.status_code == 302
    location = hls.headers["location"]
    assert location.startswith(origin_state.settings.edge.url + "/eyJ")  # a token in place of the file id
    assert location.endswith(f"/{stream.output_prefix}master.m3u8")
    unsigned = await client.get(f"/api/videos/{video['id']}/m3u8")
    assert (unsigned.status_code, unsigned.json()["code"]) == (403, "PLAYBACK_LINK_INVALID")
    source = await client.get(ready["assets"]["source_url"])
    assert source.status_code == 302 and source.headers["location"].endswith(f"/{file.key}")
    poster = await client.get(ready["assets"]["thumbnail_url"])
    assert poster.status_code == 302 and poster.headers["location"].endswith(f"/{stream.output_prefix}poster.jpg")
    small_poster = await client.get(ready["assets"]["thumbnail_url"].replace("original", "144p"))
    assert (small_poster.status_code, small_poster.headers["content-type"]) == (200, "image/jpeg")
    assert small_poster.content[:3] == b"\xff\xd8\xff"
    player = await client.get(ready["assets"]["hls_player_url"])
    assert player.status_code == 302
    embed = urlsplit(player.headers["location"])
    assert embed.path == "/embed" and parse_qs(embed.query)["file"] == [video["id"]]
    page = await client.get(f"{embed.path}?{embed.query}")
    assert page.status_code == 200 and "master.m3u8" in page.text  # the embed page plays the stream
    assert f'src="{html.escape(ready["assets"]["hls_player_url"])}"' in ready["assets"]["hls_iframe"]

    # the DASH player URL opens the same page asking for the DASH manifest (dash.js)
    dash_player = await client.get(ready["assets"]["dash_player_url"])
    assert dash_player.status_code == 302
    dash_embed = urlsplit(dash_player.headers["location"])
    assert parse_qs(dash_embed.query)["format"] == ["dash"]
    dash_page = await client.get(f"{dash_embed.path}?{dash_embed.query}")
    assert dash_page.status_code == 200 and "dash.mediaplayer.min.js" in dash_page.text
    assert "manifest.mpd" in dash_page.text and "master.m3u8" not in dash_page.text
    assert f'src="{html.escape(ready["assets"]["dash_player_url"])}"' in ready["assets"]["dash_iframe"]
    wrong = await client.get(ready["assets"]["hls_player_url"] + "&format=smooth")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "PLAYER_FORMAT_INVALID")


async def test_part_checks_answer_400(client: httpx.AsyncClient, vtenant: VideoTenant):
    video = await create_video(client, vtenant)
    vid, total = video["id"], MIN_PART * 3
    data = bytes(range(256)) * (MIN_PART // 256)

    async def code(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json().get("code", "")

    assert await code(await send_part(client, vtenant, vid, data, 0, 0, total, md5="0" * 32)) == (
        400,
        "PART_HASH_MISMATCH",
    )
    assert await code(await send_part(client, vtenant, vid, data, 0, 0, total, md5="nope")) == (
        400,
        "PART_HASH_INVALID",
    )
    short = await client.post(
        f"/api/videos/{vid}/part",
        headers={**vtenant.headers, "Content-Range": f"bytes 0-{MIN_PART}/{total}"},
        data={"index": "0", "hash": hashlib.md5(data).hexdigest()},
        files={"file": ("a", data)},
    )
    assert await code(short) == (400, "PART_RANGE_MISMATCH")
    for header in ("bytes 5-4/10", "bytes 0-10/10", "0-9/10", ""):
        bad = await client.post(
            f"/api/videos/{vid}/part",
            headers={**vtenant.headers, "Content-Range": header},
            data={"index": "0", "hash": "0" * 32},
            files={"file": ("a", b"x")},
        )
        assert await code(bad) == (400, "PART_RANGE_INVALID"), header
    tiny = b"x" * 10
    assert await code(await send_part(client, vtenant, vid, tiny, 0, 0, total)) == (400, "PART_SIZE_INVALID")
    big = b"x" * (MAX_PART + 1)
    assert (await send_part(client, vtenant, vid, big, 0, 0, MAX_PART * 2)).status_code in (400, 413)
    no_index = await client.post(
        f"/api/videos/{vid}/part",
        headers={**vtenant.headers, "Content-Range": f"bytes 0-{len(data) - 1}/{total}"},
        data={"hash": hashlib.md5(data).hexdigest()},
        files={"file": ("a", data)},
    )
    assert await code(no_index) == (400, "PART_INDEX_INVALID")

    assert (await send_part(client, vtenant, vid, data, 0, 0, total)).status_code == 200
    assert (await send_part(client, vtenant, vid, data, 0, 0, total)).status_code == 200  # a retry: idempotent
    overlap = await send_part(client, vtenant, vid, data, 1, MIN_PART // 2, total)
    assert await code(overlap) == (400, "PART_RANGE_MISMATCH")
    other_total = await send_part(client, vtenant, vid, data, 1, MIN_PART, total + 1)
    assert await code(other_total) == (400, "PART_RANGE_MISMATCH")
    assert (await send_part(client, vtenant, vid, data, 2, MIN_PART * 2, total)).status_code == 200
    missing = await client.get(f"/api/videos/{vid}/complete", headers=vtenant.headers)
    assert (missing.status_code, missing.json()) == (
        400,
        {
            "statusCode": 400,
            "error": "BadRequest",
            "code": "PARTS_INCOMPLETE",
            "message": f"Bytes {MIN_PART}-{MIN_PART * 2 - 1} of {total} are missing",
        },
    )


async def test_media_that_is_not_video_fails_the_video(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState
):
    video = await create_video(client, vtenant)
    junk = b"not a video at all" * 1000
    assert (await send_part(client, vtenant, video["id"], junk, 0, 0, len(junk))).status_code == 200
    response = await client.get(f"/api/videos/{video['id']}/complete", headers=vtenant.headers)
    assert (response.status_code, response.json()["code"]) == (400, "MEDIA_UNREADABLE")
    failed = await get_video(client, vtenant, video["id"])
    assert failed["status"] == "fail" and failed["error"]
    assert [e["data"]["status"] for e in await video_events(origin_state, vtenant.id)] == ["fail"]


@pytest.mark.parametrize("through", ["videos", "files"])
async def test_a_video_is_one_record_in_every_api_and_delete_removes_it_everywhere(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState, clip: Path, through: str
):
    media = clip.read_bytes()
    video = await create_video(client, vtenant, qualities=[SMALL_LADDER[0]])
    await upload_in_parts(client, vtenant, video["id"], media, part_size=MAX_PART)
    assert (await client.get(f"/api/videos/{video['id']}/complete", headers=vtenant.headers)).status_code == 200
    await drain(origin_state)
    ready = await get_video(client, vtenant, video["id"])
    assert ready["status"] == "done"
    file = await origin_state.store.files.get(video["id"])
    assert file is not None
    # the integration API finds the same file by its id: its duration, through the API key
    duration = await client.get(
        "/files/duration", params={"file": origin_state.access_url(file)}, headers={"API-Key": vtenant.api_key}
    )
    assert duration.json()["duration"] == pytest.approx(ready["duration"])
    public = await client.get(ready["assets"]["hls_url"])
    assert public.headers["location"] == (
        f"{origin_state.settings.edge.url}/{video['id']}/{file.key}.stream/master.m3u8"
    )

    if through == "videos":
        deleted = await client.delete(f"/api/videos/{video['id']}", headers=vtenant.headers)
    else:  # the integration API's delete of the source file
        deleted = await client.request(
            "DELETE",
            "/files/delete",
            headers={"API-Key": vtenant.api_key},
            json={"file": origin_state.access_url(file)},
        )
    assert deleted.status_code == 200, deleted.text
    assert await origin_state.store.files.get(video["id"]) is None
    assert (await edge_get(client, origin_state, file.key)).status_code == 404
    assert (await edge_get(client, origin_state, f"{file.key}.stream/master.m3u8")).status_code == 404
    assert (await client.get(f"/api/videos/{video['id']}/m3u8")).status_code == 404
    assert (await get_video(client, vtenant, video["id"]))["status"] == "deleted"
    assert [e["data"]["status"] for e in await video_events(origin_state, vtenant.id)] == [
        "transcoding",
        "done",
        "deleted",
    ]


async def test_is_public_changes_reach_the_edge_contract_at_once(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState, clip: Path
):
    media = clip.read_bytes()
    video = await create_video(client, vtenant, qualities=[SMALL_LADDER[0]])
    await upload_in_parts(client, vtenant, video["id"], media, part_size=MAX_PART)
    await client.get(f"/api/videos/{video['id']}/complete", headers=vtenant.headers)
    await drain(origin_state)
    file = await origin_state.store.files.get(video["id"])
    assert file is not None
    playlist = f"{file.key}.stream/master.m3u8"
    assert (await edge_get(client, origin_state, playlist)).headers["x-mediaedge-access"] == "public"
    await client.patch(f"/api/videos/{video['id']}", headers=vtenant.headers, json={"is_public": False})
    assert (await edge_get(client, origin_state, playlist)).headers["x-mediaedge-access"] == "signed"
    assert (await edge_get(client, origin_state, file.key)).headers["x-mediaedge-access"] == "signed"


def make_png(path: Path, size: str) -> bytes:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={size}:duration=1",
            "-frames:v",
            "1",
            str(path),
        ],
        check=True,
    )
    return path.read_bytes()


async def image_size(data: bytes, tmp_path: Path) -> tuple[int | None, int | None]:
    path = tmp_path / "probe.jpg"
    path.write_bytes(data)
    found = await probe(str(path))
    return found.width, found.height


async def test_an_uploaded_thumbnail_is_checked_by_content_served_and_scaled(
    client: httpx.AsyncClient, vtenant: VideoTenant, tmp_path: Path
):
    png = make_png(tmp_path / "cover.png", "1280x720")
    video = await create_video(client, vtenant, is_public=False)
    url = f"/api/videos/{video['id']}/thumbnail"
    fake = await client.post(url, headers=vtenant.headers, files={"file": ("x.png", b"GIF89a not a png")})
    assert (fake.status_code, fake.json()["code"]) == (400, "THUMBNAIL_INVALID")
    ok = await client.post(url, headers=vtenant.headers, files={"file": ("x.png", png, "image/png")})
    assert ok.json() == {"status": "success", "message": "Upload thumbnail successfully."}
    thumbnail_url = (await get_video(client, vtenant, video["id"]))["assets"]["thumbnail_url"]
    served = await client.get(thumbnail_url)
    assert (served.status_code, served.headers["content-type"], served.content) == (200, "image/png", png)
    assert (await client.get(f"{url}?resolution=original")).status_code == 403  # private: the link is required
    small = await client.get(thumbnail_url.replace("resolution=original", "resolution=240p"))
    assert (small.status_code, small.headers["content-type"]) == (200, "image/jpeg")
    assert await image_size(small.content, tmp_path) == (426, 240)
    again = await client.get(thumbnail_url.replace("resolution=original", "resolution=240p"))
    assert again.content == small.content  # made once, kept
    huge = await client.get(thumbnail_url.replace("resolution=original", "resolution=2160p"))
    assert await image_size(huge.content, tmp_path) == (1280, 720)  # never scaled up
    other = await client.get(thumbnail_url.replace("resolution=original", "resolution=8k"))
    assert (other.status_code, other.json()["code"]) == (400, "THUMBNAIL_RESOLUTION")

    replaced = await client.post(
        url, headers=vtenant.headers, files={"file": ("y.png", make_png(tmp_path / "y.png", "640x360"), "image/png")}
    )
    assert replaced.status_code == 200
    rescaled = await client.get(thumbnail_url.replace("resolution=original", "resolution=240p"))
    assert rescaled.content != small.content and await image_size(rescaled.content, tmp_path) == (426, 240)


@pytest.mark.parametrize(
    ("qualities", "error"),
    [
        (
            [{"resolution": "1080p", "type": "hls", "container_type": "mp4", "video_config": {}}],
            "every video quality is above the source resolution (640x360)",
        ),
        (
            [{"resolution": "360p", "type": "hls", "container_type": "mp4", "video_config": {"index": 1}}],
            "360p: the source has no video track 1",
        ),
        (
            [{"resolution": "audio", "type": "dash", "container_type": "fmp4", "audio_config": {"index": 2}}],
            "audio: the source has no audio track 2",
        ),
    ],
)
async def test_a_ladder_the_source_cannot_fill_fails_the_video_with_the_reason(
    client: httpx.AsyncClient,
    vtenant: VideoTenant,
    origin_state: OriginState,
    clip: Path,
    qualities: list[dict[str, Any]],
    error: str,
):
    video = await create_video(client, vtenant, qualities=qualities)
    await upload_in_parts(client, vtenant, video["id"], clip.read_bytes(), part_size=MAX_PART)
    assert (await client.get(f"/api/videos/{video['id']}/complete", headers=vtenant.headers)).status_code == 200
    await drain(origin_state)
    failed = await get_video(client, vtenant, video["id"])
    assert (failed["status"], failed["error"]) == ("fail", error)
    assert [e["data"]["status"] for e in await video_events(origin_state, vtenant.id)] == ["transcoding", "fail"]
    assert (await client.get(failed["assets"]["hls_url"])).status_code == 404


async def test_completions_racing_make_one_source_and_one_stream(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState, clip: Path
):
    video = await create_video(client, vtenant, qualities=[SMALL_LADDER[0]])
    await upload_in_parts(client, vtenant, video["id"], clip.read_bytes(), part_size=MAX_PART)
    url = f"/api/videos/{video['id']}/complete"
    answers = await asyncio.gather(*(client.get(url, headers=vtenant.headers) for _ in range(3)))
    codes = sorted((a.status_code, a.json().get("code")) for a in answers)
    assert codes[0] == (200, None) and set(codes) <= {(200, None), (409, "UPLOAD_COMPLETING")}, codes
    asset = await origin_state.store.assets.get(vtenant.id, video["id"])
    assert asset is not None and asset.stream_id
    streams, _ = await origin_state.store.streams.page(vtenant.id, limit=10, offset=0)
    assert [s.id for s in streams] == [asset.stream_id]
    again = await client.get(url, headers=vtenant.headers)  # afterwards: answered as the first one
    assert again.status_code == 200


async def test_parts_of_an_upload_never_completed_expire(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState
):
    stale, fresh = await create_video(client, vtenant), await create_video(client, vtenant)
    data = b"p" * MIN_PART
    for video in (stale, fresh):
        assert (await send_part(client, vtenant, video["id"], data, 0, 0, MIN_PART * 2)).status_code == 200
    [part] = await origin_state.store.video_parts.list(stale["id"])
    week = 7 * 86400
    assert await expire_parts(origin_state, now=part.created_at + week - 60) == 0
    assert await expire_parts(origin_state, now=part.created_at + week + 1) == 2  # both are a week old by then
    assert await origin_state.store.video_parts.list(stale["id"]) == []
    assert (await edge_get(client, origin_state, part.key)).status_code == 404
    bucket = await origin_state.store.buckets.get(vtenant.id, None)
    assert bucket is not None
    assert [o async for o in origin_state.backend(bucket).list(part.key)] == []  # the bytes are gone too
    assert (await get_video(client, vtenant, stale["id"]))["status"] == "new"  # the video stays, to upload again
    again = await send_part(client, vtenant, stale["id"], data, 0, 0, MIN_PART * 2)
    assert again.status_code == 200


TWO_QUALITIES = [
    {"resolution": "144p", "type": "hls", "container_type": "mp4", "video_config": {"bitrate": 200_000}},
    {"resolution": "720p", "type": "hls", "container_type": "mp4", "video_config": {"bitrate": 2_000_000}},
]


async def test_each_quality_moves_on_its_own_and_a_done_one_plays_while_the_larger_is_made(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState, tmp_path: Path
):
    source = make_clip(tmp_path / "hd.mp4", seconds=6, size="1280x720")
    video = await create_video(client, vtenant, qualities=TWO_QUALITIES)
    assert video["is_mp4"] is False
    await upload_in_parts(client, vtenant, video["id"], source.read_bytes(), part_size=MAX_PART)
    assert (await client.get(f"/api/videos/{video['id']}/complete", headers=vtenant.headers)).status_code == 200
    asset = await origin_state.store.assets.get(vtenant.id, video["id"])
    stream = await origin_state.store.streams.get(asset.stream_id or "") if asset else None
    assert stream is not None and stream.output_prefix
    prefix = stream.output_prefix
    assert (await client.get(f"/api/videos/{video['id']}/m3u8")).json()["code"] == "VIDEO_NOT_READY"

    worker = asyncio.create_task(drain(origin_state))
    seen: dict[str, Any] | None = None
    while not worker.done():  # watch the video while the worker makes it
        now = await get_video(client, vtenant, video["id"])
        if [q["status"] for q in now["qualities"]] == ["done", "transcoding"]:
            master = await edge_get(client, origin_state, f"{prefix}master.m3u8")
            playlist = await edge_get(client, origin_state, f"{prefix}144p/index.m3u8")
            init = await edge_get(client, origin_state, f"{prefix}144p/init.m4s")
            first = await edge_get(client, origin_state, f"{prefix}144p/seg_00001.m4s")
            seen = {"video": now, "master": master, "playlist": playlist, "media": init.content + first.content}
            break
        await asyncio.sleep(0.02)
    await worker
    assert seen is not None, "the 144p quality was never done while the 720p one was transcoding"
    assert seen["video"]["status"] == "transcoding"
    assert seen["master"].status_code == 200 and seen["playlist"].status_code == 200
    listed = [line for line in seen["master"].text.splitlines() if line and not line.startswith("#")]
    assert listed == ["144p/index.m3u8"]  # only the finished rendition is listed
    assert "RESOLUTION=256x144" in seen["master"].text and "1280x720" not in seen["master"].text
    played = tmp_path / "144p.mp4"
    played.write_bytes(seen["media"])
    probed = await probe(str(played))
    assert (probed.video_codec, probed.width, probed.height) == ("h264", 256, 144)

    done = await get_video(client, vtenant, video["id"])
    assert done["status"] == "done" and [q["status"] for q in done["qualities"]] == ["done", "done"]
    assert done["is_mp4"] is True
    assert [e["data"]["status"] for e in await video_events(origin_state, vtenant.id)] == ["transcoding", "done"]
    master = await edge_get(client, origin_state, f"{prefix}master.m3u8")
    assert "RESOLUTION=1280x720" in master.text and "RESOLUTION=256x144" in master.text

    mp4 = await client.get(done["assets"]["mp4_url"])
    assert mp4.status_code == 302
    assert mp4.headers["location"] == f"{origin_state.settings.edge.url}/{video['id']}/{prefix}video.mp4"
    head = await client.get(
        f"/_edge/objects/{prefix}video.mp4",
        headers={EDGE_SECRET_HEADER: origin_state.edge_secret, "Range": "bytes=0-31"},
    )
    assert head.status_code == 206 and len(head.content) == 32
    assert head.content[4:8] == b"ftyp"
    assert head.headers["content-type"] == "video/mp4"


async def test_a_video_without_its_mp4_answers_mp4_not_available(client: httpx.AsyncClient, vtenant: VideoTenant):
    video = await create_video(client, vtenant)
    response = await client.get(video["assets"]["mp4_url"])
    assert (response.status_code, response.json()["code"]) == (404, "MP4_NOT_AVAILABLE")


async def test_a_quality_that_fails_for_good_is_fail_and_the_video_is_done_with_the_others(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState, clip: Path
):
    """Retries exhausted after the 144p rendition was published: the stream ends ready with it, 360p fails."""
    ladder = [{"resolution": r, "type": "hls", "container_type": "mp4", "video_config": {}} for r in ("144p", "360p")]
    video = await create_video(client, vtenant, qualities=ladder)
    await upload_in_parts(client, vtenant, video["id"], clip.read_bytes(), part_size=MAX_PART)
    assert (await client.get(f"/api/videos/{video['id']}/complete", headers=vtenant.headers)).status_code == 200
    asset = await origin_state.store.assets.get(vtenant.id, video["id"])
    stream = await origin_state.store.streams.get(asset.stream_id or "") if asset else None
    assert stream is not None and stream.job_id
    published = {
        "renditions": [{"name": "144p", "status": "ready"}, {"name": "360p", "status": "queued", "error": "ffmpeg"}],
        "qualities": [
            {"name": "144p", "type": "hls", "renditions": ["144p"]},
            {"name": "360p", "type": "hls", "renditions": ["360p"]},
        ],
        "mp4": {"status": "queued"},
    }
    hls = f"{origin_state.settings.edge.url}/{video['id']}/{stream.output_prefix}master.m3u8"
    async with origin_state.store.transaction() as tx:
        await transition(origin_state, tx, stream.id, "processing", outputs=published, hls_url=hls)
    transcoding = await get_video(client, vtenant, video["id"])
    assert [q["status"] for q in transcoding["qualities"]] == ["done", "transcoding"]
    assert (await client.get(transcoding["assets"]["hls_url"])).status_code == 302  # it plays already

    job = await origin_state.store.jobs.get(stream.job_id)
    assert job is not None
    async with origin_state.store.transaction() as tx:
        await stream_failed(origin_state, job, "ffmpeg exited with 1", tx)
    ended = await get_video(client, vtenant, video["id"])
    assert ended["status"] == "done" and [q["status"] for q in ended["qualities"]] == ["done", "fail"]
    assert ended["is_mp4"] is False
    after = await origin_state.store.streams.get(stream.id)
    assert after is not None and after.status == "ready"
    assert [r["status"] for r in after.outputs["renditions"]] == ["ready", "failed"]
    assert after.outputs["renditions"][1]["error"] == "ffmpeg" and after.outputs["mp4"]["status"] == "failed"
