"""Database drivers under the metadata store: SQLite (embedded default) and PostgreSQL.

Both speak the same small interface with ``?`` placeholders; the PostgreSQL driver rewrites them to
``$n``. Rows come back as plain dicts. ``transaction()`` yields a handle bound to one connection
inside ``BEGIN … COMMIT`` (rolled back on error), so a state change and the events it causes
commit together.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiosqlite

Row = dict[str, Any]


class IntegrityError(Exception):
    """A unique or foreign-key constraint failed (both drivers raise this)."""


class Conn(abc.ABC):
    """What store code runs SQL against: the database itself or an open transaction."""

    dialect: str

    @abc.abstractmethod
    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; returns the number of rows changed."""

    @abc.abstractmethod
    async def fetchall(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchone(sql, *args)
        return next(iter(row.values())) if row else None


class Database(Conn):
    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractAsyncContextManager[Conn]: ...

    @abc.abstractmethod
    async def executescript(self, sql: str) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...


# -- SQLite -----------------------------------------------------------------------------------------


class _SQLiteConn(Conn):
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            cursor = await self._conn.execute(sql, args)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        return cursor.rowcount

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        try:
            cursor = await self._conn.execute(sql, args)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        rows = await cursor.fetchall()
        return [dict(r) for r in rows]


class SQLiteDatabase(Database, _SQLiteConn):
    """One connection in WAL mode; an asyncio lock keeps transactions from interleaving.

    Several processes (origin, worker) may share the file: ``busy_timeout`` makes writers wait.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: str) -> SQLiteDatabase:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA busy_timeout=10000")
        await conn.execute("PRAGMA foreign_keys=ON")
        return cls(conn)

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._lock:
            return await super().execute(sql, *args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._lock:
            return await super().fetchall(sql, *args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteConn(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def executescript(self, sql: str) -> None:
        async with self._lock:
            await self._conn.executescript(sql)

    async def close(self) -> None:
        await self._conn.close()


# -- PostgreSQL -------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    """``?`` → ``$1, $2 …`` (our SQL never has ``?`` inside string literals)."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", sql)


class _PGConn(Conn):
    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        import asyncpg

        try:
            status = await self._conn.execute(_numbered(sql), *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(str(exc)) from exc
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        import asyncpg

        try:
            rows: Sequence[Any] = await self._conn.fetch(_numbered(sql), *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(str(exc)) from exc
        return [dict(r) for r in rows]


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, min_size: int = 1, max_size: int = 10) -> PostgresDatabase:
        import asyncpg

        return cls(await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size))

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._pool.acquire() as conn:
            return await _PGConn(conn).execute(sql, *args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._pool.acquire() as conn:
            return await _PGConn(conn).fetchall(sql, *args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PGConn(conn)

    async def executescript(self, sql: str) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(sql)

    async def close(self) -> None:
        await self._pool.close()


async def connect(url: str) -> Database:
    """Open the database a ``database.url`` setting names."""
    if url.startswith("sqlite:///"):
        return await SQLiteDatabase.connect(url.removeprefix("sqlite:///"))
    return await PostgresDatabase.connect(url)
