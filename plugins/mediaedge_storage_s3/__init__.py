"""S3 storage backend (``kind = "s3"``) for AWS S3 and any S3-compatible endpoint (MinIO, R2, Ceph, …).

Options, from the settings table ``[storage.backends.NAME]``::

    [storage.backends.s3]
    kind = "s3"
    bucket = "media"                 # required
    prefix = "prod"                  # optional; objects live under "prod/{key}" in the bucket
    endpoint_url = "http://127.0.0.1:9000"   # optional; default: AWS for ``region``
    region = "us-east-1"             # default "us-east-1"
    access_key_id = "..."            # optional pair; without it botocore's credential chain is used
    secret_access_key = "..."        #   (environment, ~/.aws, instance/container role, …)
    addressing_style = "path"        # optional: "path", "virtual" or "auto" (botocore's default)
    part_size = 8388608              # multipart part size in bytes, at least 5 MiB (default 8 MiB)
    multipart_threshold = 8388608    # bodies this big or bigger go multipart (default: part_size)
    checksums = true                 # CRC request checksums; default true on AWS, false with endpoint_url

Sizes accept an integer number of bytes or a string such as ``"16MiB"``. ``checksums`` is off by
default for custom endpoints because many S3-compatible servers reject botocore's newer checksum
headers.

Writes are atomic: a body smaller than ``multipart_threshold`` is one ``PutObject``; a larger one is a
multipart upload that becomes visible only on ``CompleteMultipartUpload`` and is aborted on any
failure. Memory per write is bounded to about ``max(part_size, multipart_threshold)``. As a safety
net for crashed processes, give the bucket a lifecycle rule that aborts incomplete multipart uploads.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from mediaedge import hookimpl
from mediaedge.keys import InvalidKey, validate_key
from mediaedge.storage import (
    CHUNK_SIZE,
    ObjectInfo,
    ObjectNotFound,
    PresignedPost,
    StorageBackend,
    StorageError,
)

__all__ = ["S3Storage"]

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB  # S3's minimum for every part but the last
MAX_PART_SIZE = 5 * 1024 * MiB  # S3's maximum part (and PutObject) size
MAX_PARTS = 10_000
DEFAULT_PART_SIZE = 8 * MiB

OPTIONS = frozenset(
    {
        "kind",
        "bucket",
        "prefix",
        "endpoint_url",
        "region",
        "access_key_id",
        "secret_access_key",
        "addressing_style",
        "part_size",
        "multipart_threshold",
        "checksums",
    }
)
ADDRESSING_STYLES = ("path", "virtual", "auto")
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_SIZE = re.compile(r"^\s*(\d+)\s*(|b|kib|mib|gib|kb|mb|gb)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class S3Storage(StorageBackend):
    """Objects in one S3 bucket, optionally under a key prefix; one long-lived client per backend."""

    kind = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        multipart_threshold: int | None = None,
        checksums: bool | None = None,
    ) -> None:
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size: must be between 5MiB and 5GiB, got {part_size}")
        threshold = part_size if multipart_threshold is None else multipart_threshold
        if not 1 <= threshold <= MAX_PART_SIZE:
            raise ValueError(f"multipart_threshold: must be between 1 byte and 5GiB, got {threshold}")
        self.bucket = bucket
        self.prefix = _normalize_prefix(prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        self.part_size = part_size
        self.multipart_threshold = threshold
        self._credentials = {
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        checksums = endpoint_url is None if checksums is None else checksums
        when = "when_supported" if checksums else "when_required"
        self._config = AioConfig(
            region_name=region,
            signature_version="s3v4",
            s3={"addressing_style": addressing_style} if addressing_style else None,
            retries={"mode": "standard", "max_attempts": 3},
            request_checksum_calculation=when,
            response_checksum_validation=when,
        )
        self._client: Any = None
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> S3Storage:
        for name in options:
            if name not in OPTIONS:
                raise ValueError(f"{name}: unknown option for an s3 storage backend")
        bucket = options.get("bucket")
        if not bucket or not isinstance(bucket, str):
            raise ValueError("bucket: required for an s3 storage backend")
        if "/" in bucket or bucket != bucket.strip():
            raise ValueError(f"bucket: not a valid bucket name: {bucket!r}")
        prefix = _opt_str(options, "prefix") or ""
        try:
            _normalize_prefix(prefix)
        except InvalidKey as exc:
            raise ValueError(f"prefix: {exc}") from None
        endpoint_url = _opt_str(options, "endpoint_url") or None
        if endpoint_url is not None:
            parts = urlsplit(endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"endpoint_url: must be an http(s) URL, got {endpoint_url!r}")
        region = _opt_str(options, "region") or "us-east-1"
        access_key_id = _opt_str(options, "access_key_id") or None
        secret_access_key = _opt_str(options, "secret_access_key") or None
        if bool(access_key_id) != bool(secret_access_key):
            missing = "secret_access_key" if access_key_id else "access_key_id"
            raise ValueError(f"{missing}: access_key_id and secret_access_key must be given together")
        addressing_style = _opt_str(options, "addressing_style") or None
        if addressing_style is not None and addressing_style not in ADDRESSING_STYLES:
            raise ValueError(f"addressing_style: must be one of {', '.join(ADDRESSING_STYLES)}")
        part_size = _opt_size(options, "part_size")
        threshold = _opt_size(options, "multipart_threshold")
        checksums = options.get("checksums")
        if checksums is not None and not isinstance(checksums, bool):
            raise ValueError("checksums: must be true or false")
        return cls(
            bucket,
            prefix=prefix,
            endpoint_url=endpoint_url,
            region=region,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            addressing_style=addressing_style,
            part_size=DEFAULT_PART_SIZE if part_size is None else part_size,
            multipart_threshold=threshold,
            checksums=checksums,
        )

    # -- plumbing ---------------------------------------------------------------------------------

    async def _s3(self) -> Any:
        """The backend's client, created on first use and kept until :meth:`close`."""
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                stack = AsyncExitStack()
                try:
                    self._client = await stack.enter_async_context(
                        get_session().create_client(
                            "s3", endpoint_url=self.endpoint_url, config=self._config, **self._credentials
                        )
                    )
                except (BotoCoreError, ClientError, aiohttp.ClientError, OSError) as exc:
                    await stack.aclose()
                    raise StorageError(f"s3: cannot create a client: {exc}") from exc
                self._stack = stack
        return self._client

    async def close(self) -> None:
        """Close the client and its connection pool; a later call creates a new one."""
        async with self._lock:
            stack, self._stack, self._client = self._stack, None, None
            if stack is not None:
                await stack.aclose()

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    @contextlib.contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        """Turn botocore/network errors into :class:`ObjectNotFound` / :class:`StorageError`."""
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND_CODES:
                raise ObjectNotFound(key) from None
            raise StorageError(f"s3 {action} {key!r} failed: {code or exc}") from exc
        except (BotoCoreError, aiohttp.ClientError, OSError) as exc:  # OSError covers TimeoutError
            raise StorageError(f"s3 {action} {key!r} failed: {exc}") from exc

    # -- the contract -----------------------------------------------------------------------------

    async def stat(self, key: str) -> ObjectInfo:
        s3_key = self._key(key)
        client = await self._s3()
        with self._errors("stat", key):
            head = await client.head_object(Bucket=self.bucket, Key=s3_key)
        return ObjectInfo(
            key=key,
            size=int(head["ContentLength"]),
            etag=str(head.get("ETag", "")).strip('"'),
            last_modified=head["LastModified"].timestamp(),
            content_type=head.get("ContentType"),
        )

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"invalid byte range {start}-{end}")
        s3_key = self._key(key)
        client = await self._s3()
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": s3_key}
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            with self._errors("read", key):
                response = await client.get_object(**params)
        except StorageError as exc:
            if _error_code(exc) == "InvalidRange":  # start beyond the end: nothing to send, like local
                return
            raise
        async with response["Body"] as body:
            with self._errors("read", key):
                async for chunk in body.iter_chunks(CHUNK_SIZE):
                    yield chunk

    async def write(self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None) -> ObjectInfo:
        """Store ``chunks``: one PutObject below the threshold, else a multipart upload.

        Memory stays at about one buffer of ``max(part_size, multipart_threshold)`` bytes; the object
        appears only when the whole body is stored, and a failed multipart upload is aborted.
        """
        s3_key = self._key(key)
        client = await self._s3()
        extra = {"ContentType": content_type} if content_type else {}
        first = max(self.part_size, self.multipart_threshold)
        # Bodies go to aiohttp as BytesIO: it streams those without copying or warning about size.
        buf = io.BytesIO()
        upload: _Multipart | None = None
        try:
            async for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    cap = first if upload is None else self.part_size
                    room = cap - buf.tell()
                    buf.write(view[:room])
                    view = view[room:]
                    if buf.tell() < cap:
                        continue
                    if upload is None:
                        upload = _Multipart(self, client, key, s3_key)
                        await upload.start(extra)
                    buf = await upload.send_full_parts(buf)
            if upload is None and buf.tell() < self.multipart_threshold:
                buf.seek(0)
                with self._errors("write", key):
                    await client.put_object(Bucket=self.bucket, Key=s3_key, Body=buf, **extra)
            else:
                if upload is None:
                    upload = _Multipart(self, client, key, s3_key)
                    await upload.start(extra)
                if buf.tell() or not upload.parts:
                    buf.seek(0)
                    await upload.send_part(buf)
                buf = io.BytesIO()
                await upload.complete()
        except BaseException:
            if upload is not None and not upload.completed:
                await upload.abort()
            raise
        return await self.stat(key)

    async def delete(self, key: str) -> None:
        s3_key = self._key(key)
        client = await self._s3()
        try:
            with self._errors("delete", key):
                await client.delete_object(Bucket=self.bucket, Key=s3_key)
        except ObjectNotFound:  # S3 answers 204 anyway; some compatible servers say 404
            pass

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        if prefix:
            validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
        client = await self._s3()
        paginator = client.get_paginator("list_objects_v2")
        strip = len(self.prefix)
        with self._errors("list", prefix):
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", ()):
                    yield ObjectInfo(
                        key=item["Key"][strip:],
                        size=int(item["Size"]),
                        etag=str(item.get("ETag", "")).strip('"'),
                        last_modified=item["LastModified"].timestamp(),
                    )

    async def presign_get(self, key: str, expires_in: int, filename: str | None = None) -> str | None:
        """A GET URL valid ``expires_in`` seconds; with ``filename`` it downloads as an attachment."""
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        client = await self._s3()
        with self._errors("presign", key):
            url: str = await client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires_in))
        return url

    async def presign_post(
        self, key: str, expires_in: int, max_size: int, content_type: str | None = None, min_size: int = 0
    ) -> PresignedPost | None:
        """A form POST for a browser upload of ``min_size``..``max_size`` bytes straight to the bucket.

        The policy pins the key, the ``Content-Type`` (when given) and the size range; S3 answers 403
        to a form that breaks any of them or arrives after ``expires_in`` seconds.
        """
        if not 0 <= min_size <= max_size:
            raise ValueError(f"invalid size range {min_size}..{max_size}")
        s3_key = self._key(key)
        fields: dict[str, str] = {}
        conditions: list[Any] = [["content-length-range", int(min_size), int(max_size)]]
        if content_type:
            fields["Content-Type"] = content_type
            conditions.append({"Content-Type": content_type})
        client = await self._s3()
        with self._errors("presign", key):
            post = await client.generate_presigned_post(
                Bucket=self.bucket,
                Key=s3_key,
                Fields=fields,
                Conditions=conditions,
                ExpiresIn=int(expires_in),
            )
        return PresignedPost(url=post["url"], fields={k: str(v) for k, v in post["fields"].items()})


