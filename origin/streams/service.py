"""Creating, finding and deleting a tenant's streams (the logic behind ``/streams/v1``).

A batch is validated whole before anything is written; then, in one transaction, each new source
gets a ``pending`` stream and its ``stream.process`` job. Duplicates — within the batch, or a
stream the tenant already has for the same source and provider — are not created again: ready
ones are returned in ``existing``, failed ones are restarted, in-flight ones are left alone.
A source is identified by its file id when the URL is one of the tenant's files, else by its URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mediaedge.errors import HTTPError
from mediaedge.qualities import QualitiesConfig, QualitiesError, default_qualities_for, parse_qualities
from mediaedge.streams import ProviderRejected, ProviderUnavailable, StreamProvider, StreamSource
from origin.jobs import enqueue
from origin.lookup import file_from_url
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import FileRecord, IntegrityError, Tenant
from origin.store.db import Conn
from origin.store.streams import NewStream, StreamRecord
from origin.streams.jobs import STREAM_JOB
from origin.streams.sources import get_provider, stream_context, stream_source

MAX_BATCH = 100
OUTPUT_SUFFIX = ".stream/"


@dataclass(frozen=True)
class _Request:
    new: NewStream
    provider: StreamProvider

    @property
    def identity(self) -> tuple[str, str]:
        return self.new.provider, self.new.source_ref


async def create_streams(state: OriginState, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /streams/v1/create``: the seed's ``{created, count, ids, existing}``."""
    items = body.get("streams")
    if not isinstance(items, list) or not items:
        raise HTTPError(400, "streams must be a non-empty array")
    if len(items) > MAX_BATCH:
        raise HTTPError(400, f"streams: at most {MAX_BATCH} per request")
    requests = [await _parse(state, tenant, item, f"streams[{i}]") for i, item in enumerate(items)]
    unique: dict[tuple[str, str], _Request] = {}
    for request in requests:
        unique.setdefault(request.identity, request)  # the first request for a source wins
    ids: list[str] = []
    existing: list[StreamRecord] = []
    try:
        async with state.store.transaction() as tx:
            known = await _known(state, tx, tenant.id, list(unique.values()))
            for request in unique.values():
                found = known.get(request.identity)
                if found is None:
                    ids.append(await _start(state, tx, request.new))
                elif found.status == "failed":
                    await state.store.streams.restart(tx, found.id, request.new)
                    ids.append(await _queue(state, tx, found.id, tenant.id))
                elif found.status == "ready":
                    existing.append(found)
    except IntegrityError:
        raise HTTPError(409, "A stream for one of these sources is being created right now; retry") from None
    return {"created": bool(ids), "count": len(ids), "ids": ids, "existing": [existing_dict(s) for s in existing]}


async def start_file_stream(
    state: OriginState, tx: Conn, tenant: Tenant, file: FileRecord, *, provider: str | None = None
) -> str:
    """Queue the stream of one of the tenant's stored files on ``tx`` (the default ladder, fitted to
    the file's size; the file's own access policy); the stream's id. For services that start the
    pipeline themselves: :func:`file_stream` + :func:`queue_stream` with the defaults."""
    remote = get_provider(state, provider or state.settings.streams.default_provider).remote
    short_side = min(file.width, file.height) if file.width and file.height else None
    new = await file_stream(
        state,
        tenant,
        file,
        name=file.filename,
        qualities=None if remote else default_qualities_for(short_side),
        signed=file.require_signed,
        provider_name=provider,
    )
    return await queue_stream(state, tx, new)


async def _known(
    state: OriginState, tx: Conn, tenant_id: str, requests: list[_Request]
) -> dict[tuple[str, str], StreamRecord]:
    """The tenant's streams already made from these sources, by (provider, source)."""
    found: dict[tuple[str, str], StreamRecord] = {}
    for provider in {r.new.provider for r in requests}:
        refs = [r.new.source_ref for r in requests if r.new.provider == provider]
        for stream in await state.store.streams.by_source(tx, tenant_id, provider, refs):
            found[(stream.provider, stream.source_ref)] = stream
    return found


