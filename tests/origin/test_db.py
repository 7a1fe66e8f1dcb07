"""The database under the store behaves alike on SQLite and PostgreSQL: binding, results, errors,
transactions, and migrations when several processes start at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from origin.state import OriginState
from origin.store import IntegrityError, open_store
from origin.store.db import Database, UniqueViolation
from origin.store.migrate import head, migrate, schema_revision
from origin.store.schema import JSON, Timestamp, now
from tests.fixtures.legacy import legacy_database
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio

metadata = sa.MetaData()
parent = sa.Table("parent", metadata, sa.Column("id", sa.Text, primary_key=True))
t = sa.Table(
    "t",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("parent", sa.Text, sa.ForeignKey("parent.id")),
    sa.Column("i", sa.BigInteger, nullable=False),
    sa.Column("f", sa.Double),
    sa.Column("s", sa.Text),
    sa.Column("flag", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("doc", JSON),
    sa.Column("at", Timestamp),
)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    async with database.transaction() as tx:
        await tx.run_sync(metadata.create_all)
        await tx.execute(sa.insert(t).values(id=1, i=1000, f=2.5, s="5", flag=True))
    try:
        yield database
    finally:
        await database.close()


async def count(db: Database, *where: sa.ColumnElement[bool]) -> int:
    return int((await db.execute(sa.select(sa.func.count()).select_from(t).where(*where))).scalar_one())


async def value(db: Database, column: sa.Column, row_id: int = 1):  # type: ignore[type-arg]
    return (await db.execute(sa.select(column).where(t.c.id == row_id))).scalar()


async def test_floats_compare_with_integer_columns_exactly(db: Database):
    assert await count(db, t.c.i < 1000.5) == 1  # asyncpg alone truncates 1000.5 to 1000
    assert await count(db, t.c.i >= 999.5) == 1
    assert await count(db, t.c.i > 1000.0) == 0
    assert await count(db, t.c.f > 2) == 1


async def test_typed_columns_give_back_what_was_bound(db: Database):
    """Booleans, JSON (key order kept) and timestamps round-trip alike, in and out of transactions."""
    at = now()
    doc = {"z": 1, "a": [True, None, "x"], "m": {"k": 2.5}}
    assert await count(db, t.c.flag.is_(True)) == 1
    async with db.transaction() as tx:
        await tx.execute(sa.update(t).where(t.c.id == 1).values(doc=doc, at=at, flag=False, s="6"))
        assert (await tx.execute(sa.select(t.c.s).where(t.c.id == 1))).scalar() == "6"
    assert list((await value(db, t.c.doc)).items()) == list(doc.items())
    assert await value(db, t.c.at) == at and isinstance(await value(db, t.c.at), float)
    assert await value(db, t.c.flag) is False
    assert await count(db, t.c.at <= at, t.c.at > at - 0.001) == 1
    await db.execute(sa.insert(t).values(id=2, i=1, doc=None))
    assert await count(db, t.c.doc.is_(None)) == 1  # None is SQL NULL, not JSON null


async def test_result_types_match(db: Database):
    await db.execute(sa.insert(t).values(id=2, i=20_000_000_000, f=1))
    totals = sa.select(
        sa.cast(sa.func.sum(t.c.i), sa.BigInteger).label("total"),
        sa.func.avg(t.c.i, type_=sa.Double).label("mean"),
        sa.func.count().label("n"),
        sa.func.max(t.c.f).label("top"),
    )
    row = dict((await db.execute(totals)).mappings().one())
    assert row == {"total": 20_000_001_000, "mean": 10_000_000_500.0, "n": 2, "top": 2.5}
    assert [type(v) for v in row.values()] == [int, float, int, float]
    assert (await db.execute(sa.select(t.c.f).where(t.c.id == 2))).mappings().one() == {"f": 1.0}  # int bound
    assert (await db.execute(sa.select(t).where(t.c.id == 3))).first() is None
    assert (await db.execute(sa.update(t).where(t.c.i > 0).values(flag=True))).rowcount == 2


async def test_constraint_failures_raise_integrity_errors(db: Database):
    with pytest.raises(UniqueViolation):
        await db.execute(sa.insert(t).values(id=1, i=1))
    with pytest.raises(IntegrityError) as info:
        await db.execute(sa.insert(t).values(id=2, i=1, parent="ghost"))
    assert not isinstance(info.value, UniqueViolation)
    with pytest.raises(IntegrityError):
        await db.execute(sa.insert(t).values(id=3, i=None))


async def test_a_failed_transaction_rolls_back(db: Database):
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute(sa.update(t).values(i=0))
            raise RuntimeError("boom")
    assert await count(db, t.c.i == 1000) == 1


async def test_transactions_of_two_processes_never_interleave(db: Database, db_url: str):
    """Read-modify-write of a row read ``FOR UPDATE`` loses no update (SQLite: BEGIN IMMEDIATE)."""
    other = Database.open(db_url)

    async def increment(database: Database) -> None:
        async with database.transaction() as tx:
            current = (await tx.execute(sa.select(t.c.i).where(t.c.id == 1).with_for_update())).scalar_one()
            await asyncio.sleep(0.02)
            await tx.execute(sa.update(t).where(t.c.id == 1).values(i=current + 1))

    try:
        await asyncio.gather(*(increment(d) for d in [db, other] * 4))
    finally:
        await other.close()
    assert await value(db, t.c.i) == 1008


async def test_processes_starting_together_migrate_once(db_url: str):
    databases = [Database.open(db_url) for _ in range(4)]
    try:
        revisions = await asyncio.gather(*(migrate(d) for d in databases))
        versions = (await databases[0].execute(sa.text("SELECT version_num FROM alembic_version"))).scalars().all()
    finally:
        for database in databases:
            await database.close()
    assert revisions == [head()] * 4
    assert versions == [head()]


async def test_a_lower_numbered_migration_that_lands_later_still_runs(db_url: str):
    """A database of an earlier release that lacks legacy migration 2 (the jobs table) gets it."""
    await legacy_database(db_url, versions=[v for v in range(1, 9) if v != 2])
    database = Database.open(db_url)
    try:
        await migrate(database)
        assert (await database.execute(sa.text("SELECT COUNT(*) AS n FROM jobs"))).scalar() == 0
    finally:
        await database.close()


@pytest.mark.parametrize("migrate_on_start", [True, False])
async def test_origin_state_honours_migrate_on_start(db_url: str, tmp_path: Path, migrate_on_start):
    database = Database.open(db_url)
    await migrate(database, "0001")
    await database.close()
    settings = make_settings(tmp_path, database={"url": db_url, "migrate_on_start": migrate_on_start})
    state = await OriginState.open(settings)
    try:
        revision = await schema_revision(state.store.db)
    finally:
        await state.close()
    assert revision == (head() if migrate_on_start else "0001")


async def test_a_pool_of_one_connection_migrates_and_runs_transactions(db_url: str):
    store = await open_store(db_url, pool_min=1, pool_max=1)
    try:
        tenant, _ = await store.tenants.create("acme", "local")
        assert await store.tenants.get(tenant.id) == tenant
    finally:
        await store.close()


@pytest.mark.parametrize("steps", range(1, 8))
async def test_a_cancelled_transaction_leaves_nothing_locked(db: Database, db_url: str, steps: int):
    """Cancelled while beginning, inside or committing: the next writer, here or elsewhere, proceeds."""

    async def write() -> None:
        async with db.transaction() as tx:
            await tx.execute(sa.update(t).values(i=t.c.i + 1))
            await tx.execute(sa.update(t).values(i=t.c.i + 1))

    task = asyncio.create_task(write())
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    other = Database.open(db_url)
    try:
        async with asyncio.timeout(5):
            async with other.transaction() as tx:
                await tx.execute(sa.update(t).values(s="other"))
            async with db.transaction() as tx:
                await tx.execute(sa.update(t).values(s="again"))
    finally:
        await other.close()
    assert await value(db, t.c.i) in (1000, 1002)  # all or nothing


async def test_analyze_gives_the_planner_statistics_of_the_rows_there(db: Database):
    async with db.transaction() as tx:
        await tx.execute(sa.insert(t), [{"id": i, "i": i % 3} for i in range(2, 200)])
    await db.analyze()
    if db.dialect == "sqlite":
        stats = await db.execute(sa.text("SELECT stat FROM sqlite_stat1 WHERE tbl = 't'"))
        rows = [int(row[0].split()[0]) for row in stats]
    else:
        stats = await db.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 't'"))
        rows = [int(row[0]) for row in stats]
    assert rows and set(rows) == {199}
