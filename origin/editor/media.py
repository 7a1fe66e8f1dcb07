"""The catalogue as the editor's media files and folders.

Every asset of the tenant is a media file of the editor, whatever API created it (same ids): the
media tab, ``/api/mediafiles`` and the custom URLs list them. Folders are the catalogue's folders:
an asset's ``folder`` is a path (``root/Projects/Cuts``; ``""`` or ``root`` at the top), the one
the uploads API takes; the ``folders`` table gives each folder of a path an id, a name and a parent
(renaming or moving one moves the paths of everything in it). Paths another API made show up as
folders the next time the editor lists folders.

The editor's own facts about an asset live in ``asset.extra["editor"]``: ``stage`` (``upload``,
``import``, ``prepare_thumbnails`` while one runs), ``thumbs`` (the prepared timeline strip: step in
seconds and count), ``audioTracks``, ``errorType``, ``taskId``, ``categoryId``, ``moodId``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from mediaedge.tokens import sign_token
from origin.catalogue.folders import ROOT, ensure_folders
from origin.catalogue.status import Status
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import Asset, Conn, FileRecord, Tenant, UniqueViolation
from origin.store.editor import Folder

SortField = Literal["name", "createTime", "size", "duration"]
SORT_COLUMNS: dict[str, str] = {"name": "title", "createTime": "created_at", "size": "size", "duration": "duration"}
KINDS = ("video", "audio", "image")
FILTERS = (*KINDS, "folder", "voiceover")
#: An asset at the top has no folder (``""``) or, made through the uploads API, ``root``.
ROOT_VALUES = ("", ROOT)


@dataclass(frozen=True)
class Listing:
    folders: list[Folder]
    assets: list[Asset]
    total: int


def editor_extra(asset: Asset) -> dict[str, Any]:
    extra = asset.extra.get("editor") if isinstance(asset.extra, dict) else None
    return extra if isinstance(extra, dict) else {}


async def set_editor_extra(state: OriginState, asset: Asset, conn: Conn | None = None, **changes: Any) -> Asset:
    """Merge ``changes`` into the asset's editor facts (``None`` removes a fact); on ``conn`` if given."""
    fresh = await state.store.assets.get(asset.tenant_id, asset.id, conn) or asset
    merged = {**editor_extra(fresh), **changes}
    merged = {k: v for k, v in merged.items() if v is not None}
    updated = await state.store.assets.update(asset.tenant_id, asset.id, conn, extra={**fresh.extra, "editor": merged})
    return updated or fresh


def not_found() -> HTTPError:
    return HTTPError(404, "Media file not found", "not_found")


async def get_asset(state: OriginState, tenant: Tenant, asset_id: str) -> Asset:
    asset = await state.store.assets.get(tenant.id, asset_id)
    if asset is None or asset.status == Status.DELETED:
        raise not_found()
    return asset


async def folder_id(state: OriginState, tenant: Tenant, value: str | None) -> str | None:
    """A folder parameter as a folder id (``None``, ``""`` and ``root``: the top); 404 if unknown."""
    if value in (None, "", ROOT):
        return None
    if await state.store.editor.folder(tenant.id, value) is None:
        raise HTTPError(404, "Folder not found", "not_found")
    return value


async def folder_path(state: OriginState, tenant: Tenant, folder: str | None) -> str:
    """The catalogue path of a folder id (``root/Projects/Cuts``; ``root`` for the top)."""
    names: list[str] = []
    while folder is not None:
        found = await state.store.editor.folder(tenant.id, folder)
        if found is None:
            raise HTTPError(404, "Folder not found", "not_found")
        names.append(found.name)
        folder = found.parent_id
    return "/".join([ROOT, *reversed(names)])


async def path_of(state: OriginState, tenant: Tenant, value: str | None) -> str:
    """A folder parameter (id, ``root`` or nothing) as a catalogue path."""
    return await folder_path(state, tenant, await folder_id(state, tenant, value))


def in_folder(path: str) -> str | list[str]:
    """What an asset's ``folder`` holds when it lies in ``path``: the top is ``""`` or ``root``."""
    return list(ROOT_VALUES) if path == ROOT else path


async def materialise_folders(state: OriginState, tenant: Tenant) -> None:
    """Folders that other APIs put assets in (``root/a/b`` paths) become folders of the editor."""
    for path in await state.store.editor.asset_folders(tenant.id, ROOT + "/"):
        await ensure_folders(state, tenant, path)


async def listing(
    state: OriginState,
    tenant: Tenant,
    *,
    filters: list[str],
    folder: str | None,
    search: str | None,
    sort: str,
    descending: bool,
    start: int,
    count: int,
    all_folders: bool = False,
) -> Listing:
    """One page of a folder's entries: its subfolders first (by name), then its media files.

    ``filters`` (empty: everything) selects media types and ``folder`` (subfolders); ``all_folders``
    lists files of every folder (the custom media tab URL, which has no folders).
    """
    wanted = set(filters) or set(FILTERS)
    kinds = [k for k in KINDS if k in wanted]
    if "folder" in wanted and not all_folders:
        await materialise_folders(state, tenant)
    path = await folder_path(state, tenant, folder)
    subfolders = (
        await state.store.editor.subfolders(tenant.id, folder, search=search, descending=descending and sort == "name")
        if "folder" in wanted and not all_folders
        else []
    )
    shown_folders = subfolders[start : start + count]
    file_start = max(start - len(subfolders), 0)
    file_count = count - len(shown_folders)
    assets: list[Asset] = []
    total_files = 0
    if kinds or "voiceover" in wanted:
        assets, total_files = await state.store.assets.page(
            tenant.id,
            kinds=kinds or ["audio"],
            search=search,
            folder=None if all_folders else in_folder(path),
            sort=SORT_COLUMNS[sort],
            descending=descending,
            limit=max(file_count, 1),
            offset=file_start,
        )
        if not kinds:  # voiceover alone: the audio recorded in the editor
            assets = [a for a in assets if a.source == "voiceover"]
        assets = assets[:file_count]
    return Listing(shown_folders, assets, len(subfolders) + total_files)


