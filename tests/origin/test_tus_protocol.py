"""TUS 1.0.0 at /files, protocol level: httpx against the origin's ASGI app (seed 000, docs/tus.md)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from mediaedge.settings import Settings
from mediaedge.storage import StorageError
from origin.app import create_app
from origin.state import OriginState
from origin.store.schema import tus_uploads
from origin.tus import spool, uploads
from origin.tus.cleaner import sweep, tus_cleaner
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio

TUS = {"Tus-Resumable": "1.0.0"}
OCTET = "application/offset+octet-stream"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var", tus={"lock_timeout": 1})


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def metadata(**values: str) -> str:
    return ",".join(f"{key} {b64(value)}" for key, value in values.items())


def upload_id(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def create(client: httpx.AsyncClient, tenant, length: int | None, **headers: str) -> str:
    sizes = {"Upload-Length": str(length)} if length is not None else {"Upload-Defer-Length": "1"}
    response = await client.post("/files", headers={**tenant.headers, **TUS, **sizes, **headers})
    assert response.status_code == 201, response.text
    return response.headers["location"]


async def patch(client: httpx.AsyncClient, tenant, url: str, offset: int, data, **headers: str) -> httpx.Response:
    return await client.patch(
        url,
        content=data,
        headers={**tenant.headers, **TUS, "Upload-Offset": str(offset), "Content-Type": OCTET, **headers},
    )


async def head(client: httpx.AsyncClient, tenant, url: str) -> httpx.Response:
    return await client.head(url, headers={**tenant.headers, **TUS})


async def test_options_advertises_version_extensions_max_size_and_checksums(origin_client, tenant, origin_state):
    response = await origin_client.options("/files", headers=tenant.headers)
    assert response.status_code == 204
    assert response.headers["tus-resumable"] == "1.0.0"
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) >= {
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "termination",
        "checksum",
        "expiration",
        "concatenation",
    }
    assert response.headers["tus-max-size"] == "10000000000"  # the seed's TUS default
    assert set(response.headers["tus-checksum-algorithm"].split(",")) == {"md5", "sha1", "sha256"}
    await origin_state.store.tenants.update(tenant.tenant.id, max_file_size=5000)
    again = await origin_client.options("/files", headers=tenant.headers)
    assert again.headers["tus-max-size"] == "5000"


@pytest.mark.parametrize("method", ["OPTIONS", "POST", "HEAD", "PATCH", "DELETE", "GET"])
async def test_every_request_needs_an_api_key(origin_client, tenant, method):
    url = await create(origin_client, tenant, 10)
    target = "/files" if method in ("OPTIONS", "POST") else url
    headers = {**TUS, "Upload-Length": "10", "Upload-Offset": "0", "Content-Type": OCTET}
    missing = await origin_client.request(method, target, headers=headers)
    assert missing.status_code == 400
    assert missing.headers["tus-resumable"] == "1.0.0"
    invalid = await origin_client.request(method, target, headers={**headers, "API-Key": "tk_nope"})
    assert invalid.status_code == 401
    if method != "HEAD":
        assert invalid.json()["code"] == "API_KEY_INVALID"


async def test_an_unsupported_protocol_version_is_412(origin_client, tenant):
    response = await origin_client.post(
        "/files", headers={**tenant.headers, "Tus-Resumable": "0.2.2", "Upload-Length": "1"}
    )
    assert response.status_code == 412
    assert response.headers["tus-version"] == "1.0.0"
    assert response.json()["error"] == "PreconditionFailed"


async def test_creation_then_head_reports_length_offset_metadata_and_expiry(origin_client, tenant):
    sent = metadata(filename="video.mp4", filetype="video/mp4", userId="user123") + ",flag"
    url = await create(origin_client, tenant, 1000, **{"Upload-Metadata": sent})
    assert url.startswith("http://origin.test/files/")
    response = await head(origin_client, tenant, url)
    assert response.status_code == 200
    assert response.headers["upload-offset"] == "0"
    assert response.headers["upload-length"] == "1000"
    assert response.headers["upload-metadata"] == sent
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["tus-resumable"] == "1.0.0"
    expires = parsedate_to_datetime(response.headers["upload-expires"]).timestamp()
    assert abs(expires - (time.time() + 86400)) < 60


@pytest.mark.parametrize("header", ["filename !!notbase64", "filename a b", "filename dmlkZW8", "a YQ==,a YQ=="])
async def test_malformed_metadata_is_400(origin_client, tenant, header):
    response = await origin_client.post(
        "/files", headers={**tenant.headers, **TUS, "Upload-Length": "1", "Upload-Metadata": header}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "TUS_METADATA_INVALID"


async def test_creation_needs_exactly_one_length_header_within_the_limit(origin_client, tenant, origin_state):
    post = lambda **h: origin_client.post("/files", headers={**tenant.headers, **TUS, **h})  # noqa: E731
    assert (await post()).status_code == 400
    assert (await post(**{"Upload-Length": "5", "Upload-Defer-Length": "1"})).status_code == 400
    assert (await post(**{"Upload-Defer-Length": "2"})).status_code == 400
    assert (await post(**{"Upload-Length": "-5"})).status_code == 400
    await origin_state.store.tenants.update(tenant.tenant.id, max_file_size=1000)
    too_big = await post(**{"Upload-Length": "1001"})
    assert too_big.status_code == 413
    assert too_big.headers["tus-max-size"] == "1000"
    assert (await post(**{"Upload-Length": "1000"})).status_code == 201


async def test_unknown_bucket_is_404_at_creation(origin_client, tenant):
    response = await origin_client.post(
        "/files", headers={**tenant.headers, **TUS, "Upload-Length": "1", "Bucket": "nope"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "BUCKET_NOT_FOUND"


async def test_chunks_complete_into_the_bucket_as_a_registered_file(origin_client, tenant, origin_state):
    data = bytes(range(256)) * 4000
    url = await create(
        origin_client,
        tenant,
        len(data),
        **{
            "Upload-Metadata": metadata(
                filename="video.bin",
                filetype="application/x-test",
                userId="user123",
                destination="course/materials",
                requireSignedUrl="true",
            )
        },
    )
    offset = 0
    for size in (300_000, 400_000, len(data) - 700_000):
        response = await patch(origin_client, tenant, url, offset, data[offset : offset + size])
        assert response.status_code == 204, response.text
        offset += size
        assert response.headers["upload-offset"] == str(offset)
    key = f"{tenant.tenant.id}/user123/course/materials/video.bin"
    assert response.headers["x-mediaedge-key"] == key
    file_id = response.headers["x-mediaedge-file-id"]
    assert response.headers["x-mediaedge-url"] == f"{origin_state.settings.edge.url}/{file_id}/{key}"
    record = await origin_state.store.files.get(file_id)
    assert record is not None and record.status == "ready" and record.require_signed and record.source == "tus"
    assert record.size == len(data)
    assert not spool.spool_path(origin_state.settings, upload_id(url)).exists()
    described = await head(origin_client, tenant, url)
    assert described.headers["upload-offset"] == str(len(data))
    assert described.headers["x-mediaedge-file-id"] == file_id
    assert "upload-expires" not in described.headers

    whole = await origin_client.get(url, headers=tenant.headers)
    assert whole.status_code == 200 and whole.content == data
    part = await origin_client.get(url, headers={**tenant.headers, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = await origin_client.get(url, headers={**tenant.headers, "Range": "bytes=-5"})
    assert tail.content == data[-5:]
    beyond = await origin_client.get(url, headers={**tenant.headers, "Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"


async def test_get_before_the_upload_finishes_is_409(origin_client, tenant):
    url = await create(origin_client, tenant, 10)
    response = await origin_client.get(url, headers=tenant.headers)
    assert response.status_code == 409 and response.json()["code"] == "UPLOAD_INCOMPLETE"


async def test_patch_needs_the_offset_content_type(origin_client, tenant):
    url = await create(origin_client, tenant, 10)
    response = await patch(origin_client, tenant, url, 0, b"abc", **{"Content-Type": "application/octet-stream"})
    assert response.status_code == 415
    missing = await origin_client.patch(url, content=b"abc", headers={**tenant.headers, **TUS, "Content-Type": OCTET})
    assert missing.status_code == 400


async def test_a_wrong_offset_is_409_and_writes_nothing(origin_client, tenant, origin_state):
    url = await create(origin_client, tenant, 10)
    assert (await patch(origin_client, tenant, url, 0, b"abcd")).status_code == 204
    response = await patch(origin_client, tenant, url, 2, b"XXXX")
    assert response.status_code == 409
    assert response.headers["upload-offset"] == "4"
    assert (await head(origin_client, tenant, url)).headers["upload-offset"] == "4"
    assert spool.spool_path(origin_state.settings, upload_id(url)).read_bytes() == b"abcd"


async def test_a_body_beyond_upload_length_is_413_keeping_what_fits(origin_client, tenant, origin_state):
    url = await create(origin_client, tenant, 10, **{"Upload-Metadata": metadata(filename="ten.txt")})
    assert (await patch(origin_client, tenant, url, 0, b"0123")).status_code == 204
    response = await patch(origin_client, tenant, url, 4, b"456789ABCDEF")
    assert response.status_code == 413
    assert response.headers["upload-offset"] == "10"
    described = await head(origin_client, tenant, url)
    assert described.headers["upload-offset"] == "10"
    record = await origin_state.store.files.get(described.headers["x-mediaedge-file-id"])
    assert record is not None and record.size == 10
    assert (await origin_client.get(url, headers=tenant.headers)).content == b"0123456789"


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256"])
async def test_checksums_are_verified_and_a_mismatch_discards_the_chunk(origin_client, tenant, origin_state, algorithm):
    url = await create(origin_client, tenant, 8)

    def checksum(data: bytes) -> str:
        return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"

    good = await patch(origin_client, tenant, url, 0, b"abcd", **{"Upload-Checksum": checksum(b"abcd")})
    assert good.status_code == 204
    bad = await patch(origin_client, tenant, url, 4, b"efgh", **{"Upload-Checksum": checksum(b"efgX")})
    assert bad.status_code == 460
    assert bad.json()["error"] == "ChecksumMismatch"
    assert (await head(origin_client, tenant, url)).headers["upload-offset"] == "4"
    assert spool.spool_path(origin_state.settings, upload_id(url)).read_bytes() == b"abcd"
    final = await patch(origin_client, tenant, url, 4, b"efgh", **{"Upload-Checksum": checksum(b"efgh")})
    assert final.status_code == 204 and "x-mediaedge-file-id" in final.headers


@pytest.mark.parametrize("header", ["crc32 AAAA", "sha1 not-base64!", "sha1"])
async def test_unsupported_or_malformed_checksums_are_400(origin_client, tenant, header):
    url = await create(origin_client, tenant, 4)
    response = await patch(origin_client, tenant, url, 0, b"abcd", **{"Upload-Checksum": header})
    assert response.status_code == 400
    assert (await head(origin_client, tenant, url)).headers["upload-offset"] == "0"


async def test_a_deferred_length_is_fixed_by_a_later_patch(origin_client, tenant):
    url = await create(origin_client, tenant, None)
    assert (await head(origin_client, tenant, url)).headers["upload-defer-length"] == "1"
    assert (await patch(origin_client, tenant, url, 0, b"hello ")).status_code == 204
    wrong = await patch(origin_client, tenant, url, 6, b"", **{"Upload-Length": "3"})
    assert wrong.status_code == 400
    done = await patch(origin_client, tenant, url, 6, b"world", **{"Upload-Length": "11"})
    assert done.status_code == 204 and "x-mediaedge-file-id" in done.headers
    described = await head(origin_client, tenant, url)
    assert described.headers["upload-length"] == "11" and "upload-defer-length" not in described.headers


async def test_creation_with_upload_takes_the_first_chunk_and_can_finish(origin_client, tenant):
    digest = base64.b64encode(hashlib.sha1(b"hello").digest()).decode()
    response = await origin_client.post(
        "/files",
        content=b"hello",
        headers={
            **tenant.headers,
            **TUS,
            "Upload-Length": "5",
            "Content-Type": OCTET,
            "Upload-Checksum": f"sha1 {digest}",
            "Upload-Metadata": metadata(filename="hello.txt"),
        },
    )
    assert response.status_code == 201
    assert response.headers["upload-offset"] == "5"
    assert response.headers["x-mediaedge-key"].endswith("/anonymous/hello.txt")
    partly = await origin_client.post(
        "/files", content=b"hel", headers={**tenant.headers, **TUS, "Upload-Length": "5", "Content-Type": OCTET}
    )
    assert partly.headers["upload-offset"] == "3" and "x-mediaedge-file-id" not in partly.headers
    mismatch = await origin_client.post(
        "/files",
        content=b"hello",
        headers={**tenant.headers, **TUS, "Upload-Length": "5", "Content-Type": OCTET, "Upload-Checksum": "sha1 AAAA"},
    )
    assert mismatch.status_code == 460
    assert (await head(origin_client, tenant, mismatch.headers["location"])).headers["upload-offset"] == "0"


async def test_an_empty_upload_is_registered_at_creation(origin_client, tenant):
    response = await origin_client.post(
        "/files",
        headers={**tenant.headers, **TUS, "Upload-Length": "0", "Upload-Metadata": metadata(filename="empty.txt")},
    )
    assert response.status_code == 201
    assert response.headers["x-mediaedge-key"].endswith("/empty.txt")
    assert (await origin_client.get(response.headers["location"], headers=tenant.headers)).content == b""


async def test_termination_is_204_then_404(origin_client, tenant, origin_state):
    url = await create(origin_client, tenant, 10)
    await patch(origin_client, tenant, url, 0, b"abc")
    path = spool.spool_path(origin_state.settings, upload_id(url))
    assert path.exists()
    deleted = await origin_client.delete(url, headers={**tenant.headers, **TUS})
    assert deleted.status_code == 204 and deleted.headers["tus-resumable"] == "1.0.0"
    assert not path.exists()
    assert (await head(origin_client, tenant, url)).status_code == 404
    assert (await origin_client.delete(url, headers={**tenant.headers, **TUS})).status_code == 404


async def test_a_tenant_cannot_touch_another_tenants_upload(origin_client, tenant, origin_state):
    url = await create(origin_client, tenant, 10)
    _, other_key = await origin_state.store.tenants.create("other", origin_state.settings.storage.default)
    other = {"API-Key": other_key, **TUS}
    assert (await origin_client.head(url, headers=other)).status_code == 404
    assert (
        await origin_client.patch(url, content=b"x", headers={**other, "Upload-Offset": "0", "Content-Type": OCTET})
    ).status_code == 404
    assert (await origin_client.delete(url, headers=other)).status_code == 404
    assert (await origin_client.get(url, headers=other)).status_code == 404
    assert (await head(origin_client, tenant, url)).headers["upload-offset"] == "0"


async def test_partial_uploads_concatenate_into_a_final_upload(origin_client, tenant):
    parts = [b"first part|", b"second part|", b"third"]
    urls = []
    for data in parts:
        url = await create(origin_client, tenant, len(data), **{"Upload-Concat": "partial"})
        assert (await patch(origin_client, tenant, url, 0, data)).status_code == 204
        assert (await head(origin_client, tenant, url)).headers["upload-concat"] == "partial"
        urls.append(url)
    unfinished = await create(origin_client, tenant, 5, **{"Upload-Concat": "partial"})

    def post(concat: str):
        headers = {
            **tenant.headers,
            **TUS,
            "Upload-Concat": concat,
            "Upload-Metadata": metadata(filename="joined.txt"),
        }
        return origin_client.post("/files", headers=headers)

    assert (await post(f"final;{urls[0]} {unfinished}")).status_code == 400
    assert (await post(f"final;{urls[0]} /files/{'0' * 32}")).status_code == 404
    assert (await post("final;")).status_code == 400
    relative = "/files/" + upload_id(urls[1])  # relative and absolute URLs both work
    final = await post(f"final;{urls[0]} {relative} {urls[2]}")
    assert final.status_code == 201, final.text
    assert final.headers["x-mediaedge-key"].endswith("/joined.txt")
    location = final.headers["location"]
    described = await head(origin_client, tenant, location)
    assert described.headers["upload-concat"] == "final;" + " ".join(urls)
    assert described.headers["upload-length"] == described.headers["upload-offset"] == str(len(b"".join(parts)))
    assert (await patch(origin_client, tenant, location, 28, b"x")).status_code == 403
    assert (await origin_client.get(location, headers=tenant.headers)).content == b"".join(parts)


async def _client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], OriginState]]:
    """An in-process origin on ``settings`` with one tenant: client, the tenant's headers, the state."""
    state = await OriginState.open(settings)
    _, api_key = await state.store.tenants.create("proxied", settings.storage.default)
    app = create_app(settings, state)
    app.state.origin = state
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.5:8000") as c:
            yield c, {"API-Key": api_key, **TUS}, state
    finally:
        await state.close()


