"""Edges fetch a local provider's outputs like files: ``{key}.stream/…`` under the source's key.

The objects have no file records; their policy is the stream's: the source file's id (so public
URLs ``{EDGE}/{fileId}/{key}.stream/master.m3u8`` work), the stream's id as the asset id (prefix
tokens for the directory are bound to it), and signed access when the stream was created with
``required_signed_url``. Segments never change once written (immutable caching);
manifests are short-lived so a re-made stream shows up promptly.
"""

from __future__ import annotations

import re

from origin.served import Served, derived_object
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


async def stream_object(state: OriginState, key: str) -> Served | None:
    """Backend, size and policy headers of ``key`` when it is an output of a stream that is ready or is
    publishing its renditions as they are made (only finished ones are stored); else ``None``."""
    stream = await stream_of_key(state, key)
    if stream is None or stream.status not in SERVED or not stream.bucket or not stream.source_file_id:
        return None
    scope = "private" if stream.require_signed else "public"
    manifest = key.endswith(MANIFEST_SUFFIXES)
    cache = f"{scope}, max-age={MANIFEST_MAX_AGE}" if manifest else f"{scope}, max-age={SEGMENT_MAX_AGE}, immutable"
    return await derived_object(
        state,
        key,
        tenant_id=stream.tenant_id,
        bucket=stream.bucket,
        file_id=stream.source_file_id,
        asset_id=stream.id,
        signed=stream.require_signed,
        cache_control=cache,
    )
