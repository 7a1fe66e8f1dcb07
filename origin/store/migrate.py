"""Schema migrations: Alembic revisions in ``origin/store/migrations/versions``, shipped with the package.

:func:`migrate` brings a database to a revision (the newest by default) in one transaction that
also holds a lock, so processes starting together migrate one at a time and the later ones find
nothing left to do: on PostgreSQL a transaction-scoped advisory lock (migrations only; ordinary
transactions take none), on SQLite the write lock ``BEGIN IMMEDIATE`` takes. A database made by a
release from before Alembic is taken over by the first revision (see its docstring).

Revisions only go forward. Add one with the next number; never edit one that has shipped.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from origin.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
#: Advisory lock key held by a migrating transaction on PostgreSQL.
MIGRATION_LOCK = 0x6D65_6401


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def _upgrade(connection: sa.Connection, revision: str) -> str | None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    return current_revision(connection)


def current_revision(connection: sa.Connection) -> str | None:
    """The revision a database is at (None before the first)."""
    return MigrationContext.configure(connection).get_current_revision()


async def migrate(db: Database, revision: str = "head") -> str | None:
    """Apply pending revisions up to ``revision``; returns the revision now in force."""
    async with db.schema_transaction() as conn:
        if db.dialect == "postgresql":
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        return await conn.run_sync(_upgrade, revision)


async def schema_revision(db: Database) -> str | None:
    """The revision the database is at, without changing it."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(current_revision)