async def source_file(state: OriginState, asset: Asset) -> FileRecord | None:
    file_id = asset.file_id or asset.id
    record = await state.store.files.get(file_id)
    return record if record is not None and record.status == "ready" else None


async def signed_url(state: OriginState, record: FileRecord, duration: float | None) -> str:
    """A signed edge URL of the file (``{EDGE}/{token}/{key}``), valid the default token lifetime or
    twice the media's duration, whichever is longer."""
    lifetime = parse_duration(state.settings.tokens.default_expires_in)
    if duration:
        lifetime = max(lifetime, int(duration * 2 + 0.999))
    lifetime = min(lifetime, parse_duration(state.settings.tokens.max_expires_in))
    key = await state.keys.active()
    now = int(time.time())
    token = sign_token(
        key, tenant_id=record.tenant_id, path=record.key, expires_at=now + lifetime, file_id=record.id, now=now
    )
    await state.store.signing_keys.note_expiry(key.kid, now + lifetime)
    return f"{state.settings.edge.url}/{token}/{record.key}"


async def delete_asset(state: OriginState, tenant: Tenant, asset: Asset) -> None:
    """Delete the media file: its stored bytes, prepared thumbnails and file record; the asset is
    marked ``deleted`` (every API sees it gone)."""
    from origin.editor.thumbnails import drop_prepared

    record = await state.store.files.get(asset.file_id or asset.id)
    await drop_prepared(state, asset)
    if record is not None:
        bucket = await state.store.buckets.get(tenant.id, record.bucket)
        if bucket is not None:
            await state.backend(bucket).delete(record.key)
        await state.store.files.delete(record.id)  # marks the asset deleted too
        await purge_edges(state, [record.key])
    await state.store.assets.advance(asset.id, Status.DELETED)  # an asset whose bytes never arrived


# -- folders --------------------------------------------------------------------------------------


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or "/" in value or len(value) > 255:
        raise HTTPError(400, "name must be a folder name (no '/', at most 255 characters)", "editor.folder.invalid")
    return value.strip()


async def create_folder(state: OriginState, tenant: Tenant, name: Any, parent: str | None) -> Folder:
    """A new folder, or the one of that name already there (one path, one folder)."""
    parent_id, clean = await folder_id(state, tenant, parent), _name(name)
    return await state.store.editor.ensure_folder(tenant.id, clean, parent_id)


async def _replace(state: OriginState, tenant: Tenant, folder: str, **fields: Any) -> None:
    """Change a folder's name or parent; the assets in it and below it follow it."""
    old = await folder_path(state, tenant, folder)
    try:
        async with state.store.transaction() as tx:
            await state.store.editor.update_folder(tenant.id, folder, tx, **fields)
    except UniqueViolation:
        raise HTTPError(409, "A folder of that name is already there", "editor.folder.exists") from None
    new = await folder_path(state, tenant, folder)
    if new != old:
        async with state.store.transaction() as tx:
            await state.store.editor.repath_assets(tenant.id, old, new, tx)


async def rename_folder(state: OriginState, tenant: Tenant, folder: str, name: Any) -> None:
    if await state.store.editor.folder(tenant.id, folder) is None:
        raise HTTPError(404, "Folder not found", "not_found")
    await _replace(state, tenant, folder, name=_name(name))


async def delete_folder(state: OriginState, tenant: Tenant, folder: str, *, force: bool) -> None:
    """Delete a folder with everything in it; without ``force`` only an empty one (409 otherwise)."""
    if await state.store.editor.folder(tenant.id, folder) is None:
        raise HTTPError(404, "Folder not found", "not_found")
    tree = await state.store.editor.descendants(tenant.id, folder)
    contents = await state.store.editor.assets_in_tree(tenant.id, await folder_path(state, tenant, folder))
    if not force and (contents or len(tree) > 1):
        raise HTTPError(409, "The folder is not empty (delete with force=1)", "not_empty")
    for asset in contents:
        await delete_asset(state, tenant, asset)
    await state.store.editor.delete_folder(tenant.id, folder)


async def move_entries(
    state: OriginState, tenant: Tenant, target: str | None, files: list[str], moved_folders: list[str]
) -> None:
    """Move files and folders into ``target`` (``None``: the top). A folder cannot go into itself or
    under its own subfolders (400)."""
    target = await folder_id(state, tenant, target)
    assets = [await get_asset(state, tenant, file_id) for file_id in files]
    for moved in moved_folders:
        if await state.store.editor.folder(tenant.id, moved) is None:
            raise HTTPError(404, f"Folder not found: {moved}", "not_found")
        if target is not None and target in await state.store.editor.descendants(tenant.id, moved):
            raise HTTPError(400, "A folder cannot be moved into itself or its subfolders", "editor.folder.invalid")
    for moved in moved_folders:
        await _replace(state, tenant, moved, parent_id=target)
    path = await folder_path(state, tenant, target)
    async with state.store.transaction() as tx:
        for asset in assets:
            await state.store.assets.update(tenant.id, asset.id, conn=tx, folder=path)
