"""The database under the metadata store: one SQLAlchemy async engine on SQLite (aiosqlite, the
embedded default, in WAL mode) or PostgreSQL (asyncpg).

Store code writes SQLAlchemy Core statements over the tables of :mod:`origin.store.schema`, so
parameters are named and bound with their column's type on both backends; rows come back typed
(booleans, JSON, POSIX timestamps as ``float``).

Transactions: ``transaction()`` yields a connection inside ``BEGIN … COMMIT`` (rolled back on error),
so a state change and the events it causes commit together.

- SQLite serialises writers itself. A transaction begins ``IMMEDIATE`` (it takes the write lock
  first, so a read-then-write inside is atomic); an in-process lock queues this process's writers
  instead of each one spinning on ``busy_timeout``; other processes wait on ``busy_timeout``.
- PostgreSQL transactions run side by side (READ COMMITTED). Nothing is locked globally: a
  read-then-write that must not race locks its rows (``SELECT … FOR UPDATE``), and queue claims
  (jobs, webhook outbox) pick with ``FOR UPDATE SKIP LOCKED``.

Statements outside a transaction (``execute`` without a connection) run alone: a ``SELECT`` in
autocommit mode, any other statement in a transaction of its own.

Constraint failures raise :class:`IntegrityError` (:class:`UniqueViolation` for UNIQUE and primary
keys) on both backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import fields
from pathlib import Path
from typing import Any, Generic, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, CursorResult, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

#: What store code runs statements on inside a transaction.
Conn = AsyncConnection
Row = dict[str, Any]
R = TypeVar("R")

#: Execution option of the read-only engine: no ``BEGIN`` on SQLite (autocommit).
_READ = "mediaedge_read"
_PG_UNIQUE = "23505"
#: How long a SQLite writer waits for another process's write lock (ms); a migration waits longer.
BUSY_TIMEOUT_MS = 10_000
SCHEMA_BUSY_TIMEOUT_MS = 300_000
#: Rows SQLite's ANALYZE samples per index (see :meth:`Database.analyze`).
ANALYSIS_LIMIT = 1000
_SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


class IntegrityError(Exception):
    """A unique, not-null or foreign-key constraint failed (both backends raise this)."""


class UniqueViolation(IntegrityError):
    """The constraint that failed was a UNIQUE one (or a primary key)."""


def _translate_integrity_error(context: ExceptionContext) -> None:
    """Raise the store's own :class:`IntegrityError` for a driver's constraint failure."""
    if not isinstance(context.sqlalchemy_exception, sa.exc.IntegrityError):
        return
    original = context.original_exception
    unique = (
        getattr(original, "sqlite_errorname", None) in _SQLITE_UNIQUE
        or getattr(original, "sqlstate", None) == _PG_UNIQUE
    )
    raise (UniqueViolation if unique else IntegrityError)(str(original)) from context.sqlalchemy_exception


def engine_url(url: str) -> URL:
    """A ``database.url`` setting (``sqlite:///path``, ``postgresql://…``) with its async driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"database.url: unsupported database {parsed.drivername!r} (sqlite:/// or postgresql://)")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Database:
    """The engine, and the transactions and statements the store runs on it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name
        #: The same pool for reads outside transactions (autocommit).
        self._reader = engine.execution_options(**{_READ: True})
        if self.dialect == "postgresql":
            self._reader = self._reader.execution_options(isolation_level="AUTOCOMMIT")
        self._writers: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if self.dialect == "sqlite" else contextlib.nullcontext()
        )
        event.listen(engine.sync_engine, "handle_error", _translate_integrity_error)

    @classmethod
    def open(cls, url: str, *, pool_min: int = 1, pool_max: int = 10) -> Database:
        """The database a ``database.url`` names; ``pool_min`` connections stay open, up to ``pool_max``."""
        target = engine_url(url)
        options: dict[str, Any] = {
            "json_serializer": _json_dumps,
            "json_deserializer": orjson.loads,
            "pool_size": pool_min,
            "max_overflow": max(pool_max - pool_min, 0),
            "pool_pre_ping": False,
        }
        if target.get_backend_name() == "sqlite":
            Path(target.database or "").parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(target, **options)
        if target.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_connect)
            event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return cls(engine)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        """A write transaction: commits when the block ends, rolls back when it raises."""
        async with self._writers, self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def schema_transaction(self) -> AsyncIterator[Conn]:
        """A write transaction for schema changes. On SQLite foreign keys are off inside it (a table
        rebuilt by a migration is dropped and made again, which would otherwise cascade to every row
        that refers to it) and checked when it ends: a violation rolls the change back. Processes
        starting together wait for the one migrating however long it takes (``SCHEMA_BUSY_TIMEOUT``),
        not the ``busy_timeout`` of ordinary writes."""
        async with self._writers, self.engine.connect() as conn:
            sqlite = self.dialect == "sqlite"
            if sqlite:
                await conn.run_sync(_sqlite_pragma, "foreign_keys=OFF", f"busy_timeout={SCHEMA_BUSY_TIMEOUT_MS}")
            try:
                async with conn.begin():
                    yield conn
                    if sqlite and (await conn.exec_driver_sql("PRAGMA foreign_key_check")).first() is not None:
                        raise IntegrityError("a schema change left rows whose foreign keys point nowhere")
            finally:
                if sqlite:
                    await conn.run_sync(_sqlite_pragma, "foreign_keys=ON", f"busy_timeout={BUSY_TIMEOUT_MS}")

    @contextlib.asynccontextmanager
    async def joining(self, conn: Conn | None) -> AsyncIterator[Conn]:
        """``conn`` when the caller is in a transaction already, else a transaction of its own."""
        if conn is not None:
            yield conn
            return
        async with self.transaction() as tx:
            yield tx

    async def execute(
        self, statement: sa.Executable, conn: Conn | None = None, params: Row | None = None
    ) -> CursorResult[Any]:
        """Run ``statement`` on ``conn``, or alone (see the module doc); the result is buffered.

        ``params`` bind a statement built once with its values left out (``sa.insert(table)``): its
        compiled form is reused without building and hashing a bound parameter per value on each call.
        """
        if conn is not None:
            return await conn.execute(statement, params)
        if getattr(statement, "is_select", False):
            async with self._reader.connect() as reader:
                return await reader.execute(statement, params)
        async with self.transaction() as tx:
            return await tx.execute(statement, params)

    async def analyze(self) -> None:
        """Refresh the query planner's statistics. SQLite keeps none until asked (without them it
        takes a tenant for a handful of assets and scans where a lookup is due); it samples at most
        :data:`ANALYSIS_LIMIT` rows per index, so this takes well under a second at any size.
        PostgreSQL's autovacuum keeps its own; asking helps right after bulk writes."""
        async with self.transaction() as tx:
            if self.dialect == "sqlite":
                await tx.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
            await tx.exec_driver_sql("ANALYZE")

    async def ping(self) -> None:
        """One round trip to the database (health checks)."""
        await self.execute(sa.select(1))

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragma(conn: sa.Connection, *pragmas: str) -> None:
    """PRAGMAs outside any transaction (where SQLite ignores some of them), on the driver itself."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    for pragma in pragmas:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL, writers wait for each other, foreign keys on; the driver leaves transactions to us."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    for pragma in ("synchronous=NORMAL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """``journal_mode=WAL``, waiting as long as ``busy_timeout`` for the lock it takes. Switching a new
    database needs an exclusive lock, and when several connections switch at once (processes
    starting together) SQLite answers "database is locked" at once instead of calling the busy
    handler, as waiting could deadlock: so retry here."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError
            if "database is locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_begin(conn: sa.Connection) -> None:
    """``BEGIN IMMEDIATE`` for write transactions; reads stay in autocommit."""
    if not conn.get_execution_options().get(_READ):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Records(Generic[R]):
    """How a table's rows become records (frozen dataclasses): each field is the column of its name,
    or of the name given in ``renamed``."""

    def __init__(self, record: type[R], table: sa.Table, **renamed: str) -> None:
        self.record = record
        self.columns = [table.c[renamed.get(f.name, f.name)].label(f.name) for f in fields(record)]  # type: ignore[arg-type]

    def select(self) -> sa.Select[Any]:
        return sa.select(*self.columns)

    def first(self, result: CursorResult[Any]) -> R | None:
        row = result.mappings().first()
        return None if row is None else self.record(**row)

    def all(self, result: CursorResult[Any]) -> list[R]:
        return [self.record(**row) for row in result.mappings()]


def rows(result: CursorResult[Any]) -> list[Row]:
    """A result as plain dicts."""
    return [dict(row) for row in result.mappings()]
