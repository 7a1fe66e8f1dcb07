"""Imports: a media file from a URL, every media file of an S3 bucket, and what both end with.

``POST /api/import/media/url`` makes the media file at once (status ``import``) and queues
``editor.import_url``, which downloads through the SSRF guard (:func:`origin.fetch_url.download`)
with the upload-from-URL retry rules — none for a 4xx, a refused address or a file too large; three
(5 s → 10 s → 20 s) for a 5xx or a network error — then ingests the bytes into that media file.

``POST /api/import/media/awsbucket`` queues ``editor.import_bucket`` with the credentials sealed in
its payload: it lists the bucket with aiobotocore (the endpoint checked against the SSRF policy
first) and imports each object whose name is a video, audio or image file as above, through a
presigned URL made with those credentials.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from mediaedge.errors import HTTPError
from mediaedge.net import NetError, NetPolicy
from origin.catalogue.ids import new_asset_id
from origin.catalogue.status import Status
from origin.editor.callbacks import emit_callback
from origin.editor.kinds import media_type
from origin.editor.media import ROOT, path_of, set_editor_extra
from origin.editor.sealed import open_sealed, seal
from origin.editor.sessions import Caller, user_id
from origin.fetch_url import BACKOFF, MAX_ATTEMPTS, download
from origin.ingest import IngestRequest, ingest_file
from origin.jobs import Job, PermanentJobError, RetryableJobError, enqueue, register_job
from origin.state import OriginState
from origin.store import Asset, FileRecord
from origin.store.db import Conn

IMPORT_URL = "editor.import_url"
IMPORT_BUCKET = "editor.import_bucket"
AWS_ENDPOINT = "https://s3.amazonaws.com"
PRESIGN_SECONDS = 6 * 3600
MAX_BUCKET_OBJECTS = 10_000


def _name_of(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "media"


def check_public_url(state: OriginState, url: Any) -> str:
    """An http(s) URL the SSRF guard accepts on its face (host names are checked when connecting)."""
    if not isinstance(url, str) or not url:
        raise HTTPError(400, "url is required", "editor.import.invalid")
    try:
        NetPolicy(state.settings.net.allow).check_url(url)
    except NetError as exc:
        raise HTTPError(400, str(exc), "editor.import.url_refused") from None
    return url


async def _start_import(
    state: OriginState, caller: Caller, conn: Conn, url: str, name: str, folder: str, source: str
) -> Asset:
    asset = await state.store.assets.create(
        caller.tenant.id,
        kind=media_type(name) or "video",
        title=name,
        asset_id=new_asset_id(),
        folder=folder,
        user_id=user_id(caller.session),
        source=source,
        dialect="editor",
        progress=0,
        extra={"editor": {"stage": "import", "url": url if source == "url" else None}},
        conn=conn,
    )
    payload = {"asset_id": asset.id, "url": seal(state.settings, url), "session": caller.session.id, "name": name}
    await enqueue(conn, IMPORT_URL, caller.tenant.id, payload)
    return asset


async def import_url(state: OriginState, caller: Caller, body: dict[str, Any]) -> Asset:
    url = check_public_url(state, body.get("url"))
    folder = await path_of(state, caller.tenant, body.get("folder"))
    async with state.store.transaction() as tx:
        return await _start_import(state, caller, tx, url, _name_of(url), folder, "url")


async def adopt_file(state: OriginState, asset: Asset, record: FileRecord, session_id: str | None) -> Asset:
    """The ingested ``record`` becomes the media file's source; its thumbnails are queued."""
    from origin.editor.thumbnails import queue_preparation

    async with state.store.transaction() as tx:  # ingest copied the file's facts onto the asset
        updated = await state.store.assets.update(
            asset.tenant_id,
            asset.id,
            conn=tx,
            file_id=record.id,
            progress=100,
            extra={**asset.extra, "editor": {"stage": "prepare_thumbnails"}},
        )
        await state.store.assets.advance(asset.id, Status.READY, conn=tx)
        await queue_preparation(state, tx, updated or asset, session_id)
    return await state.store.assets.get(asset.tenant_id, asset.id) or asset


async def announce_ready(state: OriginState, asset: Asset, session_id: str | None) -> None:
    """The ``media_ready`` callback of the session that uploaded or imported the file."""
    session = await state.store.editor.session(session_id) if session_id else None
    if session is None:
        return
    async with state.store.transaction() as tx:
        await emit_callback(state, tx, session, "media_ready", {"mediaFileId": asset.id, "name": asset.title})


async def run_import(state: OriginState, job: Job) -> dict[str, Any]:
    asset = await state.store.assets.get(job.tenant_id, job.payload["asset_id"])
    tenant = await state.store.tenants.get(job.tenant_id)
    if asset is None or tenant is None or not tenant.active:
        raise PermanentJobError("The media file or its tenant is gone")
    if asset.status == Status.READY:  # finished before a crash cut the job short
        return {"asset_id": asset.id}
    url = open_sealed(state.settings, job.payload["url"])
    try:
        fetched = await download(state, tenant, url)
    except NetError as exc:
        raise (RetryableJobError if exc.retryable else PermanentJobError)(str(exc)) from exc
    name = job.payload.get("name") or fetched.filename
    if media_type(name, fetched.content_type) is None:
        os.unlink(fetched.path)  # noqa: ASYNC240 - one unlink of a local file
        raise PermanentJobError(f"Unsupported media: {name}")
    request = IngestRequest(
        filename=name,
        user_id=asset.user_id,
        declared_type=fetched.content_type,
        source="url",
        source_url=url if asset.source == "url" else None,
        ingest_key=f"editor:{asset.id}",
        asset_id=asset.id,
    )
    try:
        record = await ingest_file(state, tenant, fetched.path, request)
    except HTTPError as exc:
        raise (RetryableJobError if exc.status >= 500 else PermanentJobError)(exc.message) from exc
    await adopt_file(state, asset, record, job.payload.get("session"))
    return {"asset_id": asset.id, "file_id": record.id}