@pytest.mark.parametrize(
    ("trusted", "public_url", "expected"),
    [
        (True, "", "https://media.example.com/files/"),
        (False, "", "http://10.0.0.5:8000/files/"),
        (False, "https://upload.example.com", "https://upload.example.com/files/"),
    ],
)
async def test_location_behind_a_reverse_proxy(tmp_path, trusted, public_url, expected):
    settings = make_settings(tmp_path / "var", origin={"trust_forwarded": trusted, "public_url": public_url})
    async for client, headers, _state in _client(settings):
        response = await client.post(
            "/files",
            headers={
                **headers,
                "Upload-Length": "1",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "media.example.com, 10.0.0.1",
            },
        )
        assert response.headers["location"].startswith(expected)


async def test_ingest_failure_keeps_the_bytes_and_head_retries(origin_client, tenant, origin_state, monkeypatch):
    backend = origin_state.backends["local"]
    real_put = backend.put_file
    failures = iter([True])

    async def flaky_put(key: str, path: str, content_type: str | None = None):
        if next(failures, False):
            raise StorageError("disk went away")
        return await real_put(key, path, content_type)

    monkeypatch.setattr(backend, "put_file", flaky_put)
    url = await create(origin_client, tenant, 6, **{"Upload-Metadata": metadata(filename="retry.txt")})
    failed = await patch(origin_client, tenant, url, 0, b"kept!!")
    assert failed.status_code == 503
    assert spool.spool_path(origin_state.settings, upload_id(url)).read_bytes() == b"kept!!"
    retried = await head(origin_client, tenant, url)
    assert retried.status_code == 200
    assert retried.headers["x-mediaedge-key"].endswith("/retry.txt")
    assert (await origin_client.get(url, headers=tenant.headers)).content == b"kept!!"


