"""POST /upload/from-url per seed 000: validation, the fetch_url job, its retries and its webhooks."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from origin.fetch_url import FETCH_URL
from origin.jobs import enqueue
from origin.state import OriginState
from origin.worker import Worker
from tests.fixtures.loopback import serve_asgi
from tests.fixtures.origin import make_settings
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.anyio

QUEUED = "Upload from URL queued for processing. Webhook will be triggered on completion."
META = {"recordingId": "64f1a2b3c4d5e6f7a8b9c0d1", "courseName": "Math 101"}


@pytest.fixture
def upstream_port() -> int:
    return free_port()


@pytest.fixture
def settings(tmp_path: Path, upstream_port: int):
    return make_settings(tmp_path / "var", net={"allow": [f"127.0.0.1:{upstream_port}"]}, jobs={"backoff_scale": 0.0})


class Upstream:
    """The source server: serves the clip and misbehaves on demand; counts requests per path."""

    def __init__(self, clip: Path) -> None:
        self.clip = clip
        self.hits: Counter[str] = Counter()
        self.url = ""

    def clip_response(self, request: Request) -> Response:
        return FileResponse(self.clip, media_type="video/mp4")

    def attachment(self, request: Request) -> Response:
        return FileResponse(self.clip, media_type="video/mp4", filename="lecture 1.mp4")

    def flaky(self, request: Request) -> Response:
        return PlainTextResponse("busy", 503) if self.hits[request.url.path] == 1 else self.clip_response(request)

    def huge(self, request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b"z" * 65536

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    def app(self) -> Callable[..., Awaitable[None]]:
        app = Starlette(
            routes=[
                Route("/media/lecture-video.mp4", self.clip_response),
                Route("/download", self.attachment),
                Route("/docs/notes v1.txt", lambda r: PlainTextResponse("hello")),
                Route("/flaky.mp4", self.flaky),
                Route("/missing.mp4", lambda r: PlainTextResponse("no", 404)),
                Route("/down.mp4", lambda r: PlainTextResponse("down", 502)),
                Route("/huge.bin", self.huge),
                Route("/to-metadata", lambda r: RedirectResponse("http://169.254.169.254/latest/", 302)),
            ]
        )

        async def counting(scope: dict, receive: Callable, send: Callable) -> None:
            self.hits[scope["path"]] += 1
            await app(scope, receive, send)

        return counting


@pytest.fixture
async def upstream(clip: Path, upstream_port: int) -> AsyncIterator[Upstream]:
    server = Upstream(clip)
    async with serve_asgi(server.app(), upstream_port) as url:
        server.url = url
        yield server


async def run_jobs(state: OriginState) -> None:
    """Run due jobs until none is left, as a worker would (retry backoff is scaled to 0 here)."""
    worker = Worker(state)
    while await worker.run_one():
        pass


async def from_url(client: httpx.AsyncClient, headers: dict, **body: object) -> httpx.Response:
    return await client.post("/upload/from-url", headers=headers, json=body)


async def webhooks(client: httpx.AsyncClient, headers: dict) -> list[dict]:
    """The events in the tenant's outbox, oldest first, exactly as receivers get them."""
    log = (await client.get("/webhooks/deliveries", headers=headers)).json()["deliveries"]
    details = [(await client.get(f"/webhooks/deliveries/{d['id']}", headers=headers)).json() for d in log]
    return [d["event"] for d in reversed(details)]


async def test_upload_from_url_registers_the_file_and_queues_the_seed_success_webhook(
    origin_client, origin_state, tenant, upstream
):
    source = f"{upstream.url}/media/lecture-video.mp4"
    queued = await from_url(
        origin_client,
        tenant.headers,
        url=source,
        userId="user-123",
        destination="courses/math",
        filename="lecture-1.mp4",
        requireSignedUrl=True,
        meta=META,
    )
    assert queued.status_code == 202, queued.text
    assert queued.json() == {"jobId": queued.json()["jobId"], "status": "queued", "message": QUEUED}
    job_url = f"/upload/jobs/{queued.json()['jobId']}"
    assert (await origin_client.get(job_url, headers=tenant.headers)).json()["status"] == "queued"

    await run_jobs(origin_state)

    job = (await origin_client.get(job_url, headers=tenant.headers)).json()
    assert job["status"] == "succeeded" and job["attempts"] == 1
    key = f"{tenant.tenant.id}/user-123/courses/math/lecture-1.mp4"
    assert job["result"]["key"] == key
    record = await origin_state.store.files.by_key(key)
    assert record is not None and record.status == "ready" and record.source == "url" and record.require_signed
    assert record.duration is not None and abs(record.duration - 10.0) <= 0.1
    assert record.size == upstream.clip.stat().st_size

    [event] = await webhooks(origin_client, tenant.headers)
    assert event == {
        "eventType": "file",
        "data": {
            "key": key,
            "fileUrl": origin_state.access_url(record),
            "filename": "lecture-1.mp4",
            "file_type": "video/mp4",
            "file_size": record.size,
            "user_id": "user-123",
            "source_url": source,
            "meta": META,
            "duration": record.duration,
        },
    }
    assert list(event["data"]) == [
        "key",
        "fileUrl",
        "filename",
        "file_type",
        "file_size",
        "user_id",
        "source_url",
        "meta",
        "duration",
    ]


