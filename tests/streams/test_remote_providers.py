"""The cloudflare_stream and vdocipher providers against local fakes of their APIs, alone and via the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mediaedge_stream_cloudflare import CloudflareStreamProvider, CloudflareStreamSettings
from mediaedge_stream_vdocipher import VdocipherProvider

from mediaedge.settings import Settings
from mediaedge.streams import ProviderRejected, ProviderStream, ProviderUnavailable, StreamProvider, StreamSource
from origin.state import OriginState
from tests.fixtures.loopback import serve_asgi
from tests.fixtures.origin import make_settings
from tests.fixtures.servers import free_port
from tests.streams.conftest import FAST, drain, make_context, stream_events
from tests.streams.fakes import CF_ACCOUNT, CF_TOKEN, VDO_SECRET, FakeCloudflare, FakeVdocipher

pytestmark = pytest.mark.anyio

SOURCE = StreamSource(
    "s1",
    "https://cdn.test/F1/t/u/lecture.mp4",
    "Lecture 1",
    {"name": "Lecture 1", "recordingId": "r1"},
    require_signed=True,
)


@pytest.fixture
async def cloudflare() -> AsyncIterator[tuple[FakeCloudflare, str]]:
    fake = FakeCloudflare()
    async with serve_asgi(fake.app) as url:
        yield fake, f"{url}/client/v4"


@pytest.fixture
async def vdocipher() -> AsyncIterator[tuple[FakeVdocipher, str]]:
    fake = FakeVdocipher()
    async with serve_asgi(fake.app) as url:
        yield fake, f"{url}/api"


@pytest.fixture
def settings(tmp_path: Path, cloudflare: tuple[FakeCloudflare, str], vdocipher: tuple[FakeVdocipher, str]) -> Settings:
    plugins = {
        **FAST["plugins"],
        "cloudflare": {"account_id": CF_ACCOUNT, "api_token": CF_TOKEN, "base_url": cloudflare[1]},
        "vdocipher": {"api_secret": VDO_SECRET, "base_url": vdocipher[1]},
    }
    return make_settings(tmp_path / "var", jobs=FAST["jobs"], streams=FAST["streams"], plugins=plugins)


async def poll(
    provider: StreamProvider, first: ProviderStream, http: httpx.AsyncClient, tmp_path: Path
) -> list[ProviderStream]:
    seen = [first]
    while seen[-1].state == "processing":
        seen.append(await provider.status(seen[-1].uid, SOURCE, make_context(http, tmp_path)))
    return seen


async def test_cloudflare_copies_polls_to_ready_and_deletes(settings, cloudflare, tmp_path: Path):
    fake, _ = cloudflare
    provider = CloudflareStreamProvider.from_settings(settings)
    async with httpx.AsyncClient() as http:
        ctx = make_context(http, tmp_path)
        created = await provider.create(SOURCE, None, ctx)
        assert fake.requests[0] == (
            "POST",
            f"/client/v4/accounts/{CF_ACCOUNT}/stream/copy",
            {
                "url": SOURCE.url,
                "meta": {"name": "Lecture 1", "recordingId": "r1"},
                "requireSignedURLs": True,
            },
        )
        states = await poll(provider, created, http, tmp_path)
        assert [(s.state, s.progress) for s in states] == [
            ("processing", 0.0),
            ("processing", 0.0),
            ("processing", 50.0),
            ("ready", 100.0),
        ]
        ready = states[-1]
        host = f"https://customer-test.cloudflarestream.com/{created.uid}"
        assert (ready.hls_url, ready.dash_url, ready.thumbnail, ready.duration) == (
            f"{host}/manifest/video.m3u8",
            f"{host}/manifest/video.mpd",
            f"{host}/thumbnails/thumbnail.jpg",
            10.5,
        )
        await provider.delete(created.uid, SOURCE, ctx)
        assert fake.videos == {}
        with pytest.raises(ProviderRejected, match="HTTP 404"):
            await provider.status(created.uid, SOURCE, ctx)


async def test_cloudflare_errors_map_to_permanent_and_transient_failures(settings, cloudflare, tmp_path: Path):
    fake, base = cloudflare
    provider = CloudflareStreamProvider.from_settings(settings)
    async with httpx.AsyncClient() as http:
        ctx = make_context(http, tmp_path)
        with pytest.raises(ProviderRejected, match="HTTP 400.*Invalid URL"):
            await provider.create(StreamSource("s", "https://cdn.test/refused.mp4", "x"), None, ctx)
        fake.fail_next = 1
        with pytest.raises(ProviderUnavailable, match="HTTP 503"):
            await provider.create(SOURCE, None, ctx)
        broken = await provider.create(StreamSource("s", "https://cdn.test/broken.mp4", "x"), None, ctx)
        final = (await poll(provider, broken, http, tmp_path))[-1]
        assert (final.state, final.error) == ("failed", "cloudflare_stream: The file was not recognized as a video")

        wrong_token = CloudflareStreamProvider(
            CloudflareStreamSettings(account_id=CF_ACCOUNT, api_token="nope", base_url=base)
        )
        with pytest.raises(ProviderRejected, match="HTTP 401.*Authentication error"):
            await wrong_token.create(SOURCE, None, ctx)
        offline = CloudflareStreamProvider(
            CloudflareStreamSettings(
                account_id=CF_ACCOUNT, api_token=CF_TOKEN, base_url=f"http://127.0.0.1:{free_port()}/client/v4"
            )
        )
        with pytest.raises(ProviderUnavailable, match="ConnectError"):
            await offline.create(SOURCE, None, ctx)


async def test_vdocipher_imports_polls_to_ready_and_deletes(settings, vdocipher, tmp_path: Path):
    fake, _ = vdocipher
    provider = VdocipherProvider.from_settings(settings)
    async with httpx.AsyncClient() as http:
        ctx = make_context(http, tmp_path)
        created = await provider.create(SOURCE, None, ctx)
        assert fake.requests[0] == ("PUT", "/api/videos/importUrl", {"url": SOURCE.url, "title": "Lecture 1"})
        states = await poll(provider, created, http, tmp_path)
        assert [s.outputs["status"] for s in states] == ["Queued", "Processing", "ready"]
        ready = states[-1]
        assert (ready.uid, ready.hls_url, ready.thumbnail, ready.duration) == (
            created.uid,
            None,
            "https://cdn.vdocipher.test/poster/x.480.jpeg",
            10.0,
        )
        await provider.delete(created.uid, SOURCE, ctx)
        assert fake.requests[-1] == ("DELETE", "/api/videos", None) and fake.videos == {}

        broken = await provider.create(StreamSource("s", "https://cdn.test/broken.mp4", "x"), None, ctx)
        final = (await poll(provider, broken, http, tmp_path))[-1]
        assert (final.state, final.error) == ("failed", "vdocipher: video status Error")
        with pytest.raises(ProviderRejected, match="HTTP 400"):
            await provider.create(StreamSource("s", "https://cdn.test/refused.mp4", "x"), None, ctx)
        fake.fail_next = 1
        with pytest.raises(ProviderUnavailable, match="HTTP 503"):
            await provider.status(created.uid, SOURCE, ctx)


def stream_request(url: str, provider: str) -> dict[str, Any]:
    return {"streams": [{"url": url, "meta": {"name": "Lecture 1"}, "provider": provider, "required_signed_url": True}]}


async def events(state: OriginState, tenant_id: str) -> list[dict[str, Any]]:
    return [event["data"] for event in await stream_events(state, tenant_id)]


async def test_cloudflare_through_the_api_retries_5xx_and_reports_its_urls(
    origin_client, tenant, origin_state, cloudflare
):
    fake, _ = cloudflare
    fake.fail_next = 2  # the first two attempts meet a 503
    body = (
        await origin_client.post(
            "/streams/v1/create",
            headers=tenant.headers,
            json=stream_request("https://cdn.test/ok.mp4", "cloudflare_stream"),
        )
    ).json()
    await drain(origin_state)
    stream = (await origin_client.get(f"/streams/v1/{body['ids'][0]}", headers=tenant.headers)).json()
    assert stream["status"] == "ready"
    assert stream["hls_url"] == f"https://customer-test.cloudflarestream.com/{stream['uid']}/manifest/video.m3u8"
    record = await origin_state.store.streams.get(stream["id"])
    assert record is not None and record.job_id
    job = await origin_state.store.jobs.get(record.job_id)
    assert job is not None and (job.status, job.attempt) == ("succeeded", 3)
    assert [v["requireSignedURLs"] for v in fake.videos.values()] == [True]
    data = await events(origin_state, tenant.tenant.id)
    assert [d["status"] for d in data] == ["processing", "downloading", "ready"]
    assert (data[-1]["uid"], data[-1]["provider"], data[-1]["duration"]) == (stream["uid"], "cloudflare_stream", 10.5)

    deleted = await origin_client.delete(f"/streams/v1/{stream['id']}", headers=tenant.headers)
    assert deleted.status_code == 200 and fake.videos == {}


async def test_a_refused_source_fails_the_stream_without_retrying(origin_client, tenant, origin_state, cloudflare):
    fake, _ = cloudflare
    body = (
        await origin_client.post(
            "/streams/v1/create",
            headers=tenant.headers,
            json=stream_request("https://cdn.test/refused.mp4", "cloudflare_stream"),
        )
    ).json()
    await drain(origin_state)
    stream = (await origin_client.get(f"/streams/v1/{body['ids'][0]}", headers=tenant.headers)).json()
    assert stream["status"] == "failed" and "HTTP 400" in stream["error"] and "Invalid URL" in stream["error"]
    assert len([r for r in fake.requests if r[0] == "POST"]) == 1  # no retry of a 4xx
    assert [d["status"] for d in await events(origin_state, tenant.tenant.id)] == ["processing", "failed"]


async def test_vdocipher_through_the_api(origin_client, tenant, origin_state, vdocipher):
    body = (
        await origin_client.post(
            "/streams/v1/create", headers=tenant.headers, json=stream_request("https://cdn.test/ok.mp4", "vdocipher")
        )
    ).json()
    await drain(origin_state)
    stream = (await origin_client.get(f"/streams/v1/{body['ids'][0]}", headers=tenant.headers)).json()
    assert (stream["status"], stream["hls_url"], stream["duration"]) == ("ready", None, 10.0)
    assert stream["uid"] in vdocipher[0].videos and stream["outputs"] == {"status": "ready"}
