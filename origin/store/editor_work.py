"""The editor's work records: projects and their action history, render tasks, project imports.

Projects belong to an editor user (``user_id``, see :func:`origin.editor.sessions.user_id`). Actions
are kept in the order they were posted (``position``, assigned under the project's row lock, so
concurrent posts to one project get consecutive positions); removing a project removes its actions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from origin.store.db import Conn, Database, Records
from origin.store.schema import editor_actions, editor_project_imports, editor_projects, editor_render_tasks, now


@dataclass(frozen=True)
class Project:
    id: str
    tenant_id: str
    user_id: str
    name: str
    data: Any
    thumbnail: str
    create_time: int
    modif_time: int
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Action:
    project_id: str
    id: str
    position: int
    name: str
    data: Any
    canceled: bool
    create_time: int
    modif_time: int


@dataclass(frozen=True)
class RenderTask:
    id: str
    tenant_id: str
    user_id: str
    session_id: str | None
    project_id: str | None
    xtl: str
    status: str  # running | downloading | uploading | completed | aborted | error
    progress: float
    error: dict[str, Any] | None
    outputs: list[str]  # asset ids, one per timeline
    output_urls: list[str]
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class ProjectImport:
    id: str
    tenant_id: str
    user_id: str
    session_id: str | None
    upload_id: str | None
    name: str
    size: int
    fps: float | None
    create_folder: bool
    stage: str  # upload | unpack | import_media | ready | canceled
    progress: float
    error: str | None
    archive_key: str | None
    created_at: float
    updated_at: float


PROJECTS = Records(Project, editor_projects)
ACTIONS = Records(Action, editor_actions)
TASKS = Records(RenderTask, editor_render_tasks)
IMPORTS = Records(ProjectImport, editor_project_imports)

#: Render task statuses after which nothing changes any more.
FINAL = ("completed", "aborted", "error")


class DuplicateAction(Exception):
    """The project already has an action with that id."""


def new_id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(18)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class EditorWorkRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- projects -----------------------------------------------------------------------------------

    async def create_project(
        self, tenant_id: str, user_id: str, *, project_id: str | None = None, conn: Conn | None = None, **fields: Any
    ) -> Project:
        at = now()
        insert = (
            sa.insert(editor_projects)
            .values(
                id=project_id or new_id("prj_"), tenant_id=tenant_id, user_id=user_id, created_at=at, updated_at=at,
                **fields,
            )
            .returning(*PROJECTS.columns)
        )  # fmt: skip
        found = PROJECTS.first(await self.db.execute(insert, conn))
        assert found is not None
        return found

    def _project_where(self, tenant_id: str, user_id: str, project_id: str) -> list[sa.ColumnElement[bool]]:
        c = editor_projects.c
        return [c.id == project_id, c.tenant_id == tenant_id, c.user_id == user_id]

    async def project(self, tenant_id: str, user_id: str, project_id: str) -> Project | None:
        statement = PROJECTS.select().where(*self._project_where(tenant_id, user_id, project_id))
        return PROJECTS.first(await self.db.execute(statement))

    async def update_project(
        self, tenant_id: str, user_id: str, project_id: str, conn: Conn | None = None, **fields: Any
    ) -> Project | None:
        update = (
            sa.update(editor_projects)
            .where(*self._project_where(tenant_id, user_id, project_id))
            .values(updated_at=now(), **fields)
            .returning(*PROJECTS.columns)
        )
        return PROJECTS.first(await self.db.execute(update, conn))

    async def delete_project(self, tenant_id: str, user_id: str, project_id: str) -> bool:
        """Delete the project; its actions go with it (explicitly too, for SQLite files made without
        foreign keys on)."""
        async with self.db.transaction() as tx:
            where = self._project_where(tenant_id, user_id, project_id)
            found = (await tx.execute(sa.select(editor_projects.c.id).where(*where))).first()
            if found is None:
                return False
            await tx.execute(sa.delete(editor_actions).where(editor_actions.c.project_id == project_id))
            await tx.execute(sa.delete(editor_projects).where(*where))
        return True

    async def projects(
        self, tenant_id: str, user_id: str, *, search: str | None, offset: int, limit: int
    ) -> tuple[list[Project], int]:
        """A page of the user's projects, newest first, and how many there are in all."""
        c = editor_projects.c
        where = [c.tenant_id == tenant_id, c.user_id == user_id]
        if search:
            where.append(c.name.ilike(_like(search), escape="\\"))
        total = (await self.db.execute(sa.select(sa.func.count()).select_from(editor_projects).where(*where))).scalar()
        statement = PROJECTS.select().where(*where).order_by(c.create_time.desc(), c.id).offset(offset).limit(limit)
        return PROJECTS.all(await self.db.execute(statement)), int(total or 0)

    async def projects_using(self, tenant_id: str, text: str, limit: int = 20) -> list[str]:
        """Ids of the tenant's projects whose data mentions ``text`` (a media file id)."""
        c = editor_projects.c
        mentions = sa.cast(c.data, sa.Text).like(_like(text), escape="\\")
        statement = sa.select(c.id).where(c.tenant_id == tenant_id, mentions).order_by(c.create_time).limit(limit)
        return [row[0] for row in await self.db.execute(statement)]

    # -- actions ------------------------------------------------------------------------------------

    async def add_action(
        self, tenant_id: str, user_id: str, project_id: str, depth: int, *, action_id: str | None, **fields: Any
    ) -> Action | None:
        """Append an action to the project's history (``None``: no such project of the user).

        In one transaction, under the project's row lock: the canceled (undone) actions are removed
        (a new action ends the redo branch), the action gets the next position, and the oldest
        actions beyond ``depth`` are dropped. :class:`DuplicateAction` if the id is taken.
        """
        c = editor_actions.c
        async with self.db.transaction() as tx:
            lock = (
                sa.select(editor_projects.c.id)
                .where(*self._project_where(tenant_id, user_id, project_id))
                .with_for_update()
            )
            if (await tx.execute(lock)).first() is None:
                return None
            await tx.execute(sa.delete(editor_actions).where(c.project_id == project_id, c.canceled.is_(True)))
            last = (await tx.execute(sa.select(sa.func.max(c.position)).where(c.project_id == project_id))).scalar()
            position = int(last or 0) + 1
            action_id = action_id or new_id("act_")
            taken = sa.select(c.id).where(c.project_id == project_id, c.id == action_id)
            if (await tx.execute(taken)).first() is not None:
                raise DuplicateAction(action_id)
            insert = (
                sa.insert(editor_actions)
                .values(project_id=project_id, id=action_id, position=position, **fields)
                .returning(*ACTIONS.columns)
            )
            found = ACTIONS.first(await tx.execute(insert))
            await tx.execute(
                sa.delete(editor_actions).where(c.project_id == project_id, c.position <= position - depth)
            )
        return found

    def _owned_action(self, tenant_id: str, user_id: str, action_id: str) -> sa.Select[Any]:
        p = editor_projects.c
        owned = sa.select(p.id).where(p.tenant_id == tenant_id, p.user_id == user_id)
        return (
            ACTIONS.select()
            .where(editor_actions.c.id == action_id, editor_actions.c.project_id.in_(owned.scalar_subquery()))
            .order_by(editor_actions.c.position.desc())
            .limit(1)
        )

    async def action(self, tenant_id: str, user_id: str, action_id: str) -> Action | None:
        return ACTIONS.first(await self.db.execute(self._owned_action(tenant_id, user_id, action_id)))

    async def update_action(self, action: Action, **fields: Any) -> Action | None:
        c = editor_actions.c
        update = (
            sa.update(editor_actions)
            .where(c.project_id == action.project_id, c.id == action.id)
            .values(**fields)
            .returning(*ACTIONS.columns)
        )
        return ACTIONS.first(await self.db.execute(update))

    async def actions(self, project_id: str) -> list[Action]:
        c = editor_actions.c
        statement = ACTIONS.select().where(c.project_id == project_id).order_by(c.position)
        return ACTIONS.all(await self.db.execute(statement))

    # -- render tasks -------------------------------------------------------------------------------

    async def create_task(self, conn: Conn, **fields: Any) -> RenderTask:
        at = now()
        insert = (
            sa.insert(editor_render_tasks)
            .values(id=new_id("rt_"), status="running", created_at=at, updated_at=at, **fields)
            .returning(*TASKS.columns)
        )
        found = TASKS.first(await conn.execute(insert))
        assert found is not None
        return found

    async def task(self, task_id: str, tenant_id: str | None = None) -> RenderTask | None:
        where = [editor_render_tasks.c.id == task_id]
        if tenant_id is not None:
            where.append(editor_render_tasks.c.tenant_id == tenant_id)
        return TASKS.first(await self.db.execute(TASKS.select().where(*where)))

    async def update_task(
        self, task_id: str, conn: Conn | None = None, *, unless_final: bool = True, **fields: Any
    ) -> RenderTask | None:
        """Change a task; with ``unless_final`` only one still going (``None`` when it has ended, e.g.
        aborted by its user meanwhile)."""
        c = editor_render_tasks.c
        where = [c.id == task_id]
        if unless_final:
            where.append(c.status.not_in(FINAL))
        update = sa.update(editor_render_tasks).where(*where).values(updated_at=now(), **fields)
        return TASKS.first(await self.db.execute(update.returning(*TASKS.columns), conn))

    # -- project imports ----------------------------------------------------------------------------

    async def create_import(self, conn: Conn | None = None, **fields: Any) -> ProjectImport:
        at = now()
        insert = (
            sa.insert(editor_project_imports)
            .values(stage="upload", created_at=at, updated_at=at, **fields)
            .returning(*IMPORTS.columns)
        )
        found = IMPORTS.first(await self.db.execute(insert, conn))
        assert found is not None
        return found

    async def project_import(self, import_id: str, tenant_id: str | None = None) -> ProjectImport | None:
        where = [editor_project_imports.c.id == import_id]
        if tenant_id is not None:
            where.append(editor_project_imports.c.tenant_id == tenant_id)
        return IMPORTS.first(await self.db.execute(IMPORTS.select().where(*where)))

    async def update_import(self, import_id: str, conn: Conn | None = None, **fields: Any) -> ProjectImport | None:
        """Change an import unless it was canceled (``None`` then)."""
        c = editor_project_imports.c
        update = (
            sa.update(editor_project_imports)
            .where(c.id == import_id, c.stage != "canceled")
            .values(updated_at=now(), **fields)
            .returning(*IMPORTS.columns)
        )
        return IMPORTS.first(await self.db.execute(update, conn))
