"""Catalogue services shared by every API: the asset of a stored file.

An asset and its source file share one id. An API that makes the asset first (a video object, an
upload URL) passes that id to ingest; a file stored with no asset before it (seed-000 uploads,
registered objects) gets one here with the file's own id, ``ready`` at once since it needs no
processing. Either way the file's facts (MIME type, size, duration, dimensions) are copied onto the
asset, in the transaction that makes the file ready.
"""

from __future__ import annotations

from origin.catalogue.status import Status
from origin.store import Asset, Conn, FileRecord, Store

_KINDS = ("video", "audio", "image")


def kind_of(mime: str) -> str:
    """``video``, ``audio``, ``image`` or ``other``, from a MIME type."""
    major = mime.split("/", 1)[0].lower()
    return major if major in _KINDS else "other"


async def file_stored(store: Store, record: FileRecord, conn: Conn) -> Asset:
    """The asset of ``record``, made or brought up to date (see the module doc)."""
    facts = {
        "file_id": record.id,
        "mime": record.mime,
        "size": record.size,
        "duration": record.duration,
        "width": record.width,
        "height": record.height,
    }
    asset = await store.assets.update(record.tenant_id, record.id, conn, **facts)
    if asset is not None:
        return asset
    return await store.assets.create(
        record.tenant_id,
        kind=kind_of(record.mime),
        asset_id=record.id,
        conn=conn,
        title=record.filename,
        status=Status.READY.value,
        user_id=record.user_id,
        source="url" if record.source == "url" else "upload",
        dialect="aauti",
        **facts,
    )