async def test_bytes_past_the_recorded_offset_are_cut_off(origin_client, tenant, origin_state):
    url = await create(origin_client, tenant, 100)
    await patch(origin_client, tenant, url, 0, b"durable")
    path = spool.spool_path(origin_state.settings, upload_id(url))
    with path.open("ab") as f:  # what a process killed between write and record leaves behind
        f.write(b"never acknowledged")
    assert (await head(origin_client, tenant, url)).headers["upload-offset"] == "7"
    assert path.read_bytes() == b"durable"


async def _stalled_body(first: bytes, sent: asyncio.Event, release: asyncio.Event) -> AsyncIterator[bytes]:
    yield first
    sent.set()
    await release.wait()
    yield b"never sent"


async def running_with_its_first_chunk(state: OriginState, url: str, sent: asyncio.Event) -> None:
    """Until the stalled PATCH runs: it holds the upload's lease (polled, with a deadline) and the app
    asked for the body's next chunk, so it has the first one (``sent``)."""
    await asyncio.wait_for(sent.wait(), 10)
    query = select(tus_uploads.c.lock_owner).where(tus_uploads.c.id == upload_id(url))
    deadline = time.monotonic() + 10
    while True:
        async with state.store.db.engine.connect() as conn:
            if (await conn.execute(query)).scalar() is not None:
                return
        assert time.monotonic() < deadline, "the PATCH never took the upload's lease"
        await asyncio.sleep(0.01)


