"""Presigned uploads of the media API: declare (``upload-url``), upload straight to storage, finalize.

1. :func:`create_upload` validates the declaration (sha256, size, MIME type, kind) and finds or makes
   the tenant's asset for that SHA-256: the intent row (``store.media_uploads``, primary key tenant +
   sha256) is inserted in the transaction that creates the asset, so concurrent declarations of the
   same bytes make one asset. A finalized asset is not uploaded again (no URL); a pending one gets a
   fresh form for the same key. The form is the bucket backend's presigned POST (S3: the policy pins
   the key, ``Content-Type`` and the exact ``content-length-range``) or, for a backend that cannot
   presign (local disk), the origin's own signed form (:mod:`origin.media.policy`).
2. The client posts the file to that form; nothing passes through the origin on S3.
3. :func:`finalize` checks the object exists (and has the ETag given), hashes its bytes against the
   declared sha256 (mismatch: object removed, asset ``failed``), checks the content against the
   declared type (:mod:`origin.media.scan`; quarantine), probes it with ffprobe, registers the file
   under the asset's id, and starts processing (:mod:`origin.media.processing`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import aiofiles

from mediaedge.errors import HTTPError
from mediaedge.keys import build_key, sanitize_filename, sanitize_segment
from mediaedge.settings import parse_duration
from mediaedge.storage import CHUNK_SIZE, ObjectNotFound, StorageBackend, StorageError
from origin.catalogue.assets import file_stored
from origin.catalogue.ids import new_asset_id
from origin.catalogue.status import Status
from origin.ingest import DEFAULT_USER, max_file_size
from origin.media import limits, processing
from origin.media.assets import tenant_asset
from origin.media.limits import Limit
from origin.media.policy import FORM_PATH, UploadPolicy, sign_policy, verify_policy
from origin.media.scan import KINDS, SNIFF_BYTES, judge, kind_of_mime
from origin.probe import ProbeResult, probe
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import Asset, Bucket, FileMeta, MediaUpload, Tenant

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
#: Asset states after finalize: the bytes are in, a second upload of them is pointless.
FINALIZED = {Status.PROCESSING, Status.STORING, Status.READY}


def finalized(asset: Asset) -> bool:
    """Whether the asset's bytes are in (a finalized video waits ``queued`` for a worker, with its file)."""
    return asset.file_id is not None or asset.status in FINALIZED


@dataclass(frozen=True)
class UploadRequest:
    sha256: str
    size: int
    mime: str
    filename: str
    kind: str | None
    user_id: str | None


@dataclass(frozen=True)
class UploadTicket:
    """What ``upload-url`` answers: the asset, and the form to post (``None`` when already uploaded),
    and the rate-limit headers."""

    asset: Asset
    url: str | None
    fields: dict[str, str]
    expires_at: int | None
    headers: dict[str, str]


def parse_upload_request(body: dict[str, Any], user_id: str | None) -> UploadRequest:
    """The declaration, validated: 400 ``validation.*`` naming the field."""
    sha256 = body.get("sha256")
    if not isinstance(sha256, str) or not _SHA256.match(sha256.lower()):
        raise HTTPError(400, "sha256 must be the 64 hex digits of the file's SHA-256", "validation.sha256.invalid")
    size = body.get("sizeBytes")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise HTTPError(400, "sizeBytes must be a positive integer", "validation.size.invalid")
    mime = body.get("mime")
    if not isinstance(mime, str) or not _MIME.match(mime.strip().lower()):
        raise HTTPError(400, "mime must be a MIME type such as video/mp4", "validation.mime.invalid")
    filename = body.get("filename")
    if not isinstance(filename, str) or not filename.strip():
        raise HTTPError(400, "filename is required", "validation.filename.invalid")
    kind = body.get("kind")
    if kind is not None and kind not in KINDS:
        raise HTTPError(400, f"kind must be one of {', '.join(KINDS)}", "validation.kind.invalid")
    return UploadRequest(sha256.lower(), size, mime.strip().lower(), filename.strip(), kind, user_id)


def _check_declaration(state: OriginState, tenant: Tenant, req: UploadRequest) -> str:
    """The asset kind; 415 ``validation.mime.unsupported``, 413 ``validation.size.exceeds_limit``."""
    allowed = state.settings.media.allowed_mimes
    if not any(fnmatch.fnmatchcase(req.mime, pattern) for pattern in allowed):
        raise HTTPError(
            415, f"Unsupported media type {req.mime}; accepted: {', '.join(allowed)}", "validation.mime.unsupported"
        )
    limit = max_file_size(state, tenant)
    if req.size > limit:
        raise HTTPError(
            413, f"sizeBytes {req.size} exceeds the limit of {limit} bytes", "validation.size.exceeds_limit"
        )
    by_mime = kind_of_mime(req.mime)
    if req.kind is not None and req.kind != by_mime and req.kind != "other":
        raise HTTPError(400, f"kind {req.kind} does not match the MIME type {req.mime}", "validation.kind.mismatch")
    return req.kind or by_mime


