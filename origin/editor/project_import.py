"""Project import: a zip of media files and a project file becomes a project and its media files.

``POST /api/upload/project {size, name, fps, createFolder}`` opens an import session whose ``id``
is the new project's id; the zip arrives in ``PUT`` chunks with ``Content-Range`` like media uploads
(a resumable upload of :mod:`origin.tus`, answered 206 with ``Range`` until the last byte, then 200).
The finished zip is kept in the tenant's bucket (an internal key, not a media file) and the
``editor.import_project`` job takes it through the stages ``unpack`` → ``import_media`` → ``ready``:

- **unpack**: every member is checked before anything is written — no absolute paths, no ``..``, no
  links, at most :data:`MAX_MEMBERS` members, the declared sizes within the user's remaining quota
  and no member compressed more than :data:`MAX_RATIO` to one (zip bombs) — and extraction stops
  at the declared size whatever the member really inflates to.
- **import_media**: each video, audio and image file becomes a media file (in a folder named after
  the project with ``createFolder``), its thumbnails queued like any upload's.
- the project file — mediaedge's project JSON (``{"name", "data", "thumbnail", "media": {ref: file
  name}}``: every ``ref`` in ``data`` is replaced by the new media file's id) or a CMX3600 EDL (read
  at the session's ``fps``; the project's ``data`` holds the events and an ``xtl`` task that renders
  it) — becomes the project (``project_create`` callback).

``GET`` shows the stage, its progress and any error; ``DELETE`` cancels: the upload, the zip, and
what the job made so far are removed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from mediaedge.errors import HTTPError
from origin.catalogue.ids import new_asset_id
from origin.editor import edl
from origin.editor.callbacks import emit_callback
from origin.editor.kinds import media_type
from origin.editor.media import ROOT, create_folder, delete_asset, folder_path
from origin.editor.projects import now_ms
from origin.editor.sessions import Caller, user_id
from origin.editor.uploads import _window, check_room, parse_content_range
from origin.ingest import IngestRequest, ingest_file
from origin.jobs import Job, PermanentJobError, enqueue, register_job
from origin.state import OriginState
from origin.store import Tenant
from origin.store.db import Conn
from origin.store.editor_work import ProjectImport, new_id
from origin.tus import spool
from origin.tus import uploads as tus

IMPORT_PROJECT = "editor.import_project"
MAX_MEMBERS = 1000
MAX_RATIO = 100
#: Members smaller than this may be compressed any amount (a blank PNG deflates very well).
RATIO_FLOOR = 1024 * 1024
PROJECT_SUFFIXES = (".json", ".edl")
CHUNK = 1024 * 1024


def invalid(message: str) -> HTTPError:
    return HTTPError(400, message, "editor.import.invalid")


def _not_found() -> HTTPError:
    return HTTPError(404, "No such import session", "not_found")


def archive_key(record: ProjectImport) -> str:
    return f"{record.tenant_id}/_editor/imports/{record.id}.zip"


async def create_session(state: OriginState, caller: Caller, body: dict[str, Any]) -> ProjectImport:
    size, name, fps = body.get("size"), body.get("name") or "project.zip", body.get("fps")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise invalid("size must be a positive number of bytes")
    if not isinstance(name, str) or len(name) > 255:
        raise invalid("name must be a file name")
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, int | float) or not 1 <= fps <= 120):
        raise invalid("fps must be a frame rate from 1 to 120")
    create_folder = body.get("createFolder", False)
    if not isinstance(create_folder, bool):
        raise invalid("createFolder must be true or false")
    await check_room(state, caller, size)
    upload = await tus.create(state, caller.tenant, length=size, metadata={}, bucket=None, is_partial=True)
    return await state.store.editor_work.create_import(
        id=new_id("prj_"),
        tenant_id=caller.tenant.id,
        user_id=user_id(caller.session),
        session_id=caller.session.id,
        upload_id=upload.id,
        name=name,
        size=size,
        fps=float(fps) if fps is not None else None,
        create_folder=create_folder,
    )


async def get_session(state: OriginState, caller: Caller, import_id: str | None) -> ProjectImport:
    if not import_id:
        raise invalid("id is required")
    record = await state.store.editor_work.project_import(import_id, caller.tenant.id)
    if record is None or record.user_id != user_id(caller.session):
        raise _not_found()
    return record


async def put_chunk(
    state: OriginState, caller: Caller, import_id: str | None, content_range: str | None, chunks: Any
) -> tuple[int, int]:
    """Store one chunk of the zip: ``(bytes held, total)``; the last one queues the import."""
    record = await get_session(state, caller, import_id)
    if record.stage != "upload" or record.upload_id is None:
        if record.stage == "canceled":
            raise _not_found()
        return record.size, record.size
    start, end, total = parse_content_range(content_range)
    if total != record.size:
        raise HTTPError(400, f"Content-Range total must be the session's size ({record.size})", "editor.upload.range")
    async with tus.locked(state, record.upload_id, caller.tenant.id) as (upload, held):
        offset = upload.offset
        if start <= offset <= end and offset < total:
            try:
                upload, _ = await tus.append(
                    state, caller.tenant, upload, held, _window(chunks, offset - start, end + 1 - offset)
                )
            except HTTPError as exc:
                if exc.code not in ("UPLOAD_INTERRUPTED", "CLIENT_DISCONNECTED"):
                    raise
                upload = await state.store.uploads.get(upload.id) or upload
        if upload.offset >= total:
            await _uploaded(state, caller.tenant, record)
            return total, total
    await state.store.editor_work.update_import(record.id, progress=round(100 * upload.offset / total, 1))
    return upload.offset, total


async def _uploaded(state: OriginState, tenant: Tenant, record: ProjectImport) -> None:
    """All bytes are here: keep the zip in the bucket and queue the import."""
    assert record.upload_id is not None
    path = spool.spool_path(state.settings, record.upload_id)
    bucket = await state.store.buckets.get(tenant.id, None)
    if bucket is None:
        raise HTTPError(500, "The tenant has no bucket")
    link = await asyncio.to_thread(spool.ingest_link, path)
    await state.backend(bucket).put_file(archive_key(record), link, "application/zip")
    upload = await state.store.uploads.get(record.upload_id)
    if upload is not None:
        await tus.remove(state, upload)
    async with state.store.transaction() as tx:
        await state.store.editor_work.update_import(
            record.id, tx, stage="unpack", progress=0, upload_id=None, archive_key=archive_key(record)
        )
        await enqueue(tx, IMPORT_PROJECT, tenant.id, {"import_id": record.id})


async def cancel(state: OriginState, caller: Caller, import_id: str | None) -> None:
    record = await get_session(state, caller, import_id)
    if record.stage in ("ready", "canceled"):
        return
    await state.store.editor_work.update_import(record.id, stage="canceled", error="canceled by the user")
    if record.upload_id:
        upload = await state.store.uploads.get(record.upload_id)
        if upload is not None:
            await tus.remove(state, upload)
    await _drop_archive(state, caller.tenant, record)


async def _drop_archive(state: OriginState, tenant: Tenant, record: ProjectImport) -> None:
    bucket = await state.store.buckets.get(tenant.id, None)
    if bucket is not None and record.archive_key:
        await state.backend(bucket).delete(record.archive_key)


def status_object(record: ProjectImport) -> dict[str, Any]:
    body: dict[str, Any] = {"stage": record.stage, "progress": round(record.progress)}
    if record.error:
        body["error"] = record.error
    return body


# -- unpacking ------------------------------------------------------------------------------------


class ImportFailed(PermanentJobError):
    pass


class Canceled(Exception):
    pass


def safe_members(archive: zipfile.ZipFile, room: int) -> list[zipfile.ZipInfo]:
    """The members to extract (files only), refusing zip-slip paths, links and zip bombs."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ImportFailed(f"the zip has more than {MAX_MEMBERS} members")
    files, declared = [], 0
    for info in members:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
            raise ImportFailed(f"unsafe path in the zip: {info.filename!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ImportFailed(f"links are not allowed in the zip: {info.filename!r}")
        if info.is_dir():
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ImportFailed(f"{info.filename!r} inflates more than {MAX_RATIO} times: refused as a zip bomb")
        declared += info.file_size
        if declared > room:
            raise ImportFailed(f"the zip unpacks to more than the {room} bytes the user has left")
        files.append(info)
    return files


def extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Write one member, stopping at its declared size (a lying header cannot fill the disk)."""
    left = info.file_size
    with archive.open(info) as source, target.open("wb") as out:
        while chunk := source.read(min(CHUNK, left + 1)):
            if len(chunk) > left:
                raise ImportFailed(f"{info.filename!r} is larger than its zip header says")
            out.write(chunk)
            left -= len(chunk)


def _unpack(zip_path: Path, into: Path, room: int) -> dict[str, Path]:
    """Unpack to ``into``; each member's zip name → its file (flattened names, made unique)."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise ImportFailed(f"not a zip file: {exc}") from exc
    out: dict[str, Path] = {}
    with archive:
        for n, info in enumerate(safe_members(archive, room)):
            target = into / f"{n:04d}_{PurePosixPath(info.filename).name}"
            try:
                extract(archive, info, target)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                raise ImportFailed(f"{info.filename!r} cannot be unpacked: {exc}") from exc
            out[info.filename.replace("\\", "/")] = target
    return out


# -- the job --------------------------------------------------------------------------------------


async def _step(state: OriginState, record: ProjectImport, **fields: Any) -> None:
    if await state.store.editor_work.update_import(record.id, **fields) is None:
        raise Canceled()


def _project_file(files: dict[str, Path]) -> str:
    found = sorted(name for name in files if name.lower().endswith(PROJECT_SUFFIXES))
    if not found:
        raise ImportFailed("the zip has no project file (.json or .edl)")
    if len(found) > 1:
        raise ImportFailed(f"the zip has several project files: {', '.join(found)}")
    return found[0]


def _find_media(name: str, media: dict[str, str]) -> str | None:
    """The media file id of a name used by the project file: its zip path, file name or stem."""
    if name in media:
        return media[name]
    wanted = PurePosixPath(name.replace("\\", "/"))
    for member, media_id in media.items():
        path = PurePosixPath(member)
        if path.name == wanted.name or path.stem == wanted.name or path.stem == wanted.stem:
            return media_id
    return None


def _replace(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [_replace(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, ids) for k, v in value.items()}
    return value


def project_from_json(raw: bytes, media: dict[str, str]) -> tuple[str | None, Any, str]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ImportFailed(f"the project file is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or "data" not in doc:
        raise ImportFailed("the project JSON must be an object with 'data'")
    refs = doc.get("media") or {}
    if not isinstance(refs, dict):
        raise ImportFailed("the project JSON's 'media' must map references to file names")
    ids: dict[str, str] = {}
    for ref, file_name in refs.items():
        media_id = _find_media(str(file_name), media)
        if media_id is None:
            raise ImportFailed(f"the project refers to {file_name!r}, which is not in the zip")
        ids[str(ref)] = media_id
    name = doc.get("name") if isinstance(doc.get("name"), str) else None
    thumbnail = doc.get("thumbnail") if isinstance(doc.get("thumbnail"), str) else ""
    return name, _replace(doc["data"], ids), thumbnail or ""


def project_from_edl(raw: bytes, fps: float | None, media: dict[str, str]) -> tuple[str | None, Any, str]:
    if fps is None:
        raise ImportFailed("an EDL project needs the session's fps")
    try:
        parsed = edl.parse_edl(raw.decode("utf-8", errors="replace"), fps)
    except edl.EdlError as exc:
        raise ImportFailed(f"the EDL cannot be read: {exc}") from exc
    ids: dict[str, str] = {}
    for event in parsed.events:
        media_id = _find_media(event.media, media)
        if media_id is None:
            raise ImportFailed(f"EDL event {event.number} uses {event.media!r}, which is not in the zip")
        ids[event.media] = media_id
    events = [
        {
            "number": e.number, "mediaFileId": ids[e.media], "video": e.video, "audio": e.audio,
            "sourceIn": round(e.source_in * edl.TICKS), "sourceOut": round(e.source_out * edl.TICKS),
            "recordIn": round(e.record_in * edl.TICKS), "recordOut": round(e.record_out * edl.TICKS),
        }
        for e in parsed.events
    ]  # fmt: skip
    data = {"format": "edl", "fps": fps, "events": events, "xtl": edl.to_xtl(parsed, ids)}
    return parsed.title or None, data, ""


async def _download(state: OriginState, tenant: Tenant, key: str, target: Path) -> None:
    bucket = await state.store.buckets.get(tenant.id, None)
    if bucket is None:
        raise ImportFailed("the tenant has no bucket")
    backend = state.backend(bucket)
    local = backend.local_path(key)
    if local is not None:
        await asyncio.to_thread(shutil.copyfile, local, target)
        return
    with target.open("wb") as out:  # noqa: ASYNC230 - chunks of a bounded download
        async for chunk in backend.open_range(key):
            out.write(chunk)


async def run_import(state: OriginState, job: Job) -> dict[str, Any]:
    record = await state.store.editor_work.project_import(job.payload["import_id"])
    tenant = await state.store.tenants.get(job.tenant_id)
    if record is None or tenant is None or record.stage in ("ready", "canceled"):
        return {"stage": record.stage if record else "gone"}
    scratch = Path(tempfile.mkdtemp(prefix=f"import-{record.id}-", dir=_work_root(state)))
    made: list[str] = []
    try:
        await _step(state, record, stage="unpack", progress=0)
        zip_path = scratch / "project.zip"
        assert record.archive_key is not None
        await _download(state, tenant, record.archive_key, zip_path)
        room = state.settings.editor.user_quota - await state.store.editor.bytes_of_user(tenant.id, record.user_id)
        unpacked = scratch / "files"
        unpacked.mkdir()
        files = await asyncio.to_thread(_unpack, zip_path, unpacked, room)
        project_name = _project_file(files)
        media_names = [n for n in files if n != project_name and media_type(n) is not None]
        await _step(state, record, stage="import_media", progress=0)
        folder = ROOT  # the catalogue's folder path of the media files
        if record.create_folder:
            stem = PurePosixPath(record.name).stem or "project"
            made_folder = await create_folder(state, tenant, stem, None)
            folder = await folder_path(state, tenant, made_folder.id)
        media: dict[str, str] = {}
        for n, name in enumerate(media_names):
            media[name] = await _import_media(state, tenant, record, files[name], name, folder)
            made.append(media[name])
            await _step(state, record, progress=round(100 * (n + 1) / max(len(media_names), 1), 1))
        raw = await asyncio.to_thread(files[project_name].read_bytes)
        if project_name.lower().endswith(".edl"):
            title, data, thumbnail = project_from_edl(raw, record.fps, media)
        else:
            title, data, thumbnail = project_from_json(raw, media)
        await _finish(state, tenant, record, title or PurePosixPath(record.name).stem, data, thumbnail)
        return {"projectId": record.id, "mediaFileIds": made}
    except Canceled:
        await _drop_media(state, tenant, made)
        return {"stage": "canceled"}
    except ImportFailed:
        await _drop_media(state, tenant, made)
        raise
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def _drop_media(state: OriginState, tenant: Tenant, asset_ids: list[str]) -> None:
    """Remove the media files an import made before it was canceled or failed."""
    for asset_id in asset_ids:
        asset = await state.store.assets.get(tenant.id, asset_id)
        if asset is not None:
            await delete_asset(state, tenant, asset)


async def _import_media(
    state: OriginState, tenant: Tenant, record: ProjectImport, path: Path, name: str, folder: str
) -> str:
    from origin.editor.imports import adopt_file

    file_name = PurePosixPath(name).name
    asset = await state.store.assets.create(
        tenant.id,
        kind=media_type(file_name) or "video",
        title=file_name,
        asset_id=new_asset_id(),
        folder=folder,
        user_id=record.user_id,
        source="import",
        dialect="editor",
        extra={"editor": {"stage": "import", "projectImport": record.id}},
    )
    request = IngestRequest(
        filename=file_name, user_id=record.user_id, source="import", ingest_key=f"project:{record.id}:{name}",
        asset_id=asset.id,
    )  # fmt: skip
    try:
        stored = await ingest_file(state, tenant, str(path), request)
    except HTTPError as exc:
        raise ImportFailed(f"{name}: {exc.message}") from exc
    await adopt_file(state, asset, stored, record.session_id)
    return asset.id


async def _finish(
    state: OriginState, tenant: Tenant, record: ProjectImport, name: str, data: Any, thumbnail: str
) -> None:
    session = await state.store.editor.session(record.session_id) if record.session_id else None
    created = now_ms()
    async with state.store.transaction() as tx:
        if await state.store.editor_work.update_import(record.id, tx, stage="ready", progress=100) is None:
            raise Canceled()
        await state.store.editor_work.create_project(
            tenant.id, record.user_id, project_id=record.id, conn=tx, name=name, data=data, thumbnail=thumbnail,
            create_time=created, modif_time=created,
        )  # fmt: skip
        if session is not None:
            await emit_callback(state, tx, session, "project_create", {"projectId": record.id, "thumbnail": thumbnail})
    await _drop_archive(state, tenant, record)


def _work_root(state: OriginState) -> str:
    root = state.settings.data_path / "imports"
    os.makedirs(root, exist_ok=True)
    return str(root)


async def import_failed(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    await state.store.editor_work.update_import(job.payload["import_id"], tx, error=error)


register_job(IMPORT_PROJECT, run_import, on_failed=import_failed, backoff=(5.0,), max_attempts=2)

__all__ = ["cancel", "create_session", "get_session", "put_chunk", "status_object"]
