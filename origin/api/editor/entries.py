"""The editor's JSON shapes of catalogue records: ``media_file_entry_object`` (``/api/mediafiles``),
``dev_media_file_entry_object`` (the custom URLs) and folders."""

from __future__ import annotations

from typing import Any

from origin.api.editor.common import media_error
from origin.catalogue.status import Status, shown_as
from origin.editor import frames
from origin.editor.kinds import filetype
from origin.editor.media import editor_extra, signed_url, source_file
from origin.state import OriginState
from origin.store import Asset
from origin.store.editor import Folder

STAGES = ("upload", "import", "convert", "prepare_thumbnails", "render")
FAILED = (Status.FAILED, Status.QUARANTINED)
OUTPUT_SOURCES = ("generated", "render", "output")


def editor_status(asset: Asset) -> str:
    """``upload``, ``import``, ``convert``, ``prepare_thumbnails``, ``render`` or ``ready``."""
    if asset.status in FAILED:
        return "ready"
    stage = editor_extra(asset).get("stage")
    if stage in STAGES:
        return str(stage)
    if asset.status == Status.QUEUED and asset.source in ("url", "import"):
        return "import"
    return str(shown_as("editor", Status(asset.status)))


def entry_type(asset: Asset) -> str:
    """``test``, ``uploaded``, ``url`` or ``output``."""
    if editor_extra(asset).get("test"):
        return "test"
    if asset.source in ("url", "import"):
        return "url"
    if asset.source in OUTPUT_SOURCES:
        return "output"
    return "uploaded"


def error_object(asset: Asset) -> dict[str, Any] | None:
    if asset.status not in FAILED and not asset.error:
        return None
    kind = editor_extra(asset).get("errorType") or (
        "unsupported_media" if asset.status == Status.QUARANTINED else "internal_server_error"
    )
    return media_error(kind, asset.error or "The media file could not be processed")


async def dev_entry(state: OriginState, asset: Asset) -> dict[str, Any]:
    """``dev_media_file_entry_object``."""
    extra = editor_extra(asset)
    record = await source_file(state, asset) if asset.status == Status.READY else None
    return {
        "id": asset.id,
        "previewUrl": await signed_url(state, record, asset.duration) if record else "",
        "name": asset.title or (record.filename if record else asset.id),
        "filetype": filetype(record.filename if record else asset.title, asset.mime),
        "mediaType": asset.kind,
        "duration": frames.ticks(asset.duration) if asset.kind != "image" else 0,
        "size": asset.size or 0,
        "width": asset.width or 0,
        "height": asset.height or 0,
        "thumbnail": extra.get("thumbnail", ""),
        "audioTracks": list(extra.get("audioTracks") or []),
    }


async def media_entry(state: OriginState, asset: Asset) -> dict[str, Any]:
    """``media_file_entry_object``: the custom-URL fields plus type, status, progress and error."""
    entry = await dev_entry(state, asset)
    extra = editor_extra(asset)
    status = editor_status(asset)
    return {
        **entry,
        "type": entry_type(asset),
        "originalUrl": entry["previewUrl"],
        "status": status,
        "progress": 100 if status == "ready" else round(asset.progress or 0),
        "error": error_object(asset),
        "taskId": extra.get("taskId"),
        "categoryId": extra.get("categoryId"),
        "moodId": extra.get("moodId"),
        "createTime": round(asset.created_at * 1000),
    }


def folder_entry(folder: Folder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "name": folder.name,
        "type": "folder",
        "filetype": "folder",
        "mediaType": "folder",
        "duration": 0,
        "size": 0,
        "width": 0,
        "height": 0,
        "thumbnail": "",
        "previewUrl": "",
        "originalUrl": "",
        "audioTracks": [],
        "status": "ready",
        "progress": 100,
        "error": None,
        "taskId": None,
        "categoryId": None,
        "moodId": None,
        "folder": folder.parent_id or "root",  # the parent folder's id
        "createTime": round(folder.created_at * 1000),
    }