def error_type(error: str) -> str:
    """The editor's error type for why an import failed."""
    if error.startswith("Unsupported media"):
        return "unsupported_media"
    if "exceeds the maximum size" in error or "too large" in error.lower():
        return "exceeded_file_size"
    if error.startswith(("URL returned HTTP 404", "URL returned HTTP 410")):
        return "not_found"
    return "internal_server_error"


async def import_failed(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    asset = await state.store.assets.get(job.tenant_id, job.payload["asset_id"], tx)
    if asset is None:
        return
    kind = error_type(error)
    await state.store.assets.update(
        asset.tenant_id, asset.id, conn=tx, error=error, extra={**asset.extra, "editor": {"errorType": kind}}
    )
    await state.store.assets.advance(asset.id, Status.FAILED, conn=tx)
    session = await state.store.editor.session(job.payload.get("session") or "")
    if session is not None:
        await emit_callback(
            state, tx, session, "media_error", {"mediaFileId": asset.id, "error": {"type": kind, "message": error}}
        )


# -- S3 buckets -----------------------------------------------------------------------------------

BUCKET_FIELDS = ("awsAccessKey", "awsSecreteKey", "awsBucketName")


async def import_bucket(state: OriginState, caller: Caller, body: dict[str, Any]) -> str:
    """Queue the import of a bucket's media; the job's id."""
    if not all(isinstance(body.get(f), str) and body.get(f) for f in BUCKET_FIELDS):
        raise HTTPError(400, "awsAccessKey, awsSecreteKey and awsBucketName are required", "editor.import.invalid")
    endpoint = check_public_url(state, body.get("awsEndPoint") or AWS_ENDPOINT)
    folder = await path_of(state, caller.tenant, body.get("folder"))
    secret = {f: body[f] for f in BUCKET_FIELDS} | {
        "awsEndPoint": endpoint,
        "region": body.get("awsRegion") or "us-east-1",
    }
    payload = {
        "bucket": seal(state.settings, orjson.dumps(secret).decode()),
        "session": caller.session.id,
        "folder": folder,
    }
    async with state.store.transaction() as tx:
        return await enqueue(tx, IMPORT_BUCKET, caller.tenant.id, payload)


async def _guard_endpoint(state: OriginState, endpoint: str) -> None:
    """The endpoint's host must resolve to addresses the SSRF policy allows."""
    policy = NetPolicy(state.settings.net.allow)
    parsed = policy.check_url(endpoint)
    await policy.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))


async def run_bucket_import(state: OriginState, job: Job) -> dict[str, Any]:
    creds = orjson.loads(open_sealed(state.settings, job.payload["bucket"]))
    session = await state.store.editor.session(job.payload["session"])
    tenant = await state.store.tenants.get(job.tenant_id)
    if session is None or tenant is None:
        raise PermanentJobError("The editor session that asked for the import is gone")
    try:
        await _guard_endpoint(state, creds["awsEndPoint"])
    except NetError as exc:
        raise (RetryableJobError if exc.retryable else PermanentJobError)(str(exc)) from exc
    caller = Caller(session, tenant)
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})
    started: list[str] = []
    try:
        async with get_session().create_client(
            "s3",
            endpoint_url=creds["awsEndPoint"],
            region_name=creds["region"],
            aws_access_key_id=creds["awsAccessKey"],
            aws_secret_access_key=creds["awsSecreteKey"],
            config=config,
        ) as client:
            paginator = client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=creds["awsBucketName"]):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    name = key.rsplit("/", 1)[-1]
                    if media_type(name) is None or len(started) >= MAX_BUCKET_OBJECTS:
                        continue
                    url = await client.generate_presigned_url(
                        "get_object", Params={"Bucket": creds["awsBucketName"], "Key": key}, ExpiresIn=PRESIGN_SECONDS
                    )
                    async with state.store.transaction() as tx:
                        asset = await _start_import(
                            state, caller, tx, url, name, job.payload.get("folder") or ROOT, "import"
                        )
                    started.append(asset.id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise PermanentJobError(f"The bucket refused the import: {code or exc}") from exc
    except BotoCoreError as exc:
        error = RetryableJobError if not started else PermanentJobError  # a retry would import twice
        raise error(f"The bucket could not be listed: {exc}") from exc
    return {"mediaFileIds": started}


register_job(IMPORT_URL, run_import, on_failed=import_failed, backoff=BACKOFF, max_attempts=MAX_ATTEMPTS)
register_job(IMPORT_BUCKET, run_bucket_import, backoff=BACKOFF, max_attempts=MAX_ATTEMPTS)

__all__ = ["adopt_file", "announce_ready", "import_bucket", "import_url", "set_editor_extra"]
