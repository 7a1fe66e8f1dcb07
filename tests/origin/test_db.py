"""The database drivers behave alike on SQLite and PostgreSQL: binding, results, errors, transactions,
and migrations when several processes start at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from origin.state import OriginState
from origin.store import IntegrityError, open_store
from origin.store import schema as schema_module
from origin.store.db import Database, UniqueViolation, connect
from origin.store.schema import MIGRATIONS, migrate
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio

TABLES = """
CREATE TABLE parent (id TEXT PRIMARY KEY);
CREATE TABLE t (
    id INTEGER PRIMARY KEY,
    parent TEXT REFERENCES parent(id),
    i BIGINT NOT NULL,
    f DOUBLE PRECISION,
    s TEXT,
    flag INTEGER NOT NULL DEFAULT 0
)
"""


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = await connect(db_url)
    await database.executescript(TABLES)
    await database.execute("INSERT INTO t (id, i, f, s, flag) VALUES (1, 1000, 2.5, '5', 1)")
    try:
        yield database
    finally:
        await database.close()


async def count(db: Database, where: str, *args: object) -> int:
    return int(await db.fetchval(f"SELECT COUNT(*) AS n FROM t WHERE {where}", *args))


async def test_floats_compare_with_integer_columns_exactly(db: Database):
    assert await count(db, "i < ?", 1000.5) == 1  # asyncpg alone truncates 1000.5 to 1000
    assert await count(db, "i >= ?", 999.5) == 1
    assert await count(db, "i > ?", 1000.0) == 0
    assert await count(db, "f > ?", 2) == 1


async def test_str_and_int_arguments_are_coerced_to_the_column_type(db: Database):
    assert await count(db, "s = ?", 5) == 1
    assert await count(db, "i = ?", "1000") == 1
    assert await count(db, "flag = ?", True) == 1
    async with db.transaction() as tx:  # a coercion inside a transaction leaves it usable
        await tx.execute("UPDATE t SET s = ? WHERE id = ?", 6, 1)
        assert await tx.fetchval("SELECT s FROM t WHERE id = ?", 1) == "6"


async def test_result_types_match(db: Database):
    await db.execute("INSERT INTO t (id, i, f) VALUES (?, ?, ?)", 2, 20_000_000_000, 1)
    row = await db.fetchone("SELECT SUM(i) AS total, AVG(i) AS mean, COUNT(*) AS n, MAX(f) AS top FROM t")
    assert row == {"total": 20_000_001_000, "mean": 10_000_000_500.0, "n": 2, "top": 2.5}
    assert [type(v) for v in row.values()] == [int, float, int, float]
    assert await db.fetchone("SELECT f FROM t WHERE id = 2") == {"f": 1.0}  # int bound to DOUBLE PRECISION
    assert await db.fetchone("SELECT * FROM t WHERE id = 3") is None
    assert await db.execute("UPDATE t SET flag = ? WHERE i > ?", 1, 0) == 2


async def test_constraint_failures_raise_integrity_errors(db: Database):
    with pytest.raises(UniqueViolation):
        await db.execute("INSERT INTO t (id, i) VALUES (1, 1)")
    with pytest.raises(IntegrityError) as info:
        await db.execute("INSERT INTO t (id, i, parent) VALUES (2, 1, 'ghost')")
    assert not isinstance(info.value, UniqueViolation)
    with pytest.raises(IntegrityError):
        await db.execute("INSERT INTO t (id, i) VALUES (3, NULL)")


async def test_a_failed_transaction_rolls_back(db: Database):
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("UPDATE t SET i = 0")
            raise RuntimeError("boom")
    assert await count(db, "i = 1000") == 1


async def test_transactions_of_two_processes_never_interleave(db: Database, db_url: str):
    """Read-modify-write in a transaction loses no update, as with SQLite's BEGIN IMMEDIATE."""
    other = await connect(db_url)

    async def increment(database: Database) -> None:
        async with database.transaction() as tx:
            value = await tx.fetchval("SELECT i FROM t WHERE id = 1")
            await asyncio.sleep(0.02)
            await tx.execute("UPDATE t SET i = ? WHERE id = 1", value + 1)

    try:
        await asyncio.gather(*(increment(d) for d in [db, other] * 4))
    finally:
        await other.close()
    assert await db.fetchval("SELECT i FROM t WHERE id = 1") == 1008


async def test_processes_starting_together_migrate_once(db_url: str):
    databases = [await connect(db_url) for _ in range(4)]
    try:
        versions = await asyncio.gather(*(migrate(d) for d in databases))
        rows = await databases[0].fetchall("SELECT version FROM schema_version ORDER BY version")
    finally:
        for database in databases:
            await database.close()
    top = max(v for v, _ in MIGRATIONS)
    assert versions == [top] * 4
    assert [r["version"] for r in rows] == sorted(v for v, _ in MIGRATIONS)


async def test_a_lower_numbered_migration_that_lands_later_still_runs(db_url: str, monkeypatch):
    database = await connect(db_url)
    try:
        monkeypatch.setattr(schema_module, "MIGRATIONS", [m for m in MIGRATIONS if m[0] != 2])
        await migrate(database)
        monkeypatch.setattr(schema_module, "MIGRATIONS", MIGRATIONS)
        await migrate(database)
        assert await database.fetchval("SELECT COUNT(*) AS n FROM jobs") == 0
    finally:
        await database.close()


@pytest.mark.parametrize("migrate_on_start", [True, False])
async def test_origin_state_honours_migrate_on_start(db_url: str, tmp_path: Path, monkeypatch, migrate_on_start):
    database = await connect(db_url)
    monkeypatch.setattr(schema_module, "MIGRATIONS", MIGRATIONS[:1])
    await migrate(database)
    await database.close()
    monkeypatch.setattr(schema_module, "MIGRATIONS", MIGRATIONS)
    settings = make_settings(tmp_path, database={"url": db_url, "migrate_on_start": migrate_on_start})
    state = await OriginState.open(settings)
    try:
        version = await state.store.db.fetchval("SELECT MAX(version) AS v FROM schema_version")
    finally:
        await state.close()
    assert version == (max(v for v, _ in MIGRATIONS) if migrate_on_start else MIGRATIONS[0][0])


async def test_a_pool_of_one_connection_migrates_and_runs_transactions(db_url: str):
    store = await open_store(db_url, pool_min=1, pool_max=1)
    try:
        tenant, _ = await store.create_tenant("acme", "local")
        assert await store.get_tenant(tenant.id) == tenant
    finally:
        await store.close()


@pytest.mark.parametrize("steps", range(1, 8))
async def test_a_cancelled_transaction_leaves_nothing_locked(db: Database, db_url: str, steps: int):
    """Cancelled while beginning, inside or committing: the next writer, here or elsewhere, proceeds."""

    async def write() -> None:
        async with db.transaction() as tx:
            await tx.execute("UPDATE t SET i = i + 1")
            await tx.execute("UPDATE t SET i = i + 1")

    task = asyncio.create_task(write())
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    other = await connect(db_url)
    try:
        async with asyncio.timeout(5):
            async with other.transaction() as tx:
                await tx.execute("UPDATE t SET s = 'other'")
            async with db.transaction() as tx:
                await tx.execute("UPDATE t SET s = 'again'")
    finally:
        await other.close()
    assert await db.fetchval("SELECT i FROM t") in (1000, 1002)  # all or nothing
