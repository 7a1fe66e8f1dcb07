"""Media an API makes the asset for first: the asset, then its bytes stored under the asset's id.

:func:`create_media_asset` makes the ``queued`` asset (``mda_`` id); :func:`store_media` moves a spool
file into the tenant's bucket through the common ingest path (atomic: the file is invisible until
stored), so the file takes the asset's id and its facts (MIME type, size, duration, dimensions) land
on the asset. If storing fails the asset turns ``deleted``: nothing half-made stays listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from origin.catalogue.status import Status
from origin.ingest import IngestRequest, ingest_file
from origin.probe import ProbeResult
from origin.state import OriginState
from origin.store import Asset, Conn, FileRecord, Tenant

__all__ = ["NewMedia", "create_media_asset", "store_media"]


@dataclass(frozen=True)
class NewMedia:
    """The catalogue facts of media about to be stored."""

    kind: str  # video | audio | image | other
    filename: str
    dialect: str  # the API that made it
    title: str = ""
    folder: str = ""
    #: Where the object key puts it, under the tenant and user: ``{tenant}/{user}/{destination}/{file}``.
    destination: str = ""
    source: str = "upload"
    user_id: str | None = None
    declared_type: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The caller's probe of the bytes, when it made one (saves the ingest path a second probe).
    probed: ProbeResult | None = None


async def create_media_asset(state: OriginState, tenant: Tenant, new: NewMedia, conn: Conn | None = None) -> Asset:
    """The ``queued`` asset the media will be stored for."""
    return await state.store.assets.create(
        tenant.id,
        kind=new.kind,
        conn=conn,
        title=new.title or new.filename,
        folder=new.folder,
        source=new.source,
        dialect=new.dialect,
        user_id=new.user_id or "",
        extra=new.extra,
        status=Status.QUEUED.value,
    )


async def store_media(state: OriginState, tenant: Tenant, asset: Asset, spool_path: str, new: NewMedia) -> FileRecord:
    """Store ``spool_path`` as ``asset``'s file (same id). Consumes the spool file; on failure the
    asset turns ``deleted`` and the error propagates."""
    try:
        return await ingest_file(
            state,
            tenant,
            spool_path,
            IngestRequest(
                filename=new.filename,
                user_id=new.user_id,
                destination=new.destination,
                declared_type=new.declared_type,
                source="direct" if new.source == "upload" else new.source,
                asset_id=asset.id,
                probed=new.probed,
            ),
        )
    except BaseException:
        await state.store.assets.advance(asset.id, Status.DELETED)
        raise
