"""The ``fetch_url`` job behind ``POST /upload/from-url``: download through the SSRF guard, then ingest.

The body streams into a spool file with the tenant's size limit enforced as it arrives, then
:func:`origin.ingest.ingest_file` registers it, which writes the success webhook in the same
transaction. Retries follow the seed: none for a 4xx, a refused (private) address, a file too large
or a revoked tenant; three (5 s → 10 s → 20 s) for a 5xx, a network error or a storage failure. When
the job fails for good, the failure webhook is written in the transaction that records it.
"""

from __future__ import annotations

import asyncio
import email.message
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from mediaedge.errors import HTTPError
from mediaedge.keys import sanitize_segment
from mediaedge.net import NetError, SafeClient, SafeResponse
from origin.ingest import DEFAULT_USER, IngestRequest, ingest_file, max_file_size
from origin.jobs import Job, PermanentJobError, RetryableJobError, register_job
from origin.state import OriginState
from origin.store import FileRecord, Tenant
from origin.store.db import Conn
from origin.webhooks import emit, url_failed_event

FETCH_URL = "fetch_url"
BACKOFF = (5.0, 10.0, 20.0)
MAX_ATTEMPTS = 1 + len(BACKOFF)
SPOOL_WRITE = 1 << 20


@dataclass(frozen=True)
class Download:
    path: str
    filename: str
    content_type: str | None


def _check_status(response: SafeResponse) -> None:
    if 200 <= response.status_code < 300:
        return
    error = RetryableJobError if response.status_code >= 500 else PermanentJobError
    raise error(f"URL returned HTTP {response.status_code} {response.reason_phrase}".rstrip())


def _filename(response: SafeResponse, url: str) -> str:
    """Content-Disposition's filename, else the URL path's last segment (sanitised at ingest)."""
    disposition = response.headers.get("content-disposition")
    if disposition:
        message = email.message.Message()
        message["content-disposition"] = disposition
        if name := message.get_filename():
            return name
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


async def _spool(fd: int, chunks: AsyncIterator[bytes]) -> None:
    """Write ``chunks`` to ``fd`` in ~1 MiB blocks off the event loop."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) >= SPOOL_WRITE:
            await asyncio.to_thread(_write_all, fd, bytes(buffer))
            buffer.clear()
    await asyncio.to_thread(_write_all, fd, bytes(buffer))


async def download(state: OriginState, tenant: Tenant, url: str) -> Download:
    """Stream ``url`` into a new spool file (the caller owns it); raises :class:`NetError` or a job error."""
    os.makedirs(state.settings.origin.spool_dir, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="fetch-", dir=state.settings.origin.spool_dir)
    try:
        async with (
            SafeClient.from_settings(state.settings) as client,
            client.stream(
                "GET", url, headers={"Accept-Encoding": "identity"}, max_bytes=max_file_size(state, tenant)
            ) as response,
        ):
            _check_status(response)
            await _spool(fd, response.iter_bytes())
            content_type = response.headers.get("content-type", "").split(";")[0].strip() or None
            return Download(path, _filename(response, url), content_type)
    except BaseException:
        os.unlink(path)
        raise
    finally:
        os.close(fd)


def _ingest_request(job: Job, fetched: Download) -> IngestRequest:
    payload = job.payload
    return IngestRequest(
        filename=payload.get("filename") or fetched.filename,
        user_id=payload.get("userId"),
        destination=payload.get("destination"),
        bucket=payload.get("bucket"),
        require_signed=bool(payload.get("requireSignedUrl")),
        declared_type=fetched.content_type,
        source="url",
        source_url=payload["url"],
        meta=payload.get("meta") or {},
        ingest_key=f"url:{job.id}",
    )


async def run_fetch(state: OriginState, job: Job) -> dict[str, Any]:
    """Download and ingest; the result is the registered file."""
    tenant = await state.store.tenants.get(job.tenant_id)
    if tenant is None or not tenant.active:
        raise PermanentJobError("Invalid tenant: the API key was revoked")
    done = await state.store.files.by_ingest_key(f"url:{job.id}")
    if done is not None and done.status == "ready":  # registered before a crash cut the job short
        return _result(state, done)
    try:
        fetched = await download(state, tenant, job.payload["url"])
    except NetError as exc:
        raise (RetryableJobError if exc.retryable else PermanentJobError)(str(exc)) from exc
    try:
        record = await ingest_file(state, tenant, fetched.path, _ingest_request(job, fetched))
    except HTTPError as exc:
        raise (RetryableJobError if exc.status >= 500 else PermanentJobError)(exc.message) from exc
    return _result(state, record)


def _result(state: OriginState, record: FileRecord) -> dict[str, Any]:
    return {
        "fileId": record.id,
        "key": record.key,
        "url": state.access_url(record),
        "filename": record.filename,
        "file_type": record.mime,
        "file_size": record.size,
        "duration": record.duration,
    }


async def fetch_failed(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    """The failure webhook, in the transaction that marks the job failed."""
    payload = job.payload
    user_id = sanitize_segment(payload.get("userId") or "", fallback=DEFAULT_USER)
    await emit(tx, job.tenant_id, url_failed_event(payload["url"], user_id, error, payload.get("meta")))


register_job(FETCH_URL, run_fetch, on_failed=fetch_failed, backoff=BACKOFF, max_attempts=MAX_ATTEMPTS)
