"""The Upload-Metadata header: ``key base64value`` pairs, comma-separated, and what ingest takes from them.

Keys the seed names: ``filename``, ``filetype``, ``userId``, ``destination``, ``requireSignedUrl``; we also
read ``bucket`` (else the seed's ``Bucket`` request header applies) and fall back to ``name`` (Uppy) for
the filename. Values are kept as sent so HEAD can echo the header unchanged.

``mediaedge-asset`` is set by the server alone (an upload made for an asset an API created first, such
as an editor upload session): the file takes that asset's id. Clients may not send it.
"""

from __future__ import annotations

import base64
import binascii

from mediaedge.errors import HTTPError
from origin.ingest import IngestRequest, parse_bool
from origin.store import TusUpload

Metadata = dict[str, str | None]
#: Metadata only the server sets: the id of the catalogue asset the upload is for.
ASSET_KEY = "mediaedge-asset"


def _decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPError(400, "Upload-Metadata values must be base64", "TUS_METADATA_INVALID") from None


def parse_metadata(header: str | None) -> Metadata:
    """Key → base64 value as sent (None for a bare key); 400 on bad base64, empty or repeated keys."""
    metadata: Metadata = {}
    for pair in filter(None, (p.strip() for p in (header or "").split(","))):
        key, *rest = pair.split(" ")
        if not key or len(rest) > 1 or key in metadata:
            raise HTTPError(400, f"Malformed Upload-Metadata pair: {pair!r}", "TUS_METADATA_INVALID")
        if key == ASSET_KEY:
            raise HTTPError(400, f"Upload-Metadata key {ASSET_KEY!r} is reserved", "TUS_METADATA_INVALID")
        value = rest[0] if rest else None
        if value is not None:
            _decode(value)
        metadata[key] = value
    return metadata


def encode_metadata(metadata: Metadata) -> str:
    return ",".join(key if value is None else f"{key} {value}" for key, value in metadata.items())


def metadata_text(metadata: Metadata, key: str) -> str | None:
    """A value decoded as UTF-8 text; None when absent or empty."""
    value = metadata.get(key)
    if not value:
        return None
    return _decode(value).decode(errors="replace") or None


def ingest_request(upload: TusUpload) -> IngestRequest:
    meta = upload.metadata
    return IngestRequest(
        filename=metadata_text(meta, "filename") or metadata_text(meta, "name") or upload.id,
        user_id=metadata_text(meta, "userId"),
        destination=metadata_text(meta, "destination"),
        bucket=upload.bucket,
        require_signed=parse_bool(metadata_text(meta, "requireSignedUrl")),
        declared_type=metadata_text(meta, "filetype"),
        source="tus",
        ingest_key=f"tus:{upload.id}",
        asset_id=metadata_text(meta, ASSET_KEY),
    )