async def test_a_new_request_stops_a_running_patch_which_keeps_its_bytes(origin_client, tenant, origin_state):
    data = bytes(range(256)) * 1024
    url = await create(origin_client, tenant, len(data))
    sent, release = asyncio.Event(), asyncio.Event()
    stalled = asyncio.create_task(patch(origin_client, tenant, url, 0, _stalled_body(data[:65536], sent, release)))
    await running_with_its_first_chunk(origin_state, url, sent)
    second = await patch(origin_client, tenant, url, 0, data)  # a second PATCH: the first saves and ends
    assert second.status_code == 409 and second.headers["upload-offset"] == "65536"
    interrupted = await stalled
    assert interrupted.status_code == 400 and interrupted.json()["code"] == "UPLOAD_INTERRUPTED"
    release.set()
    described = await head(origin_client, tenant, url)
    assert described.headers["upload-offset"] == "65536"
    rest = await patch(origin_client, tenant, url, 65536, data[65536:])
    assert rest.status_code == 204
    assert (await origin_client.get(url, headers=tenant.headers)).content == data


async def test_head_during_a_patch_stops_it_and_reports_what_arrived(origin_client, tenant, origin_state):
    url = await create(origin_client, tenant, 100_000)
    sent, release = asyncio.Event(), asyncio.Event()
    stalled = asyncio.create_task(patch(origin_client, tenant, url, 0, _stalled_body(b"x" * 1234, sent, release)))
    await running_with_its_first_chunk(origin_state, url, sent)
    assert (await head(origin_client, tenant, url)).headers["upload-offset"] == "1234"
    assert (await stalled).headers["upload-offset"] == "1234"
    release.set()


