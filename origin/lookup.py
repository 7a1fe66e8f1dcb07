"""Finding a tenant's file from the access URL the seed's API takes (``?file=<access_url>``)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from mediaedge.errors import HTTPError
from mediaedge.keys import InvalidKey, validate_key
from origin.state import OriginState
from origin.store import FileRecord, Tenant


def split_access_url(url: str) -> tuple[str, str]:
    """``https://edge/{fileId|jwt}/{key}`` (or just the path) → ``(first_segment, key)``."""
    path = unquote(urlsplit(url.strip()).path).lstrip("/")
    first, _, key = path.partition("/")
    if not first or not key:
        raise HTTPError(400, "file must be an access URL of the form {EDGE}/{fileId}/{key}", "FILE_URL_INVALID")
    try:
        return first, validate_key(key)
    except InvalidKey as exc:
        raise HTTPError(400, f"Invalid file URL: {exc}", "FILE_URL_INVALID") from None


async def file_from_url(state: OriginState, tenant: Tenant, url: str | None) -> FileRecord:
    """The tenant's ready file behind an access URL; 404 for unknown files or other tenants' files."""
    if not url:
        raise HTTPError(400, "Missing file parameter", "FILE_REQUIRED")
    first, key = split_access_url(url)
    record = await state.store.files.by_key(key)
    if record is None and "/" not in first and "." not in first:
        record = await state.store.files.get(first)
    if record is None or record.tenant_id != tenant.id or record.status != "ready":
        raise HTTPError(404, "File not found", "FILE_NOT_FOUND")
    if not first.startswith("eyJ") and first != record.id:
        raise HTTPError(404, "File not found", "FILE_NOT_FOUND")
    return record