async def test_filename_comes_from_content_disposition_then_the_url_path(origin_client, origin_state, tenant, upstream):
    await from_url(origin_client, tenant.headers, url=f"{upstream.url}/download?id=7")
    await from_url(origin_client, tenant.headers, url=f"{upstream.url}/docs/notes%20v1.txt")
    await run_jobs(origin_state)
    names = sorted(f.filename for f in await origin_state.store.files.list_ready(tenant.tenant.id))
    assert names == ["lecture 1.mp4", "notes v1.txt"]
    text_event = next(e for e in await webhooks(origin_client, tenant.headers) if e["data"]["filename"].endswith("txt"))
    assert "meta" not in text_event["data"] and "duration" not in text_event["data"]
    assert text_event["data"]["user_id"] == "anonymous"


async def test_4xx_fails_at_once_with_the_seed_failure_webhook(origin_client, origin_state, tenant, upstream):
    source = f"{upstream.url}/missing.mp4"
    job_id = (
        await from_url(origin_client, tenant.headers, url=source, userId="user-123", meta={"recordingId": "r1"})
    ).json()["jobId"]
    await run_jobs(origin_state)

    job = (await origin_client.get(f"/upload/jobs/{job_id}", headers=tenant.headers)).json()
    assert job["status"] == "failed" and job["attempts"] == 1
    assert upstream.hits["/missing.mp4"] == 1
    assert await webhooks(origin_client, tenant.headers) == [
        {
            "eventType": "file",
            "data": {
                "source_url": source,
                "user_id": "user-123",
                "status": "failed",
                "errorMessage": "URL returned HTTP 404 Not Found",
                "meta": {"recordingId": "r1"},
            },
        }
    ]


async def test_5xx_is_retried_and_then_succeeds(origin_client, origin_state, tenant, upstream):
    job_id = (await from_url(origin_client, tenant.headers, url=f"{upstream.url}/flaky.mp4")).json()["jobId"]
    await run_jobs(origin_state)
    job = (await origin_client.get(f"/upload/jobs/{job_id}", headers=tenant.headers)).json()
    assert job["status"] == "succeeded" and job["attempts"] == 2
    assert job["lastError"] == "URL returned HTTP 503 Service Unavailable"
    assert upstream.hits["/flaky.mp4"] == 2
    [event] = await webhooks(origin_client, tenant.headers)
    assert event["data"]["filename"] == "flaky.mp4" and "status" not in event["data"]


async def test_5xx_is_retried_three_times_then_fails_with_one_webhook(origin_client, origin_state, tenant, upstream):
    job_id = (await from_url(origin_client, tenant.headers, url=f"{upstream.url}/down.mp4")).json()["jobId"]
    await run_jobs(origin_state)
    job = await origin_state.store.jobs.get(job_id)
    assert job is not None and (job.status, job.attempt, job.max_attempts) == ("failed", 4, 4)
    assert upstream.hits["/down.mp4"] == 4
    [event] = await webhooks(origin_client, tenant.headers)
    assert event["data"]["errorMessage"] == "URL returned HTTP 502 Bad Gateway"


async def test_size_limit_is_enforced_while_streaming_without_retry(origin_client, origin_state, tenant, upstream):
    await origin_state.store.tenants.update(tenant.tenant.id, max_file_size=1_000_000)
    job_id = (await from_url(origin_client, tenant.headers, url=f"{upstream.url}/huge.bin")).json()["jobId"]
    await run_jobs(origin_state)
    job = await origin_state.store.jobs.get(job_id)
    assert job is not None and (job.status, job.attempt) == ("failed", 1)
    assert job.last_error == "File exceeds the maximum size of 1000000 bytes"
    assert list(Path(origin_state.settings.origin.spool_dir).iterdir()) == []
    assert await origin_state.store.files.list_ready(tenant.tenant.id) == []