async def test_a_lease_held_by_another_process_is_423_after_the_lock_timeout(origin_client, tenant, origin_state):
    url = await create(origin_client, tenant, 10)
    assert await origin_state.store.uploads.take_lease(upload_id(url), "elsewhere:1:a", 60)
    started = time.monotonic()
    response = await origin_client.delete(url, headers={**tenant.headers, **TUS})
    assert response.status_code == 423 and response.json()["code"] == "UPLOAD_LOCKED"
    assert 0.9 < time.monotonic() - started < 3
    # ...and the other process was asked to let go: its next renewal fails
    assert not await origin_state.store.uploads.renew_lease(upload_id(url), "elsewhere:1:a", 60)


async def test_another_process_asked_to_release_lets_the_request_through(origin_client, tenant, origin_state):
    url = await create(origin_client, tenant, 10)
    store, owner = origin_state.store, "elsewhere:1:b"
    assert await store.uploads.take_lease(upload_id(url), owner, 60)

    async def other_process() -> None:  # renews its lease until asked to release, then lets go
        while await store.uploads.renew_lease(upload_id(url), owner, 60):
            await asyncio.sleep(0.05)
        await store.uploads.release_lease(upload_id(url), owner)

    holder = asyncio.create_task(other_process())
    assert (await head(origin_client, tenant, url)).status_code == 200
    await holder