async def file_stream(
    state: OriginState,
    tenant: Tenant,
    file: FileRecord,
    *,
    name: str,
    qualities: QualitiesConfig | None,
    signed: bool,
    meta: dict[str, Any] | None = None,
    provider_name: str | None = None,
) -> NewStream:
    """A stream of one of the tenant's stored files, checked by its provider (the default one unless
    named); queue it with :func:`queue_stream`. 400/503 when the provider cannot make it."""
    name_of_provider = provider_name or state.settings.streams.default_provider
    try:
        provider = get_provider(state, name_of_provider)
    except ValueError as exc:
        raise HTTPError(503, str(exc), "STREAM_PROVIDER_UNAVAILABLE") from None
    bucket = await state.store.buckets.get(tenant.id, file.bucket)
    if bucket is None:
        raise HTTPError(404, f"Bucket not found: {file.bucket}", "BUCKET_NOT_FOUND")
    url = state.access_url(file)
    prefix = None if provider.remote else f"{file.key}{OUTPUT_SUFFIX}"
    meta = {"name": name, **(meta or {})}
    source = StreamSource(
        "", url, name, meta, signed, key=file.key, storage=state.backend(bucket), output_prefix=prefix
    )
    try:
        provider.check_source(source)
    except ProviderRejected as exc:
        raise HTTPError(400, str(exc), "STREAM_SOURCE_REJECTED") from None
    except ProviderUnavailable as exc:
        raise HTTPError(503, str(exc), "STREAM_PROVIDER_UNAVAILABLE") from None
    return NewStream(
        tenant_id=tenant.id,
        provider=name_of_provider,
        url=url,
        source_ref=file.id,
        meta=meta,
        require_signed=signed,
        qualities=qualities.to_list() if qualities else None,
        source_file_id=file.id,
        bucket=bucket.name,
        output_prefix=prefix,
    )


async def queue_stream(state: OriginState, tx: Conn, new: NewStream) -> str:
    """Insert ``new`` (``pending``) and queue its ``stream.process`` job on the caller's transaction."""
    return await _start(state, tx, new)


async def _start(state: OriginState, tx: Conn, new: NewStream) -> str:
    stream_id = await state.store.streams.insert(tx, new)
    return await _queue(state, tx, stream_id, new.tenant_id)


async def _queue(state: OriginState, tx: Conn, stream_id: str, tenant_id: str) -> str:
    job_id = await enqueue(tx, STREAM_JOB, tenant_id, {"stream_id": stream_id})
    await state.store.streams.update(tx, stream_id, job_id=job_id)
    return stream_id


async def _parse(state: OriginState, tenant: Tenant, item: Any, path: str) -> _Request:
    """One validated stream request; errors name the field (``streams[2].meta.name is required``)."""
    url, meta, signed = _fields(item, path)
    name = item.get("provider") or state.settings.streams.default_provider
    try:
        provider = get_provider(state, name)
    except ValueError as exc:
        raise HTTPError(400, f"{path}.provider: {exc}", "STREAM_PROVIDER_UNAVAILABLE") from None
    qualities = _qualities(provider, item.get("qualities"), path)
    file = None
    try:
        file = await file_from_url(state, tenant, url)
    except HTTPError as exc:
        if not provider.remote:  # a local provider needs the bytes: the URL must be one of the tenant's files
            raise HTTPError(exc.status, f"{path}.url: {exc.message}", exc.code) from None
    if file is not None and qualities is not None and file.width and file.height:
        if qualities.video and not qualities.fitting(min(file.width, file.height)).video:
            raise HTTPError(
                400,
                f"{path}.qualities: every video quality is above the source resolution ({file.width}x{file.height})",
                "QUALITIES_INVALID",
            )
    bucket = await state.store.buckets.get(tenant.id, file.bucket) if file else None
    prefix = f"{file.key}{OUTPUT_SUFFIX}" if file and not provider.remote else None
    source = StreamSource(
        "",
        url,
        meta["name"],
        meta,
        signed,
        key=file.key if file else None,
        storage=state.backend(bucket) if bucket else None,
        output_prefix=prefix,
    )
    try:
        provider.check_source(source)
    except ProviderRejected as exc:
        raise HTTPError(400, f"{path}.url: {exc}") from None
    except ProviderUnavailable as exc:
        raise HTTPError(503, f"{path}.provider: {exc}", "STREAM_PROVIDER_UNAVAILABLE") from None
    new = NewStream(
        tenant_id=tenant.id,
        provider=name,
        url=url,
        source_ref=file.id if file else url,
        meta=meta,
        require_signed=signed,
        qualities=qualities.to_list() if qualities else None,
        source_file_id=file.id if file else None,
        bucket=bucket.name if bucket else None,
        output_prefix=prefix,
    )
    return _Request(new, provider)


