"""``GET /api/stat`` (the tenant's live counts) and ``GET /api/version``."""

from __future__ import annotations

from datetime import date
from typing import Any

from mediaedge.settings import Settings
from origin.state import OriginState

#: The day this backend API was released: the version's ``YYMM.DD``.
RELEASED = date(2026, 12, 2)
RENDER_JOB = "editor.render"


async def live(state: OriginState, tenant_id: str, at: float) -> dict[str, Any]:
    from origin.editor.imports import IMPORT_URL
    from origin.editor.thumbnails import THUMBNAILS

    editor = state.store.editor
    return {
        "activeUsersCount": await editor.online_count(at, tenant_id),
        "activeBuildThumbsTasksCount": await editor.count_jobs(tenant_id, THUMBNAILS),
        "activeRenderTasksCount": await editor.count_jobs(tenant_id, RENDER_JOB),
        "activeImportFromURLTasksCount": await editor.count_jobs(tenant_id, IMPORT_URL),
        "activeImportFromLocalDriveCount": await editor.count_uploading(tenant_id),
    }


def version(settings: Settings) -> str:
    """``major.minor.YYMM.DD``: ``editor.version`` and the release day (``1.0.2612.02``)."""
    return f"{settings.editor.version}.{RELEASED:%y%m}.{RELEASED:%d}"
