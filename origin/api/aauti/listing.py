"""``GET /files``: the tenant's files, newest first, with filters and cursor paging (docs/api.md).

Query: ``limit`` (1–100, default 50), ``cursor`` (the previous page's ``nextCursor``), ``type``
(``video``, ``audio``, ``image`` or ``other``), ``search`` (a substring of the filename, any case) and
``userId``. Only stored (ready) files are listed — every file of the tenant, whichever API uploaded
it. The cursor is opaque (the last file's creation time and id), so pages stay stable while files
are added.
"""

from __future__ import annotations

import base64
import binascii

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.auth import require_tenant
from origin.http import JSON, iso_time
from origin.openapi import describe
from origin.state import OriginState, get_state
from origin.store import FileRecord

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
TYPES = ("video", "audio", "image", "other")


class FileEntry(BaseModel):
    id: str
    key: str
    url: str
    filename: str
    file_type: str
    file_size: int
    duration: float | None
    user_id: str
    requireSignedUrl: bool
    createdAt: str
    updatedAt: str


class FilePage(BaseModel):
    files: list[FileEntry]
    nextCursor: str | None


def _entry(state: OriginState, record: FileRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "key": record.key,
        "url": state.access_url(record),
        "filename": record.filename,
        "file_type": record.mime,
        "file_size": record.size,
        "duration": record.duration,
        "user_id": record.user_id,
        "requireSignedUrl": record.require_signed,
        "createdAt": iso_time(record.created_at),
        "updatedAt": iso_time(record.updated_at),
    }


def encode_cursor(record: FileRecord) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([record.created_at, record.id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        at, file_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(file_id, str) or not isinstance(at, int | float) or isinstance(at, bool):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise HTTPError(400, "cursor must be the nextCursor of a previous page", "CURSOR_INVALID") from None
    return float(at), file_id


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 0 < int(value) <= MAX_LIMIT:
        raise HTTPError(400, f"limit must be a number between 1 and {MAX_LIMIT}", "LIMIT_INVALID")
    return int(value)


@describe(
    query={
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "cursor": {"type": "string"},
        "type": {"type": "string", "enum": list(TYPES)},
        "search": {"type": "string"},
        "userId": {"type": "string"},
    },
    responses={200: FilePage},
)
async def list_files(request: Request) -> JSON:
    """The tenant's stored files, newest first: filters and cursor paging."""
    state = get_state(request)
    tenant = await require_tenant(request)
    params = request.query_params
    limit = _limit(params.get("limit"))
    kind = params.get("type") or None
    if kind is not None and kind not in TYPES:
        raise HTTPError(400, f"type must be one of {', '.join(TYPES)}", "TYPE_INVALID")
    cursor = params.get("cursor")
    records = await state.store.files.page(
        tenant.id,
        limit=limit + 1,
        before=decode_cursor(cursor) if cursor else None,
        mime_prefix=f"{kind}/" if kind in ("video", "audio", "image") else None,
        other_kind=kind == "other",
        search=(params.get("search") or "").strip()[:200] or None,
        user_id=params.get("userId") or None,
    )
    more = len(records) > limit
    records = records[:limit]
    return JSON(
        {
            "files": [_entry(state, r) for r in records],
            "nextCursor": encode_cursor(records[-1]) if more and records else None,
        }
    )


routes = [Route("/files", list_files, methods=["GET"])]
