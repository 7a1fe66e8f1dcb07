"""The editor backend's records: developer profiles, user sessions, folders, media-info tasks and
overlay images (see :mod:`origin.editor`)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from origin.catalogue.status import Status
from origin.store.assets import ASSETS
from origin.store.db import Conn, Database, Records, UniqueViolation
from origin.store.models import Asset
from origin.store.schema import (
    assets,
    editor_audiolib,
    editor_audiolib_groups,
    editor_audiolib_imports,
    editor_developers,
    editor_mediainfo,
    editor_overlays,
    editor_sessions,
    folders,
    jobs,
    now,
)


@dataclass(frozen=True)
class Developer:
    tenant_id: str
    api_key_id: str | None
    callback_url: str
    cors_origins: list[str]
    fetch_file_url: str
    media_tab_content_url: str
    fetch_thumbnail_url: str
    output_s3: str | None  # Fernet token
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class EditorSession:
    id: str
    tenant_id: str
    name: str
    data: str
    api_auth_token_hash: str | None
    api_auth_token: str | None  # Fernet token
    online_until: float | None
    last_seen_at: float
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Folder:
    id: str
    tenant_id: str
    parent_id: str | None
    name: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class MediaInfoTask:
    id: str
    tenant_id: str
    source_hash: str
    original_url: str
    preview_url: str | None
    status: str  # running | ready | failed
    info: dict[str, Any] | None
    thumbnails: list[dict[str, Any]] | None
    error: str | None
    created_at: float
    updated_at: float


DEVELOPERS = Records(Developer, editor_developers)
SESSIONS = Records(EditorSession, editor_sessions)
FOLDERS = Records(Folder, folders)
TASKS = Records(MediaInfoTask, editor_mediainfo)


@dataclass(frozen=True)
class AudiolibImport:
    tenant_id: str
    status: str  # running | done | failed
    processed: int
    total: int
    error: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class AudiolibGroup:
    """A category or a mood of the audio library, with how many files it has."""

    id: str
    name: str
    count: int


IMPORTS = Records(AudiolibImport, editor_audiolib_imports)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(18)


class EditorRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.audiolib = AudiolibRepository(db)

    # -- developers ---------------------------------------------------------------------------------

    async def developer(self, tenant_id: str) -> Developer | None:
        statement = DEVELOPERS.select().where(editor_developers.c.tenant_id == tenant_id)
        return DEVELOPERS.first(await self.db.execute(statement))

    async def put_developer(self, tenant_id: str, **fields: Any) -> Developer:
        """Create the tenant's developer profile, or change the given fields of it."""
        at = now()
        async with self.db.transaction() as tx:
            statement = DEVELOPERS.select().where(editor_developers.c.tenant_id == tenant_id).with_for_update()
            if DEVELOPERS.first(await tx.execute(statement)) is None:
                await tx.execute(
                    sa.insert(editor_developers).values(tenant_id=tenant_id, created_at=at, updated_at=at, **fields)
                )
            elif fields:
                await tx.execute(
                    sa.update(editor_developers)
                    .where(editor_developers.c.tenant_id == tenant_id)
                    .values(updated_at=at, **fields)
                )
            found = DEVELOPERS.first(await tx.execute(statement))
        assert found is not None
        return found

    async def cors_origins(self) -> set[str]:
        """Every developer's editor origins."""
        result = await self.db.execute(sa.select(editor_developers.c.cors_origins))
        return {origin for (origins,) in result for origin in origins or ()}

    # -- sessions -----------------------------------------------------------------------------------

    async def create_session(self, tenant_id: str, **fields: Any) -> EditorSession:
        at = now()
        insert = (
            sa.insert(editor_sessions)
            .values(id=new_id("es_"), tenant_id=tenant_id, last_seen_at=at, created_at=at, updated_at=at, **fields)
            .returning(*SESSIONS.columns)
        )
        found = SESSIONS.first(await self.db.execute(insert))
        assert found is not None
        return found

    async def session(self, session_id: str) -> EditorSession | None:
        return SESSIONS.first(await self.db.execute(SESSIONS.select().where(editor_sessions.c.id == session_id)))

    async def session_by_token(self, token_hash: str) -> EditorSession | None:
        statement = (
            SESSIONS.select()
            .where(editor_sessions.c.api_auth_token_hash == token_hash)
            .order_by(editor_sessions.c.last_seen_at.desc())
            .limit(1)
        )
        return SESSIONS.first(await self.db.execute(statement))

    async def update_session(self, session_id: str, **fields: Any) -> EditorSession | None:
        update = (
            sa.update(editor_sessions)
            .where(editor_sessions.c.id == session_id)
            .values(updated_at=now(), **fields)
            .returning(*SESSIONS.columns)
        )
        return SESSIONS.first(await self.db.execute(update))

    async def seen(self, session_id: str, online_until: float | None) -> None:
        """The session was seen now; online until ``online_until`` (``None``: its socket closed)."""
        at = now()
        await self.db.execute(
            sa.update(editor_sessions)
            .where(editor_sessions.c.id == session_id)
            .values(last_seen_at=at, online_until=online_until)
        )

    async def online_count(self, at: float, tenant_id: str | None = None) -> int:
        where = [editor_sessions.c.online_until > at]
        if tenant_id is not None:
            where.append(editor_sessions.c.tenant_id == tenant_id)
        statement = sa.select(sa.func.count()).select_from(editor_sessions).where(*where)
        return int((await self.db.execute(statement)).scalar_one())

    async def expire_sessions(self, seen_before: float, at: float) -> list[str]:
        """Delete sessions last seen before ``seen_before`` with no live socket at ``at``; their ids."""
        c = editor_sessions.c
        stale = sa.and_(c.last_seen_at < seen_before, sa.or_(c.online_until.is_(None), c.online_until <= at))
        result = await self.db.execute(sa.delete(editor_sessions).where(stale).returning(c.id))
        return [row[0] for row in result]

    # -- overlays -----------------------------------------------------------------------------------

    async def add_overlay(self, session_id: str, data: bytes) -> str:
        overlay_id = new_id("ov_")
        await self.db.execute(
            sa.insert(editor_overlays).values(id=overlay_id, session_id=session_id, data=data, created_at=now())
        )
        return overlay_id

    async def overlay(self, session_id: str, overlay_id: str) -> bytes | None:
        statement = sa.select(editor_overlays.c.data).where(
            editor_overlays.c.id == overlay_id, editor_overlays.c.session_id == session_id
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def drop_overlays(self, session_id: str) -> int:
        statement = sa.delete(editor_overlays).where(editor_overlays.c.session_id == session_id)
        return (await self.db.execute(statement)).rowcount

    async def count_overlays(self, session_id: str) -> int:
        statement = (
            sa.select(sa.func.count()).select_from(editor_overlays).where(editor_overlays.c.session_id == session_id)
        )
        return int((await self.db.execute(statement)).scalar_one())

    # -- folders ------------------------------------------------------------------------------------

    async def ensure_folder(self, tenant_id: str, name: str, parent_id: str | None) -> Folder:
        """The subfolder ``name`` of ``parent_id`` (``None``: the top), made if there is none.

        Safe when callers race: a unique index keeps one folder per (tenant, parent, name), the insert
        of a caller that loses the race does nothing, and every caller reads the one row that won.
        """
        found = await self.child(tenant_id, parent_id, name)
        if found is not None:
            return found
        at = now()
        insert = sqlite.insert if self.db.dialect == "sqlite" else postgresql.insert
        values = {"tenant_id": tenant_id, "parent_id": parent_id, "name": name, "created_at": at, "updated_at": at}
        await self.db.execute(insert(folders).values(id=new_id("fld_"), **values).on_conflict_do_nothing())
        found = await self.child(tenant_id, parent_id, name)
        assert found is not None  # inserted now or by the caller that won
        return found

    async def ensure_path(self, tenant_id: str, names: Sequence[str]) -> Folder | None:
        """The folder at the end of ``names`` (``["a", "b"]``: ``b`` inside ``a`` at the top), with
        every folder on the way made where missing (:meth:`ensure_folder`); ``None`` for no names."""
        folder: Folder | None = None
        for name in names:
            folder = await self.ensure_folder(tenant_id, name, folder.id if folder else None)
        return folder

    async def folder(self, tenant_id: str, folder_id: str) -> Folder | None:
        statement = FOLDERS.select().where(folders.c.id == folder_id, folders.c.tenant_id == tenant_id)
        return FOLDERS.first(await self.db.execute(statement))

    async def subfolders(
        self, tenant_id: str, parent_id: str | None, *, search: str | None = None, descending: bool = False
    ) -> list[Folder]:
        parent = folders.c.parent_id.is_(None) if parent_id is None else folders.c.parent_id == parent_id
        where = [folders.c.tenant_id == tenant_id, parent]
        if search:
            where.append(folders.c.name.ilike(f"%{_escape_like(search)}%", escape="\\"))
        order = folders.c.name.desc() if descending else folders.c.name
        return FOLDERS.all(await self.db.execute(FOLDERS.select().where(*where).order_by(order, folders.c.id)))

    async def child(self, tenant_id: str, parent_id: str | None, name: str) -> Folder | None:
        """The subfolder ``name`` of ``parent_id`` (``None``: the top)."""
        parent = folders.c.parent_id.is_(None) if parent_id is None else folders.c.parent_id == parent_id
        statement = FOLDERS.select().where(folders.c.tenant_id == tenant_id, parent, folders.c.name == name)
        return FOLDERS.first(await self.db.execute(statement.order_by(folders.c.created_at).limit(1)))

    async def asset_folders(self, tenant_id: str, prefix: str) -> list[str]:
        """The distinct folder paths of the tenant's live assets that start with ``prefix``."""
        c = assets.c
        statement = (
            sa.select(c.folder)
            .distinct()
            .where(
                c.tenant_id == tenant_id,
                c.status != Status.DELETED.value,
                c.folder.like(_escape_like(prefix) + "%", escape="\\"),
            )
        )
        return [row[0] for row in await self.db.execute(statement)]

    async def assets_in_tree(self, tenant_id: str, path: str) -> list[Asset]:
        """The live assets in the folder ``path`` or any folder below it."""
        c = assets.c
        inside = sa.or_(c.folder == path, c.folder.like(_escape_like(path) + "/%", escape="\\"))
        statement = ASSETS.select().where(c.tenant_id == tenant_id, c.status != Status.DELETED.value, inside)
        return ASSETS.all(await self.db.execute(statement))

    async def repath_assets(self, tenant_id: str, old: str, new: str, conn: Conn) -> int:
        """Assets in ``old`` or below it now lie in ``new`` (a folder renamed or moved)."""
        c = assets.c
        inside = sa.or_(c.folder == old, c.folder.like(_escape_like(old) + "/%", escape="\\"))
        moved = sa.literal(new) + sa.func.substr(c.folder, len(old) + 1)
        update = sa.update(assets).where(c.tenant_id == tenant_id, inside).values(folder=moved, updated_at=now())
        return (await conn.execute(update)).rowcount

    async def descendants(self, tenant_id: str, folder_id: str) -> list[str]:
        """``folder_id`` and the ids of every folder under it."""
        found, frontier = [folder_id], [folder_id]
        while frontier:
            statement = sa.select(folders.c.id).where(
                folders.c.tenant_id == tenant_id, folders.c.parent_id.in_(frontier)
            )
            frontier = [row[0] for row in await self.db.execute(statement)]
            found += frontier
        return found

    async def update_folder(self, tenant_id: str, folder_id: str, conn: Conn | None = None, **fields: Any) -> bool:
        update = (
            sa.update(folders)
            .where(folders.c.id == folder_id, folders.c.tenant_id == tenant_id)
            .values(updated_at=now(), **fields)
        )
        return (await self.db.execute(update, conn)).rowcount == 1

    async def delete_folder(self, tenant_id: str, folder_id: str, conn: Conn | None = None) -> bool:
        """Delete a folder and (by the foreign key) every folder under it."""
        delete = sa.delete(folders).where(folders.c.id == folder_id, folders.c.tenant_id == tenant_id)
        return (await self.db.execute(delete, conn)).rowcount == 1

    # -- media-info tasks ---------------------------------------------------------------------------

    async def mediainfo_task(
        self, tenant_id: str, source_hash: str, original_url: str, preview_url: str | None
    ) -> tuple[MediaInfoTask, bool]:
        """The task for this source: a new one (``True``), or the one made before (cached)."""
        at = now()
        insert = (
            sa.insert(editor_mediainfo)
            .values(
                id=new_id("mi_"),
                tenant_id=tenant_id,
                source_hash=source_hash,
                original_url=original_url,
                preview_url=preview_url,
                status="running",
                created_at=at,
                updated_at=at,
            )
            .returning(*TASKS.columns)
        )
        try:
            created = TASKS.first(await self.db.execute(insert))
        except UniqueViolation:
            statement = TASKS.select().where(
                editor_mediainfo.c.tenant_id == tenant_id, editor_mediainfo.c.source_hash == source_hash
            )
            existing = TASKS.first(await self.db.execute(statement))
            assert existing is not None
            return existing, False
        assert created is not None
        return created, True

    async def get_mediainfo(self, tenant_id: str, task_id: str) -> MediaInfoTask | None:
        statement = TASKS.select().where(editor_mediainfo.c.id == task_id, editor_mediainfo.c.tenant_id == tenant_id)
        return TASKS.first(await self.db.execute(statement))

    async def settle_mediainfo(self, task_id: str, conn: Conn | None = None, **fields: Any) -> None:
        update = sa.update(editor_mediainfo).where(editor_mediainfo.c.id == task_id).values(updated_at=now(), **fields)
        await self.db.execute(update, conn)

    # -- counts ---------------------------------------------------------------------------------

    async def _scalar(self, statement: sa.Select[Any]) -> int:
        return int((await self.db.execute(statement)).scalar_one() or 0)

    async def count_jobs(self, tenant_id: str, kind: str) -> int:
        """The tenant's queued and running jobs of ``kind`` (GET /api/stat)."""
        c = jobs.c
        where = [c.tenant_id == tenant_id, c.kind == kind, c.status.in_(("queued", "running"))]
        return await self._scalar(sa.select(sa.func.count()).select_from(jobs).where(*where))

    async def count_uploading(self, tenant_id: str) -> int:
        """The tenant's editor uploads still receiving bytes."""
        c = assets.c
        where = [c.tenant_id == tenant_id, c.dialect == "editor", c.source == "upload", c.status == "queued"]
        return await self._scalar(sa.select(sa.func.count()).select_from(assets).where(*where))

    async def uploads_idle_since(self, before: float, limit: int = 100) -> list[Asset]:
        """Editor uploads still receiving bytes whose asset has not changed since ``before``."""
        c = assets.c
        where = [c.dialect == "editor", c.source == "upload", c.status == "queued", c.updated_at < before]
        statement = ASSETS.select().where(*where).order_by(c.updated_at).limit(limit)
        return ASSETS.all(await self.db.execute(statement))

    async def bytes_of_user(self, tenant_id: str, user_id: str) -> int:
        """Bytes of the media files ``user_id`` owns (not deleted), uploads in progress included."""
        c = assets.c
        where = [c.tenant_id == tenant_id, c.user_id == user_id, c.status != "deleted"]
        return await self._scalar(sa.select(sa.func.coalesce(sa.func.sum(c.size), 0)).where(*where))


class AudiolibRepository:
    """The audio library: which assets are library files (type, category, mood), and its import."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def group(self, tenant_id: str, kind: str, type_: str, name: str) -> str:
        """The id of the category or mood ``name`` (made on first use)."""
        c = editor_audiolib_groups.c
        find = sa.select(c.id).where(c.tenant_id == tenant_id, c.kind == kind, c.type == type_, c.name == name)
        found = (await self.db.execute(find)).scalar_one_or_none()
        if found is not None:
            return str(found)
        try:
            await self.db.execute(
                sa.insert(editor_audiolib_groups).values(
                    id=new_id("cat_" if kind == "category" else "mood_"), tenant_id=tenant_id, kind=kind,
                    type=type_, name=name,
                )
            )  # fmt: skip
        except UniqueViolation:
            pass  # another import made it meanwhile
        return str((await self.db.execute(find)).scalar_one())

    async def has(self, tenant_id: str, relative_path: str) -> bool:
        c = editor_audiolib.c
        statement = sa.select(c.asset_id).where(c.tenant_id == tenant_id, c.relative_path == relative_path)
        return (await self.db.execute(statement)).first() is not None

    async def add(self, conn: Conn, asset_id: str, tenant_id: str, **fields: Any) -> None:
        await conn.execute(
            sa.insert(editor_audiolib).values(asset_id=asset_id, tenant_id=tenant_id, created_at=now(), **fields)
        )

    def _where(
        self, tenant_id: str, type_: str, category_id: str | None, mood_id: str | None, search: str | None
    ) -> list[sa.ColumnElement[bool]]:
        c = editor_audiolib.c
        where = [c.tenant_id == tenant_id, c.type == type_, assets.c.status != Status.DELETED.value]
        if category_id:
            where.append(c.category_id == category_id)
        if mood_id:
            where.append(c.mood_id == mood_id)
        if search:
            where.append(c.name.ilike(f"%{_escape_like(search)}%", escape="\\"))
        return where

    async def page(
        self,
        tenant_id: str,
        type_: str,
        *,
        category_id: str | None = None,
        mood_id: str | None = None,
        search: str | None = None,
        sort: str = "name",
        descending: bool = False,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[Asset], int]:
        joined = editor_audiolib.join(assets, assets.c.id == editor_audiolib.c.asset_id)
        where = self._where(tenant_id, type_, category_id, mood_id, search)
        total = await self.db.execute(sa.select(sa.func.count()).select_from(joined).where(*where))
        column = editor_audiolib.c.name if sort == "name" else assets.c.created_at
        order = [column.desc() if descending else column, assets.c.id]
        statement = ASSETS.select().select_from(joined).where(*where).order_by(*order).limit(limit).offset(offset)
        return ASSETS.all(await self.db.execute(statement)), int(total.scalar_one())

    async def groups(self, tenant_id: str, kind: str, type_: str) -> list[AudiolibGroup]:
        """The categories or moods of ``type_`` with their live file counts, by name."""
        g, a = editor_audiolib_groups.c, editor_audiolib.c
        member = a.category_id if kind == "category" else a.mood_id
        live = (
            sa.select(sa.func.count())
            .select_from(editor_audiolib.join(assets, assets.c.id == a.asset_id))
            .where(member == g.id, assets.c.status != Status.DELETED.value)
            .scalar_subquery()
        )
        statement = (
            sa.select(g.id, g.name, live.label("entries"))
            .where(g.tenant_id == tenant_id, g.kind == kind, g.type == type_)
            .order_by(g.name)
        )
        result = await self.db.execute(statement)
        return [AudiolibGroup(row["id"], row["name"], int(row["entries"])) for row in result.mappings()]

    # -- the import's progress ----------------------------------------------------------------------

    async def start_import(self, tenant_id: str) -> bool:
        """Mark the tenant's import running; ``False`` if one is running already."""
        at = now()
        async with self.db.transaction() as tx:
            statement = IMPORTS.select().where(editor_audiolib_imports.c.tenant_id == tenant_id).with_for_update()
            current = IMPORTS.first(await tx.execute(statement))
            if current is not None and current.status == "running":
                return False
            values = {"status": "running", "processed": 0, "total": 0, "error": None, "updated_at": at}
            if current is None:
                await tx.execute(
                    sa.insert(editor_audiolib_imports).values(tenant_id=tenant_id, created_at=at, **values)
                )
            else:
                where = editor_audiolib_imports.c.tenant_id == tenant_id
                await tx.execute(sa.update(editor_audiolib_imports).where(where).values(**values))
        return True

    async def progress(self, tenant_id: str, conn: Conn | None = None, **fields: Any) -> None:
        update = (
            sa.update(editor_audiolib_imports)
            .where(editor_audiolib_imports.c.tenant_id == tenant_id)
            .values(updated_at=now(), **fields)
        )
        await self.db.execute(update, conn)

    async def import_state(self, tenant_id: str) -> AudiolibImport | None:
        statement = IMPORTS.select().where(editor_audiolib_imports.c.tenant_id == tenant_id)
        return IMPORTS.first(await self.db.execute(statement))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
