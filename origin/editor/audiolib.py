"""The audio library: music and sound files from a JSON list on the server, imported into the
catalogue once and listed by type, category and mood.

The list (``editor.audiolib_json``) is ``{"entries": [{"name", "relativePath", "category", "type",
"mood"?}]}``, ``type`` being ``music`` or ``sound``; each ``relativePath`` is a file under
``editor.audiolib_dir`` (default: the list's directory) — paths that leave it are refused. The
``editor.audiolib`` job imports the files not imported before (by ``relativePath``), recording its
progress (``processedCount`` / ``totalCount``) as it goes; each becomes a ready audio asset of the
tenant, made by the editor with source ``audiolib``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson

from mediaedge.errors import HTTPError
from origin.catalogue.ids import new_asset_id
from origin.catalogue.status import Status
from origin.editor.kinds import media_type
from origin.ingest import IngestRequest, ingest_file
from origin.jobs import Job, PermanentJobError, enqueue, register_job
from origin.state import OriginState
from origin.store import Asset, Tenant
from origin.store.db import Conn
from origin.store.editor import AudiolibGroup, AudiolibImport

AUDIOLIB = "editor.audiolib"
TYPES = ("music", "sound")


def _paths(state: OriginState) -> tuple[Path, Path]:
    listing = Path(state.settings.editor.audiolib_json)
    return listing, Path(state.settings.editor.audiolib_dir or listing.parent)


def read_list(listing: Path) -> list[dict[str, Any]]:
    """The list's entries; :class:`ValueError` if it is not the documented shape."""
    doc = orjson.loads(listing.read_bytes())
    entries = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the list has no 'entries' array")
    good = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("relativePath"), str):
            raise ValueError(f"entry {n} has no relativePath")
        if entry.get("type", "music") not in TYPES:
            raise ValueError(f"entry {n}: type must be music or sound")
        good.append(entry)
    return good


def inside(root: Path, relative: str) -> Path:
    """``root / relative`` if it stays under ``root`` (no ``..``, absolute paths or symlinks out)."""
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"{relative!r} is outside the audio library directory")
    return path


async def start_import(state: OriginState, tenant: Tenant) -> None:
    """Queue the import (one at a time per tenant; asking while one runs changes nothing)."""
    listing, _ = _paths(state)
    if not await asyncio.to_thread(listing.is_file):
        raise HTTPError(500, f"The audio library list is missing: {listing}", "editor.audiolib.unavailable")
    if await state.store.editor.audiolib.start_import(tenant.id):
        async with state.store.transaction() as tx:
            await enqueue(tx, AUDIOLIB, tenant.id, {})


async def import_state(state: OriginState, tenant: Tenant) -> AudiolibImport | None:
    return await state.store.editor.audiolib.import_state(tenant.id)


async def _import_one(state: OriginState, tenant: Tenant, root: Path, entry: dict[str, Any]) -> None:
    library = state.store.editor.audiolib
    relative = entry["relativePath"]
    if await library.has(tenant.id, relative):
        return
    source = await asyncio.to_thread(inside, root, relative)
    name = str(entry.get("name") or source.name)
    if media_type(source.name) != "audio":
        raise ValueError(f"{relative}: not an audio file")
    if not await asyncio.to_thread(source.is_file):
        raise ValueError(f"{relative}: no such file")
    type_ = entry.get("type", "music")
    category = (
        await library.group(tenant.id, "category", type_, str(entry["category"])) if entry.get("category") else None
    )
    mood = await library.group(tenant.id, "mood", type_, str(entry["mood"])) if entry.get("mood") else None
    fd, spool = tempfile.mkstemp(prefix="audiolib-", dir=state.settings.origin.spool_dir)
    os.close(fd)
    await asyncio.to_thread(shutil.copyfile, source, spool)  # ingest consumes its spool file
    asset = await state.store.assets.create(
        tenant.id,
        kind="audio",
        asset_id=new_asset_id(),
        title=name,
        user_id="audiolib",
        source="audiolib",
        dialect="editor",
        extra={"editor": {"categoryId": category, "moodId": mood}},
    )
    request = IngestRequest(filename=source.name, user_id="audiolib", destination="audiolib", source="audiolib",
                            ingest_key=f"audiolib:{tenant.id}:{relative}", asset_id=asset.id)  # fmt: skip
    await ingest_file(state, tenant, spool, request)
    async with state.store.transaction() as tx:
        await state.store.assets.advance(asset.id, Status.READY, conn=tx, progress=100)
        await library.add(tx, asset.id, tenant.id, type=type_, name=name, relative_path=relative,
                          category_id=category, mood_id=mood)  # fmt: skip


async def run_audiolib(state: OriginState, job: Job) -> dict[str, Any]:
    tenant = await state.store.tenants.get(job.tenant_id)
    if tenant is None:
        raise PermanentJobError("The tenant is gone")
    library = state.store.editor.audiolib
    listing, root = _paths(state)
    try:
        entries = await asyncio.to_thread(read_list, listing)
    except (OSError, ValueError) as exc:
        await library.progress(tenant.id, status="failed", error=f"Cannot read the audio library list: {exc}")
        raise PermanentJobError(str(exc)) from exc
    await library.progress(tenant.id, total=len(entries))
    errors: list[str] = []
    os.makedirs(state.settings.origin.spool_dir, exist_ok=True)
    for done, entry in enumerate(entries, start=1):
        try:
            await _import_one(state, tenant, root, entry)
        except (OSError, ValueError, HTTPError) as exc:
            errors.append(f"{entry.get('relativePath')}: {getattr(exc, 'message', None) or exc}")
        await library.progress(tenant.id, processed=done, error="; ".join(errors[-5:]) or None)
    await library.progress(tenant.id, status="done")
    return {"imported": len(entries) - len(errors), "errors": len(errors)}


async def audiolib_failed(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    await state.store.editor.audiolib.progress(job.tenant_id, tx, status="failed", error=error)


def check_type(value: str | None) -> str:
    type_ = value or "music"
    if type_ not in TYPES:
        raise HTTPError(400, "type must be music or sound", "editor.param.invalid")
    return type_


async def listing(state: OriginState, tenant: Tenant, type_: str, **query: Any) -> tuple[list[Asset], int]:
    return await state.store.editor.audiolib.page(tenant.id, type_, **query)


async def groups(state: OriginState, tenant: Tenant, kind: str, type_: str) -> list[AudiolibGroup]:
    return await state.store.editor.audiolib.groups(tenant.id, kind, type_)


register_job(AUDIOLIB, run_audiolib, on_failed=audiolib_failed, max_attempts=1)
