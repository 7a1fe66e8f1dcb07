"""The S3 storage backend against a real S3 API (moto's server mode, see tests/fixtures/s3.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiobotocore.config import AioConfig
from mediaedge_storage_s3 import S3Storage, content_disposition

from mediaedge.backends import backend_kinds
from mediaedge.keys import InvalidKey
from mediaedge.plugins import get_plugin_manager
from mediaedge.storage import CHUNK_SIZE, ObjectNotFound, StorageError
from tests.fixtures.servers import free_port

MiB = 1024 * 1024
KEY = "t1/u1/videos/clip.mp4"


async def agen(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def failing_after(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    raise RuntimeError("client went away")


async def read_all(backend: S3Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in backend.open_range(key, start, end)])


def pending_uploads(s3_client: Any, bucket: str) -> list[dict[str, Any]]:
    return list(s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


@pytest.fixture
async def s3(s3_backend_options: dict[str, Any]) -> AsyncIterator[S3Storage]:
    backend = S3Storage.from_options(s3_backend_options)
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def s3_multipart(s3_backend_options: dict[str, Any]) -> AsyncIterator[S3Storage]:
    backend = S3Storage.from_options({**s3_backend_options, "part_size": "5MiB"})
    try:
        yield backend
    finally:
        await backend.close()


# -- options and registration ----------------------------------------------------------------------


def test_registered_through_entry_point() -> None:
    assert backend_kinds(get_plugin_manager())["s3"] is S3Storage


def test_from_options_defaults() -> None:
    backend = S3Storage.from_options({"kind": "s3", "bucket": "media"})
    assert backend.bucket == "media"
    assert backend.region == "us-east-1"
    assert backend.prefix == ""
    assert backend.endpoint_url is None
    assert backend.part_size == backend.multipart_threshold == 8 * MiB


def test_from_options_full() -> None:
    backend = S3Storage.from_options(
        {
            "kind": "s3",
            "bucket": "media",
            "prefix": "/prod/media/",
            "endpoint_url": "https://s3.example.test",
            "region": "eu-west-1",
            "access_key_id": "AK",
            "secret_access_key": "SK",
            "addressing_style": "virtual",
            "part_size": "16MiB",
            "multipart_threshold": 64 * MiB,
        }
    )
    assert backend.prefix == "prod/media/"
    assert backend.region == "eu-west-1"
    assert backend.part_size == 16 * MiB
    assert backend.multipart_threshold == 64 * MiB


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({}, "bucket"),
        ({"bucket": ""}, "bucket"),
        ({"bucket": 3}, "bucket"),
        ({"bucket": "a/b"}, "bucket"),
        ({"bucket": "b", "prefix": "a/../b"}, "prefix"),
        ({"bucket": "b", "endpoint_url": "ftp://host"}, "endpoint_url"),
        ({"bucket": "b", "region": 1}, "region"),
        ({"bucket": "b", "access_key_id": "AK"}, "secret_access_key"),
        ({"bucket": "b", "secret_access_key": "SK"}, "access_key_id"),
        ({"bucket": "b", "addressing_style": "sideways"}, "addressing_style"),
        ({"bucket": "b", "part_size": MiB}, "part_size"),
        ({"bucket": "b", "part_size": "lots"}, "part_size"),
        ({"bucket": "b", "part_size": True}, "part_size"),
        ({"bucket": "b", "multipart_threshold": 0}, "multipart_threshold"),
        ({"bucket": "b", "checksums": "yes"}, "checksums"),
        ({"bucket": "b", "buckett": "typo"}, "buckett"),
    ],
)
def test_from_options_names_the_bad_option(options: dict[str, Any], option: str) -> None:
    with pytest.raises(ValueError, match=rf"^{option}: "):
        S3Storage.from_options({"kind": "s3", **options})


def test_missing_bucket_message() -> None:
    with pytest.raises(ValueError, match=r"^bucket: required for an s3 storage backend$"):
        S3Storage.from_options({"kind": "s3"})


def test_content_disposition_is_header_safe() -> None:
    value = content_disposition('my "clip"\r\n\u00e9t\u00e9.mp4')
    assert "\r" not in value and "\n" not in value
    assert value.startswith('attachment; filename="my _clip_?t?.mp4"; ')
    assert value.endswith("filename*=UTF-8''my%20%22clip%22%C3%A9t%C3%A9.mp4")


# -- read and write --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_write_stat_read(s3: S3Storage) -> None:
    before = time.time()
    info = await s3.write(KEY, agen(b"hello ", b"world"), content_type="video/mp4")
    assert info.key == KEY
    assert info.size == 11
    assert info.content_type == "video/mp4"
    assert info.etag and '"' not in info.etag
    assert before - 5 <= info.last_modified <= time.time() + 5
    assert await s3.stat(KEY) == info
    assert await read_all(s3, KEY) == b"hello world"
    assert await read_all(s3, KEY, 6) == b"world"
    assert await read_all(s3, KEY, 0, 4) == b"hello"
    assert await read_all(s3, KEY, 4, 6) == b"o w"
    assert await read_all(s3, KEY, 10, 10) == b"d"
    assert await read_all(s3, KEY, 11) == b""  # past the end, like the local backend


@pytest.mark.anyio
async def test_write_replaces_and_empty_body(s3: S3Storage) -> None:
    await s3.write(KEY, agen(b"old"))
    info = await s3.write(KEY, agen())
    assert info.size == 0
    assert await read_all(s3, KEY) == b""


@pytest.mark.anyio
async def test_prefix_option_namespaces_keys(s3_backend_options: dict[str, Any], s3_client: Any) -> None:
    backend = S3Storage.from_options({**s3_backend_options, "prefix": "prod"})
    try:
        await backend.write(KEY, agen(b"x"))
        bucket = s3_backend_options["bucket"]
        keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == [f"prod/{KEY}"]
        assert [i.key async for i in backend.list("t1/")] == [KEY]
        assert (await backend.stat(KEY)).key == KEY
        await backend.delete(KEY)
        assert s3_client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    finally:
        await backend.close()


@pytest.mark.anyio
async def test_multipart_write_and_streamed_read(s3_multipart: S3Storage) -> None:
    body = os.urandom(12 * MiB + 12345)
    chunks = [body[i : i + MiB] for i in range(0, len(body), MiB)]
    info = await s3_multipart.write(KEY, agen(*chunks), content_type="video/mp4")
    assert info.size == len(body)
    assert info.etag.endswith("-3")  # 5 MiB + 5 MiB + the rest
    assert info.content_type == "video/mp4"

    received = [chunk async for chunk in s3_multipart.open_range(KEY)]
    assert b"".join(received) == body
    assert len(received) > 1 and max(map(len, received)) <= CHUNK_SIZE  # streamed, not read whole

    start, end = 5 * MiB - 10, 5 * MiB + 9  # across the first part boundary
    assert await read_all(s3_multipart, KEY, start, end) == body[start : end + 1]


@pytest.mark.anyio
async def test_multipart_with_odd_sized_chunks(s3_multipart: S3Storage) -> None:
    body = os.urandom(11 * MiB)
    step = 3 * MiB + 7  # chunks straddle part boundaries
    info = await s3_multipart.write(KEY, agen(*(body[i : i + step] for i in range(0, len(body), step))))
    assert info.size == len(body)
    assert await read_all(s3_multipart, KEY) == body


@pytest.mark.anyio
async def test_body_below_threshold_is_one_put(s3_multipart: S3Storage) -> None:
    info = await s3_multipart.write(KEY, agen(b"a" * MiB, b"b" * MiB))
    assert "-" not in info.etag  # a multipart ETag ends in -N


@pytest.mark.anyio
async def test_failed_multipart_leaves_nothing(
    s3_multipart: S3Storage, s3_backend_options: dict[str, Any], s3_client: Any
) -> None:
    bucket = s3_backend_options["bucket"]
    await s3_multipart.write("t1/u1/other.bin", agen(b"keep me"))
    with pytest.raises(RuntimeError, match="client went away"):
        await s3_multipart.write(KEY, failing_after([os.urandom(MiB)] * 7))  # after part 1 was sent
    with pytest.raises(ObjectNotFound):
        await s3_multipart.stat(KEY)
    assert pending_uploads(s3_client, bucket) == []
    assert [i.key async for i in s3_multipart.list("")] == ["t1/u1/other.bin"]


@pytest.mark.anyio
async def test_failed_write_keeps_the_old_object(
    s3_multipart: S3Storage, s3_backend_options: dict[str, Any], s3_client: Any
) -> None:
    await s3_multipart.write(KEY, agen(b"old version"))
    with pytest.raises(RuntimeError):
        await s3_multipart.write(KEY, failing_after([b"x" * MiB] * 11))  # two parts sent
    with pytest.raises(RuntimeError):
        await s3_multipart.write(KEY, failing_after([b"x" * 100]))  # single-put path
    assert await read_all(s3_multipart, KEY) == b"old version"
    assert pending_uploads(s3_client, s3_backend_options["bucket"]) == []


@pytest.mark.anyio
async def test_cancelled_multipart_is_aborted(
    s3_multipart: S3Storage, s3_backend_options: dict[str, Any], s3_client: Any
) -> None:
    bucket = s3_backend_options["bucket"]
    part_sent = asyncio.Event()

    async def stalls_after_one_part() -> AsyncIterator[bytes]:
        yield b"x" * (5 * MiB)  # fills part 1; the next pull happens once it is uploaded
        part_sent.set()
        await asyncio.Event().wait()
        yield b""

    task = asyncio.create_task(s3_multipart.write(KEY, stalls_after_one_part()))
    await asyncio.wait_for(part_sent.wait(), 10)
    assert len(pending_uploads(s3_client, bucket)) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pending_uploads(s3_client, bucket) == []
    with pytest.raises(ObjectNotFound):
        await s3_multipart.stat(KEY)


def stored_checksums(s3_client: Any, bucket: str, key: str) -> set[str]:
    """The checksum fields S3 keeps for an object (present only if its upload sent one)."""
    head = s3_client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    return {name for name in head if name.startswith("Checksum") and name != "ChecksumType"}


@pytest.mark.anyio
@pytest.mark.parametrize("checksums", [True, False])
async def test_checksums_option(s3_backend_options: dict[str, Any], s3_client: Any, checksums: bool) -> None:
    """``checksums = true`` sends CRC request checksums (S3 keeps the one of a single-part upload;
    moto keeps none for multipart objects, so those are only read back); ``false`` sends none."""
    backend = S3Storage.from_options({**s3_backend_options, "part_size": 5 * MiB, "checksums": checksums})
    bucket = s3_backend_options["bucket"]
    try:
        body = os.urandom(6 * MiB)
        await backend.write(KEY, agen(body))
        await backend.write("t1/u1/small", agen(b"small"))
        assert await read_all(backend, KEY) == body
        assert await read_all(backend, "t1/u1/small") == b"small"
        assert bool(stored_checksums(s3_client, bucket, "t1/u1/small")) is checksums
    finally:
        await backend.close()


# -- delete and list -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_delete(s3: S3Storage) -> None:
    await s3.write(KEY, agen(b"x"))
    await s3.delete(KEY)
    with pytest.raises(ObjectNotFound):
        await s3.stat(KEY)
    await s3.delete(KEY)  # missing: not an error


@pytest.mark.anyio
async def test_list_by_prefix(s3: S3Storage) -> None:
    keys = ["t1/u1/b.mp4", "t1/u1/a.mp4", "t1/u1/hls/seg1.ts", "t1/u2/a.mp4", "t2/u1/a.mp4"]
    for key in keys:
        await s3.write(key, agen(key.encode()))
    listed = [info async for info in s3.list("t1/u1/")]
    assert [i.key for i in listed] == ["t1/u1/a.mp4", "t1/u1/b.mp4", "t1/u1/hls/seg1.ts"]
    assert all(i.size == len(i.key) and i.etag and '"' not in i.etag for i in listed)
    assert [i.key async for i in s3.list("t1/u1/hls/")] == ["t1/u1/hls/seg1.ts"]
    assert [i.key async for i in s3.list("t1/u")] == sorted(k for k in keys if k.startswith("t1/"))
    assert [i.key async for i in s3.list("")] == sorted(keys)
    assert [i.key async for i in s3.list("t3/")] == []


# -- presigning ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_presigned_get(s3: S3Storage) -> None:
    await s3.write(KEY, agen(b"movie bytes"), content_type="video/mp4")
    async with httpx.AsyncClient() as http:
        url = await s3.presign_get(KEY, 300)
        assert url is not None
        response = await http.get(url)
        assert response.status_code == 200
        assert response.content == b"movie bytes"

        url = await s3.presign_get(KEY, 300, filename="My clip.mp4")
        assert url is not None and "response-content-disposition" in url
        response = await http.get(url)
        assert response.content == b"movie bytes"
        assert response.headers["content-disposition"] == content_disposition("My clip.mp4")


@pytest.mark.anyio
async def test_presigned_post(s3: S3Storage) -> None:
    post = await s3.presign_post(KEY, 300, max_size=10 * MiB, content_type="video/mp4")
    assert post is not None
    assert post.fields["key"] == KEY
    assert post.fields["Content-Type"] == "video/mp4"
    policy = json.loads(base64.b64decode(post.fields["policy"]))
    assert ["content-length-range", 0, 10 * MiB] in policy["conditions"]
    assert {"Content-Type": "video/mp4"} in policy["conditions"]

    async with httpx.AsyncClient() as http:
        response = await http.post(
            post.url, data=post.fields, files={"file": ("clip.mp4", b"uploaded directly", "video/mp4")}
        )
    assert response.status_code in (200, 201, 204), response.text
    info = await s3.stat(KEY)
    assert info.size == len(b"uploaded directly")
    assert info.content_type == "video/mp4"
    assert await read_all(s3, KEY) == b"uploaded directly"


@pytest.mark.anyio
async def test_presigned_post_of_an_exact_size(s3: S3Storage) -> None:
    post = await s3.presign_post(KEY, 900, max_size=1234, content_type="video/mp4", min_size=1234)
    assert post is not None
    policy = json.loads(base64.b64decode(post.fields["policy"]))
    assert ["content-length-range", 1234, 1234] in policy["conditions"]
    with pytest.raises(ValueError, match="invalid size range"):
        await s3.presign_post(KEY, 900, max_size=10, min_size=11)


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_missing_object(s3: S3Storage) -> None:
    with pytest.raises(ObjectNotFound):
        await s3.stat("t1/u1/missing.mp4")
    with pytest.raises(ObjectNotFound):
        await read_all(s3, "t1/u1/missing.mp4")
    with pytest.raises(ObjectNotFound):
        await read_all(s3, "t1/u1/missing.mp4", 5, 10)


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["../x", "a//b", "a/./b", "/a", "a/", "", "a\\b", "a/%2e%2e/b", "a\x00b"])
async def test_invalid_keys_rejected(s3: S3Storage, key: str) -> None:
    with pytest.raises(InvalidKey):
        await s3.stat(key)
    with pytest.raises(InvalidKey):
        await read_all(s3, key)
    with pytest.raises(InvalidKey):
        await s3.write(key, agen(b"x"))
    with pytest.raises(InvalidKey):
        await s3.delete(key)
    with pytest.raises(InvalidKey):
        await s3.presign_get(key, 60)
    with pytest.raises(InvalidKey):
        await s3.presign_post(key, 60, 100)
    assert [i async for i in s3.list("")] == []


@pytest.mark.anyio
async def test_invalid_list_prefix_rejected(s3: S3Storage) -> None:
    with pytest.raises(InvalidKey):
        [i async for i in s3.list("../")]


@pytest.mark.anyio
async def test_missing_bucket_is_a_storage_error(s3_backend_options: dict[str, Any]) -> None:
    backend = S3Storage.from_options({**s3_backend_options, "bucket": "no-such-bucket-here"})
    try:
        # HEAD answers carry no error code, so stat() cannot tell NoSuchBucket from a missing key.
        with pytest.raises(ObjectNotFound):
            await backend.stat(KEY)
        for attempt in (
            read_all(backend, KEY),
            backend.write(KEY, agen(b"x")),
            backend.write(KEY, agen(b"x" * 6 * MiB)),
        ):
            with pytest.raises(StorageError) as caught:
                await attempt
            assert not isinstance(caught.value, ObjectNotFound)
            assert "NoSuchBucket" in str(caught.value)
        with pytest.raises(StorageError):
            [i async for i in backend.list("")]
    finally:
        await backend.close()


@pytest.mark.anyio
async def test_unreachable_endpoint_is_a_storage_error(s3_backend_options: dict[str, Any]) -> None:
    options = {**s3_backend_options, "endpoint_url": f"http://127.0.0.1:{free_port()}"}
    backend = S3Storage.from_options(options)
    backend._config = backend._config.merge(AioConfig(retries={"mode": "standard", "max_attempts": 1}))
    try:
        with pytest.raises(StorageError) as caught:
            await backend.stat(KEY)
        assert not isinstance(caught.value, ObjectNotFound)
    finally:
        await backend.close()


@pytest.mark.anyio
async def test_close_is_idempotent_and_client_recreated(s3: S3Storage) -> None:
    await s3.write(KEY, agen(b"x"))
    await s3.close()
    await s3.close()
    assert (await s3.stat(KEY)).size == 1  # a new client after close()