async def test_expired_uploads_are_410_then_swept_with_their_bytes(origin_client, tenant, origin_state):
    unfinished = await create(origin_client, tenant, 10)
    await patch(origin_client, tenant, unfinished, 0, b"abc")
    finished = await create(origin_client, tenant, 3)
    await patch(origin_client, tenant, finished, 0, b"abc")
    later = time.time() + 2 * 86400
    assert await sweep(origin_state, now=time.time()) == 0
    assert await sweep(origin_state, now=later) == 2
    assert not spool.spool_path(origin_state.settings, upload_id(unfinished)).exists()
    assert (await head(origin_client, tenant, unfinished)).status_code == 404
    assert (await head(origin_client, tenant, finished)).status_code == 404


async def test_an_expired_upload_answers_410_until_swept(tmp_path):
    settings = make_settings(tmp_path / "var", tus={"expires_after": "1s"})
    async for client, headers, _state in _client(settings):
        url = (await client.post("/files", headers={**headers, "Upload-Length": "10"})).headers["location"]
        await asyncio.sleep(1.1)
        assert (await client.head(url, headers=headers)).status_code == 410


async def test_the_cleaner_service_expires_uploads_in_the_background(tmp_path):
    settings = make_settings(tmp_path / "var", tus={"expires_after": "1s", "cleanup_interval": 1})
    state = await OriginState.open(settings)
    try:
        tenant, _ = await state.store.tenants.create("acme", settings.storage.default)
        upload = await uploads.create(state, tenant, length=10, metadata={}, bucket=None)
        service = asyncio.create_task(tus_cleaner(state))
        try:
            for _ in range(50):
                if await state.store.uploads.get(upload.id) is None:
                    break
                await asyncio.sleep(0.1)
        finally:
            service.cancel()
        assert await state.store.uploads.get(upload.id) is None
        assert not spool.spool_path(settings, upload.id).exists()
    finally:
        await state.close()


