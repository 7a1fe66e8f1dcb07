"""``/streams/v1`` per seed 000: create (batch, dedupe, existing), get, list, delete; webhooks; edge access."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.streams import MemoryStreamProvider
from origin.state import OriginState
from origin.store.schema import jobs, streams
from origin.streams import jobs as jobs_module
from origin.streams.jobs import run_stream
from tests.fixtures.origin import TenantAuth
from tests.streams.conftest import drain, stream_events

pytestmark = pytest.mark.anyio

LECTURE = {"name": "Lecture 1", "recordingId": "rec_abc123"}
TOO_FAST = [{"resolution": "720p", "video_config": {"bitrate": 9e6}}]


async def create(client: httpx.AsyncClient, tenant: TenantAuth, *streams: dict[str, Any]) -> httpx.Response:
    return await client.post("/streams/v1/create", headers=tenant.headers, json={"streams": list(streams)})


def memory(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "meta": LECTURE, "provider": "memory", **extra}


async def statuses(state: OriginState, tenant: TenantAuth) -> list[str]:
    return [e["data"]["status"] for e in await stream_events(state, tenant.tenant.id)]


async def get(client: httpx.AsyncClient, tenant: TenantAuth, stream_id: str) -> dict[str, Any]:
    response = await client.get(f"/streams/v1/{stream_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def upload_clip(client: httpx.AsyncClient, tenant: TenantAuth, clip: Path) -> dict[str, Any]:
    files = {"file": ("video.mp4", clip.read_bytes())}
    response = await client.post(
        "/upload/direct-upload", headers=tenant.headers, files=files, data={"userId": "u", "destination": "dest"}
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "streams must be a non-empty array"),
        ({"streams": [{"url": "https://cdn.test/a.mp4"}]}, 400, "streams[0].meta.name is required"),
        (
            {"streams": [{"url": "https://cdn.test/a.mp4", "meta": {"name": " "}}]},
            400,
            "streams[0].meta.name is required",
        ),
        ({"streams": [memory("https://cdn.test/a.mp4"), {"meta": LECTURE}]}, 400, "streams[1].url is required"),
        ({"streams": [memory("ftp://cdn.test/a.mp4")]}, 400, "streams[0].url must be an http(s) URL"),
        (
            {"streams": [memory("https://cdn.test/a.mp4", required_signed_url="yes")]},
            400,
            "streams[0].required_signed_url must be a boolean",
        ),
        (
            {"streams": [memory("https://cdn.test/a.mp4", provider="youtube")]},
            400,
            "streams[0].provider: unknown provider 'youtube' (available: cloudflare_stream, ffmpeg, memory, vdocipher)",
        ),
        (
            {"streams": [memory("https://cdn.test/a.mp4", provider="vdocipher")]},
            400,
            "streams[0].provider: vdocipher needs plugins.vdocipher.api_secret",
        ),
        (
            {"streams": [memory("https://cdn.test/a.mp4", qualities=TOO_FAST)]},
            400,
            "streams[0].qualities[0].video_config.bitrate: 9000000 exceeds the 720p maximum of 4000000 bps",
        ),
        (
            {"streams": [memory("https://cdn.test/a.mp4", qualities=[])]},
            400,
            "streams[0].qualities: must be a non-empty array",
        ),
        (
            {"streams": [{"url": "https://edge.test/abc/t/u/a.mp4", "meta": LECTURE}]},
            404,
            "streams[0].url: File not found",
        ),
    ],
)
async def test_invalid_requests_are_refused_with_the_reason(origin_client, tenant, body, status, message):
    response = await origin_client.post("/streams/v1/create", headers=tenant.headers, json=body)
    assert (response.status_code, response.json()["message"]) == (status, message)


async def test_the_api_key_is_required(origin_client):
    response = await origin_client.post("/streams/v1/create", json={"streams": []})
    assert response.status_code == 400 and response.json()["code"] == "API_KEY_REQUIRED"


async def test_streams_go_pending_processing_downloading_ready_with_a_webhook_each(origin_client, tenant, origin_state):
    response = await create(
        origin_client,
        tenant,
        memory("https://cdn.test/a.mp4"),
        memory("https://cdn.test/a.mp4"),
        memory("https://cdn.test/b.mp4"),
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["count"], body["existing"]) == (True, 2, [])  # a.mp4 twice in the batch: once
    first = (await origin_client.get(f"/streams/v1/{body['ids'][0]}", headers=tenant.headers)).json()
    assert (first["status"], first["provider"], first["meta"], first["uid"]) == ("pending", "memory", LECTURE, None)

    await drain(origin_state)
    ready = (await origin_client.get(f"/streams/v1/{body['ids'][0]}", headers=tenant.headers)).json()
    assert (ready["status"], ready["progress"], ready["duration"]) == ("ready", 100.0, 10.0)
    assert ready["hls_url"] == f"https://memory.test/{ready['uid']}/video.m3u8"

    events = [e for e in await stream_events(origin_state, tenant.tenant.id) if e["data"]["url"].endswith("a.mp4")]
    assert [e["data"]["status"] for e in events] == ["processing", "downloading", "ready"]
    assert events[-1] == {
        "eventType": "stream",
        "data": {
            "uid": ready["uid"],
            "provider": "memory",
            "url": "https://cdn.test/a.mp4",
            "hlsUrl": ready["hls_url"],
            "dashUrl": ready["dash_url"],
            "thumbnail": ready["thumbnail"],
            "status": "ready",
            "duration": 10.0,
            "encodingData": LECTURE,
        },
    }

    again = (
        await create(origin_client, tenant, memory("https://cdn.test/b.mp4"), memory("https://cdn.test/a.mp4"))
    ).json()
    assert (again["created"], again["count"], again["ids"]) == (False, 0, [])
    assert [e["url"] for e in again["existing"]] == ["https://cdn.test/b.mp4", "https://cdn.test/a.mp4"]  # as asked
    assert again["existing"][1] == {
        "id": body["ids"][0],
        "url": "https://cdn.test/a.mp4",
        "status": "ready",
        "uid": ready["uid"],
        "hls_url": ready["hls_url"],
        "dash_url": ready["dash_url"],
        "thumbnail": ready["thumbnail"],
    }


async def test_a_ready_streams_job_run_again_changes_nothing(origin_client, tenant, origin_state):
    # A worker stopping right after the stream turned ready hands its job back unfinished; the next
    # run must not make the stream again (nor report processing → ready twice).
    body = (await create(origin_client, tenant, memory("https://cdn.test/again.mp4"))).json()
    await drain(origin_state)
    stream = await origin_state.store.streams.get(body["ids"][0])
    assert stream is not None and stream.status == "ready" and stream.job_id
    job = await origin_state.store.jobs.get(stream.job_id)
    assert job is not None
    webhooks = len(await stream_events(origin_state, tenant.tenant.id))

    result = await run_stream(origin_state, job)

    assert result == {"uid": stream.uid, "hls_url": stream.hls_url, "dash_url": stream.dash_url}
    assert await origin_state.store.streams.get(stream.id) == stream
    assert len(await stream_events(origin_state, tenant.tenant.id)) == webhooks


async def test_in_flight_duplicates_wait_and_failed_streams_start_over(origin_client, tenant, origin_state):
    refused = memory("https://cdn.test/c.mp4", meta={"name": "x", "fail": "rejected"})
    first = (await create(origin_client, tenant, refused)).json()
    in_flight = (await create(origin_client, tenant, memory("https://cdn.test/c.mp4"))).json()
    assert (in_flight["count"], in_flight["existing"]) == (0, [])
    await drain(origin_state)
    failed = await get(origin_client, tenant, first["ids"][0])
    assert (failed["status"], failed["error"]) == ("failed", "memory: source refused")
    assert await statuses(origin_state, tenant) == ["processing", "failed"]

    retry = (await create(origin_client, tenant, memory("https://cdn.test/c.mp4"))).json()
    assert retry["ids"] == first["ids"]  # the same stream, restarted
    await drain(origin_state)
    done = await get(origin_client, tenant, first["ids"][0])
    assert (done["status"], done["error"], done["meta"]) == ("ready", None, LECTURE)


async def test_transient_provider_failures_are_retried_until_attempts_run_out(origin_client, tenant, origin_state):
    flaky = memory("https://cdn.test/d.mp4", meta={"name": "d", "fail": "unavailable"})
    body = (await create(origin_client, tenant, flaky)).json()
    await drain(origin_state)
    stream = await get(origin_client, tenant, body["ids"][0])
    assert (stream["status"], stream["error"]) == ("failed", "memory: try again later")
    record = await origin_state.store.streams.get(body["ids"][0])
    assert record is not None and record.job_id
    job = await origin_state.store.jobs.get(record.job_id)
    assert job is not None and (job.status, job.attempt) == ("failed", 4)
    assert await statuses(origin_state, tenant) == ["processing", "failed"]  # one webhook per change, not per attempt


async def test_list_and_get_are_scoped_to_the_tenant(origin_client, tenant, origin_state):
    ids = (await create(origin_client, tenant, *(memory(f"https://cdn.test/{n}.mp4") for n in range(5)))).json()["ids"]
    other, key = await origin_state.store.tenants.create("other", "local")
    hidden = {"API-Key": key}
    assert (await origin_client.get(f"/streams/v1/{ids[0]}", headers=hidden)).status_code == 404
    assert (await origin_client.delete(f"/streams/v1/{ids[0]}", headers=hidden)).status_code == 404
    assert (await origin_client.get("/streams/v1", headers=hidden)).json()["total"] == 0

    page = (await origin_client.get("/streams/v1", headers=tenant.headers, params={"limit": 2, "offset": 1})).json()
    assert (page["total"], page["limit"], page["offset"], len(page["streams"])) == (5, 2, 1, 2)
    everything = (await origin_client.get("/streams/v1", headers=tenant.headers)).json()["streams"]
    assert sorted(s["id"] for s in everything) == sorted(ids)
    ready = await origin_client.get("/streams/v1", headers=tenant.headers, params={"status": "ready"})
    assert ready.json()["total"] == 0
    bad = await origin_client.get("/streams/v1", headers=tenant.headers, params={"limit": 101})
    assert bad.status_code == 400


async def test_delete_removes_the_stream_at_its_provider(origin_client, tenant, origin_state):
    stream_id = (await create(origin_client, tenant, memory("https://cdn.test/e.mp4"))).json()["ids"][0]
    await drain(origin_state)
    uid = (await origin_client.get(f"/streams/v1/{stream_id}", headers=tenant.headers)).json()["uid"]
    response = await origin_client.delete(f"/streams/v1/{stream_id}", headers=tenant.headers)
    assert response.json() == {"success": True, "message": "Stream deleted successfully"}
    assert uid in MemoryStreamProvider.deleted
    assert (await origin_client.get(f"/streams/v1/{stream_id}", headers=tenant.headers)).status_code == 404


async def test_a_stream_deleted_while_pending_is_not_made(origin_client, tenant, origin_state):
    stream_id = (await create(origin_client, tenant, memory("https://cdn.test/f.mp4"))).json()["ids"][0]
    await origin_client.delete(f"/streams/v1/{stream_id}", headers=tenant.headers)
    await drain(origin_state)
    job = (await origin_state.store.db.execute(select(jobs.c.status, jobs.c.last_error))).mappings().one()
    assert job == {"status": "failed", "last_error": "the stream was deleted"}
    assert await stream_events(origin_state, tenant.tenant.id) == []


async def test_ffmpeg_stream_of_an_uploaded_file_plays_through_the_edge_contract(
    origin_client, tenant, origin_state, clip: Path
):
    file = await upload_clip(origin_client, tenant, clip)
    qualities = [
        {"resolution": "240p", "type": "dash", "video_config": {}},
        {"resolution": "144p", "type": "dash", "video_config": {}},
        {"resolution": "audio", "type": "dash", "audio_config": {"bitrate": 64_000}},
    ]
    body = (await create(origin_client, tenant, {"url": file["url"], "meta": LECTURE, "qualities": qualities})).json()
    stream_id = body["ids"][0]
    await drain(origin_state)
    stream = (await origin_client.get(f"/streams/v1/{stream_id}", headers=tenant.headers)).json()
    prefix = f"{file['key']}.stream/"
    base = f"{origin_state.settings.edge.url}/{file['id']}/{prefix}"
    assert (stream["status"], stream["provider"], stream["uid"]) == ("ready", "ffmpeg", stream_id)
    assert stream["duration"] == 10.0
    assert (stream["hls_url"], stream["dash_url"], stream["thumbnail"]) == (
        f"{base}master.m3u8",
        f"{base}manifest.mpd",
        f"{base}poster.jpg",
    )
    assert [r["name"] for r in stream["outputs"]["renditions"]] == ["240p", "144p", "audio-64k"]
    assert stream["qualities"][0]["video_config"] == {"codec": "h264", "bitrate": 400_000, "index": 0}
    events = await stream_events(origin_state, tenant.tenant.id)
    assert [(e["data"]["status"], e["data"]["uid"]) for e in events] == [
        ("processing", stream_id),
        ("downloading", stream_id),
        ("ready", stream_id),
    ]
    assert events[-1]["data"]["hlsUrl"] == stream["hls_url"] and events[-1]["data"]["duration"] == 10.0

    edge = {EDGE_SECRET_HEADER: origin_state.edge_secret}
    master = await origin_client.get(f"/_edge/objects/{prefix}master.m3u8", headers=edge)
    assert master.status_code == 200 and master.text.startswith("#EXTM3U")
    assert master.headers["x-mediaedge-file-id"] == file["id"]
    assert master.headers["x-mediaedge-asset-id"] == stream_id  # prefix tokens for the folder are bound to it
    assert (master.headers["x-mediaedge-access"], master.headers["cache-control"]) == ("public", "public, max-age=10")
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    segment_url = f"/_edge/objects/{prefix}240p/seg_00001.m4s"
    segment = await origin_client.get(segment_url, headers={**edge, "Range": "bytes=0-99"})
    assert segment.status_code == 206 and len(segment.content) == 100
    assert segment.headers["cache-control"] == "public, max-age=31536000, immutable"
    revalidated = await origin_client.get(segment_url, headers={**edge, "If-None-Match": segment.headers["etag"]})
    assert revalidated.status_code == 304
    assert (await origin_client.get(f"/_edge/objects/{prefix}1080p/seg_00001.m4s", headers=edge)).status_code == 404

    await origin_state.store.db.execute(update(streams).where(streams.c.id == stream_id).values(require_signed=True))
    signed = await origin_client.get(f"/_edge/objects/{prefix}manifest.mpd", headers=edge)
    assert (signed.headers["x-mediaedge-access"], signed.headers["cache-control"]) == ("signed", "private, max-age=10")

    assert (await origin_client.delete(f"/streams/v1/{stream_id}", headers=tenant.headers)).status_code == 200
    backend = origin_state.backends["local"]
    assert [info.key async for info in backend.list(prefix)] == []
    assert (await origin_client.get(f"/_edge/objects/{prefix}master.m3u8", headers=edge)).status_code == 404
    source = await origin_client.get(f"/_edge/objects/{file['key']}", headers=edge)
    assert source.status_code == 200  # the source file stays


async def test_ffmpeg_refuses_a_ladder_above_the_uploaded_source(origin_client, tenant, clip: Path):
    file = await upload_clip(origin_client, tenant, clip)
    response = await create(
        origin_client,
        tenant,
        {"url": file["url"], "meta": LECTURE, "qualities": [{"resolution": "720p"}, {"resolution": "1080p"}]},
    )
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "error": "BadRequest",
        "code": "QUALITIES_INVALID",
        "message": "streams[0].qualities: every video quality is above the source resolution (640x360)",
    }


async def test_an_ffmpeg_stream_deleted_while_its_renditions_are_published_leaves_nothing(
    origin_client, tenant, origin_state, clip: Path
):
    file = await upload_clip(origin_client, tenant, clip)
    qualities = [{"resolution": r, "type": "dash", "video_config": {}} for r in ("144p", "360p")]
    body = (await create(origin_client, tenant, {"url": file["url"], "meta": LECTURE, "qualities": qualities})).json()
    stream_id = body["ids"][0]
    worker = asyncio.create_task(drain(origin_state))
    while not worker.done():  # until the 144p rendition is published and plays
        record = await origin_state.store.streams.get(stream_id)
        if record is not None and record.dash_url:
            break
        await asyncio.sleep(0.02)
    assert record is not None and record.status == "processing" and record.dash_url
    response = await origin_client.delete(f"/streams/v1/{stream_id}", headers=tenant.headers)
    assert response.status_code == 200
    await worker
    job = (await origin_state.store.db.execute(select(jobs.c.status, jobs.c.last_error))).mappings().all()[-1]
    assert job == {"status": "failed", "last_error": "the stream was deleted"}
    source = await origin_state.store.files.get(file["id"])
    bucket = await origin_state.store.buckets.get(tenant.tenant.id, source.bucket) if source else None
    assert bucket is not None
    left = [info.key async for info in origin_state.backend(bucket).list(f"{file['key']}.stream/")]
    assert left == []


async def test_an_attempt_the_delete_broke_is_not_retried_and_leaves_nothing(
    origin_client, tenant, origin_state, clip: Path, monkeypatch
):
    # The delete removes the outputs while a rendition is being published: the provider meets a file
    # gone under it. That is the delete's doing, not a fault to retry: the job stops at once, cleaned up.
    file = await upload_clip(origin_client, tenant, clip)
    qualities = [{"resolution": r, "type": "dash", "video_config": {}} for r in ("144p", "360p")]
    body = (await create(origin_client, tenant, {"url": file["url"], "meta": LECTURE, "qualities": qualities})).json()
    stream_id = body["ids"][0]
    publish = jobs_module._Publisher.__call__

    async def publish_then_deleted(self, result):
        await publish(self, result)
        assert (await origin_client.delete(f"/streams/v1/{stream_id}", headers=tenant.headers)).status_code == 200
        raise FileNotFoundError(f"{file['key']}.stream/144p/rendition.mpd")

    monkeypatch.setattr(jobs_module._Publisher, "__call__", publish_then_deleted)
    await drain(origin_state)
    job = (await origin_state.store.db.execute(select(jobs.c.status, jobs.c.attempt, jobs.c.last_error))).one()
    assert job._asdict() == {"status": "failed", "attempt": 1, "last_error": "the stream was deleted"}
    source = await origin_state.store.files.get(file["id"])
    bucket = await origin_state.store.buckets.get(tenant.tenant.id, source.bucket) if source else None
    assert bucket is not None
    assert [info.key async for info in origin_state.backend(bucket).list(f"{file['key']}.stream/")] == []