async def create_upload(state: OriginState, tenant: Tenant, req: UploadRequest, limit: Limit) -> UploadTicket:
    """Find or make the asset of a declaration, counting it against ``limit`` (429 ``rate.limited``).

    Every declaration is counted in the transaction that records its intent (and, when the hash is
    new, makes its asset): one commit per request, and no read before it.
    """
    kind = _check_declaration(state, tenant, req)
    asset: Asset | None = None
    bucket = await state.store.buckets.get(tenant.id, None)
    if bucket is None:
        raise HTTPError(500, "The tenant has no default bucket")
    user = sanitize_segment(req.user_id or "", fallback=DEFAULT_USER)
    asset_id = new_asset_id()
    filename = sanitize_filename(req.filename)
    key = build_key(tenant.id, user, asset_id, filename)
    async with state.store.transaction() as tx:
        headers = await limits.count(state, limit, tx)
        intent = await state.store.media_uploads.insert(
            tx,
            tenant_id=tenant.id,
            sha256=req.sha256,
            asset_id=asset_id,
            bucket=bucket.name,
            key=key,
            size=req.size,
            mime=req.mime,
            filename=filename,
            user_id=user,
        )
        if intent is not None:
            asset = await state.store.assets.create(
                tenant.id,
                kind=kind,
                title=filename,
                asset_id=asset_id,
                conn=tx,
                status=Status.QUEUED.value,
                sha256=req.sha256,
                mime=req.mime,
                size=req.size,
                source="upload",
                dialect="media",
                user_id=user,
                is_public=False,
                extra={"filename": filename},
            )
    if intent is None:  # declared before (or by a concurrent request, committed first)
        intent = await state.store.media_uploads.by_sha256(tenant.id, req.sha256)
        if intent is None:
            raise HTTPError(409, "The earlier declaration of this file was just withdrawn; retry", "upload.conflict")
    if asset is None:
        asset = await tenant_asset(state, tenant, intent.asset_id)
    if intent.size != req.size:
        raise HTTPError(409, f"This sha256 was declared with sizeBytes {intent.size}", "upload.sha256_conflict")
    if finalized(asset):
        return UploadTicket(asset, None, {}, None, headers)
    if asset.status != Status.QUEUED:
        raise HTTPError(409, f"The asset of this sha256 is {asset.status}", "upload.conflict")
    expires_at = int(time.time()) + parse_duration(state.settings.media.upload_url_ttl)
    if bucket.name != intent.bucket:  # declared earlier, when another bucket was the default
        bucket = await _bucket(state, tenant.id, intent.bucket)
    url, fields = await _form(state, tenant, intent, bucket, expires_at)
    return UploadTicket(asset, url, fields, expires_at, headers)


async def _bucket(state: OriginState, tenant_id: str, bucket_name: str) -> Bucket:
    bucket = await state.store.buckets.get(tenant_id, bucket_name)
    if bucket is None:
        raise HTTPError(404, f"Bucket not found: {bucket_name}", "BUCKET_NOT_FOUND")
    return bucket


async def _backend(state: OriginState, tenant_id: str, bucket_name: str) -> StorageBackend:
    return state.backend(await _bucket(state, tenant_id, bucket_name))


async def _form(
    state: OriginState, tenant: Tenant, intent: MediaUpload, bucket: Bucket, expires_at: int
) -> tuple[str, dict[str, str]]:
    asset_id, key, mime, size = intent.asset_id, intent.key, intent.mime, intent.size
    if not key.startswith(f"{tenant.id}/"):  # the per-tenant prefix, enforced where the form is signed
        raise HTTPError(500, "upload key outside the tenant's prefix")
    backend = state.backend(bucket)
    ttl = max(1, expires_at - int(time.time()))
    try:
        post = await backend.presign_post(key, ttl, max_size=size, content_type=mime, min_size=size)
    except StorageError as exc:
        raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
    if post is not None:
        return post.url, post.fields
    policy = UploadPolicy(tenant.id, asset_id, bucket.name, key, mime, size, expires_at)
    token = await sign_policy(state, policy)
    return f"{state.settings.origin.url}{FORM_PATH}", {"key": key, "Content-Type": mime, "policy": token}


# -- the origin's own form (local disk) ------------------------------------------------------------


