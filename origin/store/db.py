"""Database drivers under the metadata store: SQLite (embedded default) and PostgreSQL.

Both speak the same small interface with ``?`` placeholders; the PostgreSQL driver rewrites them to
``$n``. Rows come back as plain dicts. ``transaction()`` yields a handle bound to one connection
inside ``BEGIN … COMMIT`` (rolled back on error), so a state change and the events it causes
commit together.

Both behave alike, so store code tested on one is right on the other:

- a transaction is an exclusive writer section: SQLite's ``BEGIN IMMEDIATE``; on PostgreSQL an
  in-process lock plus a cluster-wide advisory lock taken first thing in the transaction;
- arguments bind like SQLite's: a ``float`` is compared as a float even against a BIGINT column
  (asyncpg would truncate it), and a ``str``/``int`` mismatch with the parameter's inferred type is
  coerced (asyncpg would refuse it); ``SUM``/``AVG`` of integers come back as ``int``/``float``, not
  ``Decimal``.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import itertools
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiosqlite

Row = dict[str, Any]


class IntegrityError(Exception):
    """A unique or foreign-key constraint failed (both drivers raise this)."""


class UniqueViolation(IntegrityError):
    """The constraint that failed was a UNIQUE one (or a primary key)."""


def _sqlite_integrity(exc: sqlite3.IntegrityError) -> IntegrityError:
    unique = exc.sqlite_errorname in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
    return (UniqueViolation if unique else IntegrityError)(str(exc))


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

    def migration_lock(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held by ``migrate()`` so that processes starting together migrate one at a time.

        SQLite needs nothing: each migration re-checks the version inside ``BEGIN IMMEDIATE``.
        """
        return contextlib.nullcontext()


# -- SQLite -----------------------------------------------------------------------------------------


class _SQLiteConn(Conn):
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            cursor = await self._conn.execute(sql, args)
        except sqlite3.IntegrityError as exc:
            raise _sqlite_integrity(exc) from exc
        return cursor.rowcount

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        try:
            cursor = await self._conn.execute(sql, args)
        except sqlite3.IntegrityError as exc:
            raise _sqlite_integrity(exc) from exc
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
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield _SQLiteConn(self._conn)
                await self._conn.execute("COMMIT")
            except BaseException:
                await asyncio.shield(self._rollback())
                raise

    async def _rollback(self) -> None:
        """Roll back whatever is open. aiosqlite runs statements in order in its thread, so this also
        ends a BEGIN or COMMIT whose await was cancelled but which still runs there."""
        with contextlib.suppress(sqlite3.OperationalError):  # no transaction is active
            await self._conn.execute("ROLLBACK")

    async def executescript(self, sql: str) -> None:
        async with self._lock:
            await self._conn.executescript(sql)

    async def close(self) -> None:
        await self._conn.close()


# -- PostgreSQL -------------------------------------------------------------------------------------


#: Advisory lock keys: one serialises transactions across processes, one serialises migrations.
TRANSACTION_LOCK = 0x6D65_6400
MIGRATION_LOCK = 0x6D65_6401


@lru_cache(maxsize=1024)
def _numbered(sql: str, floats: frozenset[int] = frozenset()) -> str:
    """``?`` → ``$1, $2 …`` (our SQL never has ``?`` inside string literals).

    Placeholders of ``float`` arguments (positions in ``floats``) become ``$n::float8``, so that
    comparing a float with an integer column works as on SQLite instead of truncating the float.
    """
    counter = itertools.count(1)

    def placeholder(_m: re.Match[str]) -> str:
        n = next(counter)
        return f"${n}::float8" if n in floats else f"${n}"

    return re.sub(r"\?", placeholder, sql)


def _as_text(value: Any) -> str:
    return str(int(value)) if isinstance(value, bool) else str(value)  # SQLite binds True as 1


#: How an argument is coerced to the type PostgreSQL inferred for its parameter.
_COERCE: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(("text", "varchar", "bpchar", "name"), _as_text),
    **dict.fromkeys(("int2", "int4", "int8"), int),
    **dict.fromkeys(("float4", "float8"), float),
}
Coercers = tuple[Callable[[Any], Any] | None, ...]
#: Per query: the coercion of each parameter, learned the first time asyncpg refused an argument.
_coercers: dict[str, Coercers] = {}


def _coerce(coercers: Coercers, args: Sequence[Any]) -> list[Any]:
    return [a if fn is None or a is None else fn(a) for fn, a in zip(coercers, args, strict=True)]


def _number(text: str) -> int | float:
    """``numeric`` results (``SUM``/``AVG`` of integers) as SQLite returns them."""
    return int(text) if text.lstrip("-").isdigit() else float(text)


async def _init_connection(conn: Any) -> None:
    await conn.set_type_codec("numeric", encoder=str, decoder=_number, schema="pg_catalog", format="text")


class _PGConn(Conn):
    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        status: str = await self._run(self._conn.execute, sql, args)
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        rows: Sequence[Any] = await self._run(self._conn.fetch, sql, args)
        return [dict(r) for r in rows]

    async def _run(self, method: Callable[..., Awaitable[Any]], sql: str, args: Sequence[Any]) -> Any:
        import asyncpg

        query = _numbered(sql, frozenset(n for n, a in enumerate(args, 1) if isinstance(a, float)))
        coercers = _coercers.get(query)
        try:
            return await method(query, *(_coerce(coercers, args) if coercers else args))
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(str(exc)) from exc
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(str(exc)) from exc
        except asyncpg.DataError as exc:
            # An argument asyncpg could not encode (it never reached the server, so an open
            # transaction is intact): learn the parameter types once, then coerce like SQLite.
            if coercers is not None or exc.__cause__ is None:
                raise
        statement = await self._conn.prepare(query)
        _coercers[query] = tuple(_COERCE.get(t.name) for t in statement.get_parameters())
        return await self._run(method, sql, args)


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, pool: Any, dsn: str) -> None:
        self._pool = pool
        self._dsn = dsn
        self._tx_lock = asyncio.Lock()

    @classmethod
    async def connect(cls, dsn: str, min_size: int = 1, max_size: int = 10) -> PostgresDatabase:
        import asyncpg

        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
        return cls(pool, dsn)

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._pool.acquire() as conn:
            return await _PGConn(conn).execute(sql, *args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._pool.acquire() as conn:
            return await _PGConn(conn).fetchall(sql, *args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        """One writer at a time, like SQLite: waiters queue in-process without holding a connection."""
        async with self._tx_lock, self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", TRANSACTION_LOCK)
            yield _PGConn(conn)

    async def executescript(self, sql: str) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(sql)

    @contextlib.asynccontextmanager
    async def migration_lock(self) -> AsyncIterator[None]:
        """A session advisory lock on a connection of its own (a pool of one stays usable)."""
        import asyncpg

        conn = await asyncpg.connect(self._dsn)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            yield
        finally:
            await conn.close()  # ends the session, which releases the lock

    async def close(self) -> None:
        await self._pool.close()


async def connect(url: str, *, pool_min: int = 1, pool_max: int = 10) -> Database:
    """Open the database a ``database.url`` setting names (pool sizes apply to PostgreSQL)."""
    if url.startswith("sqlite:///"):
        return await SQLiteDatabase.connect(url.removeprefix("sqlite:///"))
    return await PostgresDatabase.connect(url, pool_min, pool_max)