async def test_the_cleaner_registers_finished_uploads_whose_ingest_failed(
    origin_client, tenant, origin_state, monkeypatch
):
    backend = origin_state.backends["local"]
    real_put = backend.put_file
    monkeypatch.setattr(backend, "put_file", _failing_put)
    url = await create(origin_client, tenant, 3, **{"Upload-Metadata": metadata(filename="late.txt")})
    assert (await patch(origin_client, tenant, url, 0, b"abc")).status_code == 503
    assert await sweep(origin_state, now=time.time() + 7 * 86400) == 0  # never expired: bytes are kept
    monkeypatch.setattr(backend, "put_file", real_put)
    await sweep(origin_state)
    upload = await origin_state.store.uploads.get(upload_id(url))
    assert upload is not None and upload.file_id is not None


async def _failing_put(key: str, path: str, content_type: str | None = None):
    raise StorageError("still down")


async def test_a_clip_is_probed_and_its_file_webhook_queued(origin_client, tenant, origin_state, clip: Path):
    data = clip.read_bytes()
    url = await create(
        origin_client, tenant, len(data), **{"Upload-Metadata": metadata(filename="clip.mp4", userId="u1")}
    )
    half = len(data) // 2
    await patch(origin_client, tenant, url, 0, data[:half])
    done = await patch(origin_client, tenant, url, half, data[half:])
    record = await origin_state.store.files.get(done.headers["x-mediaedge-file-id"])
    assert record is not None and record.mime == "video/mp4" and abs((record.duration or 0) - 10.0) <= 0.1
    [delivery] = await origin_state.store.webhooks.recent(tenant.tenant.id, 10)
    assert delivery.event_type == "file" and record.key in delivery.body


async def test_completion_into_an_s3_bucket_goes_through_a_multipart_upload(tmp_path, s3_backend_options):
    options = {**s3_backend_options, "part_size": 5 * 1024 * 1024, "multipart_threshold": 1024 * 1024}
    settings = make_settings(tmp_path / "var", storage={"backends": {"s3": options}})
    data = bytes(range(256)) * (6 * 4096)  # 6 MiB: two parts
    async for client, headers, state in _client(settings):
        tenant = (await state.store.tenants.list_all())[0]
        await state.store.buckets.create(tenant.id, "archive", "s3")
        sent = metadata(filename="big.bin", bucket="archive")
        created = await client.post(
            "/files", headers={**headers, "Upload-Length": str(len(data)), "Upload-Metadata": sent}
        )
        url = created.headers["location"]
        for offset in range(0, len(data), 2 * 1024 * 1024):
            response = await client.patch(
                url,
                content=data[offset : offset + 2 * 1024 * 1024],
                headers={**headers, "Upload-Offset": str(offset), "Content-Type": OCTET},
            )
            assert response.status_code == 204, response.text
        key = response.headers["x-mediaedge-key"]
        assert (await state.backends["s3"].stat(key)).size == len(data)
        assert "-2" in (await state.backends["s3"].stat(key)).etag  # a two-part multipart upload's ETag
        assert (await client.get(url, headers=headers)).content == data