async def receive_form(state: OriginState, fields: dict[str, str], spool_path: str, size: int) -> str:
    """Store a file posted to the origin's own form, as S3 would; returns the object's ETag.

    The policy must be valid and unexpired, the form's ``key`` and ``Content-Type`` those it pins,
    and the file exactly its size. Consumes ``spool_path``.
    """
    try:
        policy = await verify_policy(state, fields.get("policy", ""))
        if fields.get("key") != policy.key:
            raise HTTPError(403, "The form's key is not the one its policy allows", "upload.policy_violation")
        if (fields.get("Content-Type") or "").lower() != policy.content_type:
            raise HTTPError(403, "The form's Content-Type is not the one its policy allows", "upload.policy_violation")
        if size != policy.size:
            word = "small" if size < policy.size else "large"
            raise HTTPError(
                400,
                f"The file is too {word}: the policy allows exactly {policy.size} bytes",
                f"upload.entity_too_{word}",
            )
        backend = await _backend(state, policy.tenant_id, policy.bucket)
        try:
            info = await backend.put_file(policy.key, spool_path, policy.content_type)
        except StorageError as exc:
            raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
        return info.etag
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(spool_path)


# -- finalize --------------------------------------------------------------------------------------


async def _fetch(backend: StorageBackend, key: str, spool_dir: str) -> tuple[str, str, bool]:
    """A local path holding the object's bytes, their SHA-256, and whether the path is a temp copy."""
    local = backend.local_path(key)
    if local is not None:
        return local, await asyncio.to_thread(_hash_file, local), False
    os.makedirs(spool_dir, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=spool_dir, prefix="finalize-", suffix=".part")
    os.close(fd)
    digest = hashlib.sha256()
    try:
        async with aiofiles.open(path, "wb") as out:
            async for chunk in backend.open_range(key):
                digest.update(chunk)
                await out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path, digest.hexdigest(), True


def _hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _head(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(SNIFF_BYTES)


async def finalize(state: OriginState, tenant: Tenant, asset_id: str, etag: str | None) -> Asset:
    asset = await tenant_asset(state, tenant, asset_id)
    if finalized(asset):
        return asset  # finalizing twice is harmless
    if asset.status != Status.QUEUED:
        raise HTTPError(409, f"The asset is {asset.status}", "upload.conflict")
    intent = await state.store.media_uploads.by_asset(asset.id)
    if intent is None:
        raise HTTPError(409, "The asset was not created by upload-url", "upload.conflict")
    backend = await _backend(state, tenant.id, intent.bucket)
    try:
        info = await backend.stat(intent.key)
    except ObjectNotFound:
        raise HTTPError(409, "Nothing has been uploaded for this asset yet", "upload.missing") from None
    except StorageError as exc:
        raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
    if etag is not None and etag.strip().strip('"') != info.etag:
        raise HTTPError(409, "The uploaded object's ETag is not the one given", "upload.etag_mismatch")
    try:
        path, digest, temporary = await _fetch(backend, intent.key, state.settings.origin.spool_dir)
    except StorageError as exc:
        raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
    try:
        if digest != intent.sha256:
            await backend.delete(intent.key)
            await _fail(state, tenant, asset, "the uploaded bytes do not hash to the declared sha256")
            raise HTTPError(
                422,
                "The uploaded file's SHA-256 is not the declared one; upload it again",
                "validation.sha256.mismatch",
            )
        head = await asyncio.to_thread(_head, path)
        found = await probe(path) if asset.kind in ("video", "audio", "image") else ProbeResult()
        verdict = judge(head, intent.mime, asset.kind, found)
        verdict = await asyncio.to_thread(processing.plugin_verdict, state, path, verdict)  # scanners read files
        if verdict.quarantine is not None:
            await state.store.assets.update(tenant.id, asset.id, error=verdict.quarantine, size=info.size)
            await state.store.assets.advance(asset.id, Status.QUARANTINED)
            await state.store.media_uploads.delete(asset.id)
            raise HTTPError(451, f"The file was quarantined: {verdict.quarantine}", "media.quarantined")
        if verdict.failure is not None:
            await backend.delete(intent.key)
            await _fail(state, tenant, asset, verdict.failure)
            raise HTTPError(415, f"The file is not what was declared: {verdict.failure}", "validation.mime.mismatch")
        meta = FileMeta(
            size=info.size,
            etag=info.etag,
            mime=verdict.mime,
            duration=found.duration,
            width=found.width,
            height=found.height,
            video_codec=found.video_codec,
            audio_codec=found.audio_codec,
        )
        async with state.store.transaction() as tx:
            record, _ = await state.store.files.register(
                tenant.id,
                intent.bucket,
                intent.key,
                intent.filename,
                intent.user_id,
                True,
                meta,
                tx,
                file_id=asset.id,
            )
            await file_stored(state.store, record, tx)  # the file's facts onto the asset
        await purge_edges(state, [intent.key])
        return await processing.start(state, tenant, asset.id, record, path)
    finally:
        if temporary:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


async def _fail(state: OriginState, tenant: Tenant, asset: Asset, reason: str) -> None:
    """The asset failed: its hash may be declared again (a new asset)."""
    await state.store.assets.update(tenant.id, asset.id, error=reason)
    await state.store.assets.advance(asset.id, Status.FAILED)
    await state.store.media_uploads.delete(asset.id)
