"""Edges fetch a local provider's outputs like files: ``{key}.stream/…`` under the source's key.

The objects have no file records; their policy is the stream's: the source file's id (so public
URLs ``{EDGE}/{fileId}/{key}.stream/master.m3u8`` work), the stream's id as the asset id (prefix
tokens for the directory are bound to it), and signed access when the stream was created with
``required_signed_url``. Segments never change once written (immutable caching);
manifests are short-lived so a re-made stream shows up promptly.
"""

from __future__ import annotations

import re
from email.utils import formatdate

from mediaedge.storage import ObjectNotFound, StorageBackend
from origin.probe import guess_mime
from origin.state import OriginState
from origin.store.streams import StreamRecord

MANIFEST_SUFFIXES = (".m3u8", ".mpd", ".vtt")
MANIFEST_MAX_AGE = 10
SEGMENT_MAX_AGE = 31536000
_OUTPUT_DIR = re.compile(r"\.stream/")


async def stream_of_key(state: OriginState, key: str) -> StreamRecord | None:
    """The stream whose output directory (``….stream/``) holds ``key`` (any status), or ``None``."""
    for match in _OUTPUT_DIR.finditer(key):
        stream = await state.store.streams.by_output_prefix(key[: match.end()])
        if stream is not None:
            return stream
    return None


#: Statuses whose outputs are served: a stream being made has published the renditions it finished.
SERVED = ("processing", "downloading", "ready")


async def stream_object(state: OriginState, key: str) -> tuple[StorageBackend, int, dict[str, str]] | None:
    """Backend, size and policy headers of ``key`` when it is an output of a stream that is ready or is
    publishing its renditions as they are made (only finished ones are stored); else ``None``."""
    stream = await stream_of_key(state, key)
    if stream is None or stream.status not in SERVED or not stream.bucket or not stream.source_file_id:
        return None
    bucket = await state.store.buckets.get(stream.tenant_id, stream.bucket)
    if bucket is None:
        return None
    backend = state.backend(bucket)
    try:
        info = await backend.stat(key)
    except ObjectNotFound:
        return None
    scope = "private" if stream.require_signed else "public"
    manifest = key.endswith(MANIFEST_SUFFIXES)
    cache = f"{scope}, max-age={MANIFEST_MAX_AGE}" if manifest else f"{scope}, max-age={SEGMENT_MAX_AGE}, immutable"
    return (
        backend,
        info.size,
        {
            "ETag": f'"{info.etag}"',
            "Last-Modified": formatdate(info.last_modified, usegmt=True),
            "Content-Type": guess_mime(key, info.content_type),
            "Cache-Control": cache,
            "Accept-Ranges": "bytes",
            "X-Mediaedge-File-Id": stream.source_file_id,
            "X-Mediaedge-Asset-Id": stream.id,
            "X-Mediaedge-Tenant": stream.tenant_id,
            "X-Mediaedge-Access": "signed" if stream.require_signed else "public",
        },
    )