class _Multipart:
    """One multipart upload in progress: parts sent so far, completion and abort."""

    def __init__(self, storage: S3Storage, client: Any, key: str, s3_key: str) -> None:
        self.storage = storage
        self.client = client
        self.key = key
        self.s3_key = s3_key
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.completed = False

    async def start(self, extra: Mapping[str, str]) -> None:
        with self.storage._errors("write", self.key):
            created = await self.client.create_multipart_upload(Bucket=self.storage.bucket, Key=self.s3_key, **extra)
        self.upload_id = created["UploadId"]

    async def send_part(self, body: io.BytesIO) -> None:
        number = len(self.parts) + 1
        if number > MAX_PARTS:
            raise StorageError(f"s3 write {self.key!r} failed: more than {MAX_PARTS} parts; raise part_size")
        with self.storage._errors("write", self.key):
            sent = await self.client.upload_part(
                Bucket=self.storage.bucket,
                Key=self.s3_key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=body,
            )
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def send_full_parts(self, buf: io.BytesIO) -> io.BytesIO:
        """Send every whole part written to ``buf``; return a fresh buffer holding the rest."""
        size = self.storage.part_size
        length = buf.tell()
        if length == size:  # the common case: send the buffer itself, no copy
            buf.seek(0)
            await self.send_part(buf)
            return io.BytesIO()
        rest = io.BytesIO()
        with buf.getbuffer() as view:  # a threshold above part_size: cut the first buffer up
            offset = 0
            while length - offset >= size:
                await self.send_part(io.BytesIO(view[offset : offset + size].tobytes()))
                offset += size
            rest.write(view[offset:length])
        return rest

    async def complete(self) -> None:
        with self.storage._errors("write", self.key):
            await self.client.complete_multipart_upload(
                Bucket=self.storage.bucket,
                Key=self.s3_key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        self.completed = True

    async def abort(self) -> None:
        """Abort, even while the writing task is being cancelled; log (never raise) a failure."""
        if self.upload_id is None:
            return
        task = asyncio.ensure_future(
            self.client.abort_multipart_upload(Bucket=self.storage.bucket, Key=self.s3_key, UploadId=self.upload_id)
        )
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:  # the abort itself carries on in the background
            raise
        except Exception as exc:
            logger.warning("s3: could not abort multipart upload of %r (%s): %s", self.s3_key, self.upload_id, exc)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` fallback and the exact name as RFC 5987 ``filename*``."""
    clean = _CONTROL.sub("", filename)
    fallback = clean.encode("ascii", "replace").decode("ascii").replace("\\", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(clean, safe='')}"


def _normalize_prefix(prefix: str) -> str:
    """``"/media/prod/"`` → ``"media/prod/"``; empty stays empty. Raises :class:`InvalidKey`."""
    prefix = prefix.strip("/")
    return validate_key(prefix) + "/" if prefix else ""


def _error_code(exc: BaseException) -> str:
    cause = exc.__cause__
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code", ""))
    return ""


def _opt_str(options: Mapping[str, Any], name: str) -> str | None:
    value = options.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name}: must be a string")
    return value


def _opt_size(options: Mapping[str, Any], name: str) -> int | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected a size in bytes or like 8MiB")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _SIZE.match(value)):
        size = int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    else:
        raise ValueError(f"{name}: expected a size in bytes or like 8MiB, got {value!r}")
    return size  # range checked by S3Storage.__init__


@hookimpl
def register_storage_backends() -> list[type[StorageBackend]]:
    return [S3Storage]