async def test_redirect_to_cloud_metadata_fails_without_retry(origin_client, origin_state, tenant, upstream):
    job_id = (await from_url(origin_client, tenant.headers, url=f"{upstream.url}/to-metadata")).json()["jobId"]
    await run_jobs(origin_state)
    job = await origin_state.store.jobs.get(job_id)
    assert job is not None and (job.status, job.attempt) == ("failed", 1)
    assert "link-local" in (job.last_error or "")
    [event] = await webhooks(origin_client, tenant.headers)
    assert event["data"]["status"] == "failed" and "link-local" in event["data"]["errorMessage"]


@pytest.mark.parametrize(
    "url",
    [
        "http://0x7f.1/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://127.0.0.1:1/",
    ],
)
async def test_queued_job_to_a_private_address_fails_without_retry(origin_state, tenant, url):
    """What the route refuses up front is refused again by the job (say, a job queued before a policy change)."""
    async with origin_state.store.transaction() as tx:
        job_id = await enqueue(tx, FETCH_URL, tenant.tenant.id, {"url": url})
    await run_jobs(origin_state)
    job = await origin_state.store.jobs.get(job_id)
    assert job is not None and (job.status, job.attempt) == ("failed", 1)
    assert "URL resolves to a" in (job.last_error or "")


async def test_revoked_tenant_fails_without_retry(origin_client, origin_state, tenant, upstream):
    job_id = (await from_url(origin_client, tenant.headers, url=f"{upstream.url}/flaky.mp4")).json()["jobId"]
    await origin_state.store.tenants.update(tenant.tenant.id, active=False)
    await run_jobs(origin_state)
    job = await origin_state.store.jobs.get(job_id)
    assert job is not None and (job.status, job.attempt) == ("failed", 1)
    assert upstream.hits["/flaky.mp4"] == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, None),
        ({"url": ""}, 400, None),
        ({"url": 42}, 400, None),
        ({"url": "https://example.com/" + "a" * 2048}, 400, "URL_INVALID"),
        ({"url": "ftp://example.com/a.mp4"}, 400, "URL_INVALID"),
        ({"url": "file:///etc/passwd"}, 400, "URL_INVALID"),
        ({"url": "not a url"}, 400, "URL_INVALID"),
        ({"url": "http://example.com@127.0.0.1/a.mp4"}, 400, "URL_INVALID"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, 400, "URL_NOT_ACCESSIBLE"),
        ({"url": "http://0177.0.0.1/"}, 400, "URL_INVALID"),
        ({"url": "http://[::ffff:7f00:1]/"}, 400, "URL_NOT_ACCESSIBLE"),
        ({"url": "https://example.com/a.mp4", "meta": ["x"]}, 400, None),
        ({"url": "https://example.com/a.mp4", "requireSignedUrl": 3}, 400, None),
        ({"url": "https://example.com/a.mp4", "bucket": "nope"}, 404, "BUCKET_NOT_FOUND"),
    ],
)
async def test_invalid_requests_are_refused_in_the_seed_error_format(origin_client, tenant, body, status, code):
    response = await from_url(origin_client, tenant.headers, **body)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["statusCode"] == status and error["message"]
    assert error.get("code") == code


async def test_api_key_is_required_and_jobs_are_tenant_scoped(origin_client, origin_state, tenant):
    assert (await from_url(origin_client, {}, url="https://example.com/a.mp4")).status_code == 400
    assert (await from_url(origin_client, {"API-Key": "tk_nope"}, url="https://example.com/a.mp4")).status_code == 404
    job_id = (await from_url(origin_client, tenant.headers, url="https://example.com/a.mp4")).json()["jobId"]
    _, other_key = await origin_state.store.tenants.create("other", origin_state.settings.storage.default)
    assert (await origin_client.get(f"/upload/jobs/{job_id}", headers={"API-Key": other_key})).status_code == 404
    assert (await origin_client.get("/upload/jobs/nope", headers=tenant.headers)).json()["code"] == "JOB_NOT_FOUND"
    job = await origin_state.store.jobs.get(job_id)
    assert job is not None and job.kind == FETCH_URL and job.max_attempts == 4
    assert job.payload["url"] == "https://example.com/a.mp4"