def _fields(item: Any, path: str) -> tuple[str, dict[str, Any], bool]:
    """The seed's fields of one stream: ``url``, ``meta`` (with ``name``), ``required_signed_url``."""
    if not isinstance(item, dict):
        raise HTTPError(400, f"{path} must be an object")
    url = item.get("url")
    if not isinstance(url, str) or not url.strip():
        raise HTTPError(400, f"{path}.url is required")
    url = url.strip()
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise HTTPError(400, f"{path}.url must be an http(s) URL")
    meta = item.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"].strip():
        raise HTTPError(400, f"{path}.meta.name is required")
    signed = item.get("required_signed_url", False)
    if not isinstance(signed, bool):
        raise HTTPError(400, f"{path}.required_signed_url must be a boolean")
    return url, meta, signed


def _qualities(provider: StreamProvider, raw: Any, path: str) -> QualitiesConfig | None:
    if raw is None:
        return None
    if not provider.accepts_qualities:
        raise HTTPError(400, f"{path}.qualities: the {provider.name} provider encodes its own ladder")
    try:
        return parse_qualities(raw)
    except QualitiesError as exc:
        raise HTTPError(400, f"{path}.{exc}", "QUALITIES_INVALID") from None


async def tenant_stream(state: OriginState, tenant: Tenant, stream_id: str) -> StreamRecord:
    stream = await state.store.streams.get(stream_id)
    if stream is None or stream.tenant_id != tenant.id:
        raise HTTPError(404, "Stream not found", "STREAM_NOT_FOUND")
    return stream


async def delete_stream(state: OriginState, tenant: Tenant, stream_id: str) -> None:
    """Remove the stream's outputs (at the provider, or in the bucket) and then the stream."""
    stream = await tenant_stream(state, tenant, stream_id)
    try:
        provider = get_provider(state, stream.provider)
    except ValueError as exc:
        raise HTTPError(503, f"Cannot delete the stream's outputs: {exc}", "STREAM_PROVIDER_UNAVAILABLE") from None
    if stream.uid or not provider.remote:
        source = await stream_source(state, stream)
        ctx = stream_context(state, stream, Path(state.settings.streams.work_dir), _no_report)
        try:
            await provider.delete(stream.uid or stream.id, source, ctx)
        except ProviderUnavailable as exc:
            raise HTTPError(502, f"The stream provider failed; retry: {exc}", "STREAM_PROVIDER_FAILED") from None
        except ProviderRejected:
            pass  # already gone at the provider
    async with state.store.transaction() as tx:
        await state.store.streams.delete(tx, stream.id)
    if stream.output_prefix:
        await purge_edges(state, [], [stream.output_prefix])


async def _no_report(status: str, progress: float | None) -> None:
    """Deleting reports nothing."""


def stream_dict(stream: StreamRecord) -> dict[str, Any]:
    """A stream as ``GET /streams/v1/{id}`` shows it."""
    return {
        "id": stream.id,
        "url": stream.url,
        "provider": stream.provider,
        "uid": stream.uid,
        "status": stream.status,
        "progress": stream.progress,
        "meta": stream.meta,
        "required_signed_url": stream.require_signed,
        "hls_url": stream.hls_url,
        "dash_url": stream.dash_url,
        "thumbnail": stream.thumbnail,
        "duration": stream.duration,
        "qualities": stream.qualities,
        "outputs": stream.outputs,
        "error": stream.error,
        "created_at": stream.created_at,
        "updated_at": stream.updated_at,
    }


def existing_dict(stream: StreamRecord) -> dict[str, Any]:
    """A ready duplicate, as the seed's ``existing`` array lists it."""
    return {
        "id": stream.id,
        "url": stream.url,
        "status": stream.status,
        "uid": stream.uid,
        "hls_url": stream.hls_url,
        "dash_url": stream.dash_url,
        "thumbnail": stream.thumbnail,
    }
