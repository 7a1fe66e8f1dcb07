"""What a provider works with: the provider itself, the stream's source, and a context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from mediaedge.streams import StreamContext, StreamProvider, StreamSource, provider_classes
from origin.state import OriginState
from origin.store.streams import StreamRecord


def get_provider(state: OriginState, name: str) -> StreamProvider:
    """The provider plugin called ``name``, built from settings; ``ValueError`` says why not."""
    classes = provider_classes(state.pm)
    if name not in classes:
        raise ValueError(f"unknown provider {name!r} (available: {', '.join(sorted(classes)) or 'none'})")
    return classes[name].from_settings(state.settings)


def delivery_url(state: OriginState, file_id: str, key: str) -> str:
    """``{EDGE}/{fileId}/{key}``: public as is; signed streams swap in a prefix token for the file id."""
    return f"{state.settings.edge.url}/{file_id}/{key}"


async def stream_source(state: OriginState, stream: StreamRecord) -> StreamSource:
    file = await state.store.files.get(stream.source_file_id) if stream.source_file_id else None
    bucket = await state.store.buckets.get(stream.tenant_id, stream.bucket) if stream.bucket else None
    return StreamSource(
        stream_id=stream.id,
        url=stream.url,
        name=str(stream.meta.get("name", "")),
        meta=stream.meta,
        require_signed=stream.require_signed,
        key=file.key if file and file.status == "ready" else None,
        storage=state.backend(bucket) if bucket else None,
        output_prefix=stream.output_prefix,
    )


def work_dir(state: OriginState, stream_id: str) -> Path:
    """Scratch space of one stream's jobs (one subdirectory per attempt)."""
    return Path(state.settings.streams.work_dir) / stream_id


def stream_context(
    state: OriginState, stream: StreamRecord, scratch: Path, report: Callable[[str, float | None], Awaitable[None]]
) -> StreamContext:
    return StreamContext(
        http=state.http,
        work_dir=scratch,
        report=report,
        url_for=lambda key: delivery_url(state, stream.source_file_id or "", key),
    )
