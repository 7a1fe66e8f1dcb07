"""The tag and metadata filters answer from their side tables alone.

``asset_tags`` and ``asset_metadata`` (revision 0012) held only which assets have a tag or a
metadata pair, so a filtered listing looked every match up in ``assets`` by id to check its kind
and status and to sort it: a cost per match, for the count and for the page. They now carry what a
listing filters and sorts on — ``kind``, ``status``, ``created_at``, ``updated_at``, ``sort_title``
(``lower(title)``, as titles sort) and ``size`` — with one index per sort order, each ending with
``asset_id`` (the tie-break) and then ``kind`` and ``status``, so the count is a range of one index
and a page is read off another in order, with no lookup into ``assets`` for the rows skipped.

The two tables are made again with the new columns (NOT NULL, which SQLite cannot add to a table
in place) and filled from ``assets``, their source of truth. The triggers on ``assets`` that keep
them in step now also copy those columns: on every insert, on every change of tags or metadata
(rows made again), and on every change of kind, status, title, size or the timestamps (rows
updated in place), whichever code makes the write.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

#: POSIX seconds on SQLite, timestamptz on PostgreSQL (as revision 0002 made every timestamp).
Timestamp = sa.Double().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

#: The carried columns and the expression of ``assets`` each copies, ``{r}`` the row (``new``, ``a``).
CARRIED = {
    "kind": "{r}.kind",
    "status": "{r}.status",
    "created_at": "{r}.created_at",
    "updated_at": "{r}.updated_at",
    "sort_title": "lower({r}.title)",
    "size": "{r}.size",
}
#: The sort orders each side table is indexed in (index name suffix: column).
SORTS = {"created": "created_at", "updated": "updated_at", "title": "sort_title", "size": "size"}
#: Each side table, the columns that pick its rows before the sort key, its old lookup index.
TABLES = {
    "asset_tags": (["tenant_id", "tag"], "asset_tags_lookup"),
    "asset_metadata": (["tenant_id", "key", "value"], "asset_metadata_lookup"),
}
#: The columns a side table's row is made of, in the order the SELECTs below give them.
TAG_COLUMNS = ["asset_id", "tenant_id", "tag", *CARRIED]
METADATA_COLUMNS = ["asset_id", "tenant_id", "key", "value", *CARRIED]

#: The rows of an asset ``{r}`` read from ``{source}`` (empty in a trigger, ``assets a,`` to fill).
SQLITE_ROWS = {
    "asset_tags": "SELECT {r}.id, {r}.tenant_id, e.value, {carried} FROM {source} json_each({r}.tags) e"
    " WHERE e.type = 'text' AND json_type({r}.tags) = 'array'",
    "asset_metadata": "SELECT {r}.id, {r}.tenant_id, e.key, e.value, {carried} FROM {source} json_each({r}.metadata) e"
    " WHERE e.type = 'text' AND json_type({r}.metadata) = 'object'",
}
POSTGRESQL_ROWS = {
    "asset_tags": "SELECT {r}.id, {r}.tenant_id, e #>> '{{}}', {carried} FROM {source}"
    " json_array_elements(CASE WHEN json_typeof({r}.tags) = 'array' THEN {r}.tags ELSE '[]' END) e"
    " WHERE json_typeof(e) = 'string'",
    "asset_metadata": "SELECT {r}.id, {r}.tenant_id, m.key, m.value #>> '{{}}', {carried} FROM {source}"
    " json_each(CASE WHEN json_typeof({r}.metadata) = 'object' THEN {r}.metadata ELSE '{{}}' END) m"
    " WHERE json_typeof(m.value) = 'string'",
}
COLUMNS = {"asset_tags": TAG_COLUMNS, "asset_metadata": METADATA_COLUMNS}


def _insert(postgresql: bool, table: str, r: str, source: str = "") -> str:
    """Insert the rows of asset ``r`` into ``table`` (a row there already is kept: a tag listed twice)."""
    carried = ", ".join(expression.format(r=r) for expression in CARRIED.values())
    rows = (POSTGRESQL_ROWS if postgresql else SQLITE_ROWS)[table].format(r=r, source=source, carried=carried)
    columns = ", ".join(COLUMNS[table])
    if postgresql:
        return f"INSERT INTO {table} ({columns}) {rows} ON CONFLICT DO NOTHING"
    return f"INSERT OR IGNORE INTO {table} ({columns}) {rows}"


def _carry(table: str, r: str) -> str:
    """Copy the carried columns of asset ``r`` onto its rows of ``table``."""
    values = ", ".join(f"{name} = {expression.format(r=r)}" for name, expression in CARRIED.items())
    return f"UPDATE {table} SET {values} WHERE asset_id = {r}.id"  # noqa: S608 (this module's constants)


def _sqlite_triggers() -> list[str]:
    terms = "; ".join(_insert(False, table, "new") for table in TABLES)
    forget = "; ".join(f"DELETE FROM {table} WHERE asset_id = old.id" for table in TABLES)  # noqa: S608 (constants)
    return [
        f"CREATE TRIGGER assets_terms_insert AFTER INSERT ON assets BEGIN {terms}; END",
        f"CREATE TRIGGER assets_terms_update AFTER UPDATE OF tags, metadata ON assets BEGIN {forget}; {terms}; END",
        # fires with the one above when both kinds of column change: either order ends the same
        "CREATE TRIGGER assets_terms_carry AFTER UPDATE OF kind, status, title, size, created_at, updated_at"
        f" ON assets BEGIN {'; '.join(_carry(table, 'new') for table in TABLES)}; END",
    ]


def _postgresql_function() -> str:
    same_terms = " AND ".join(f"NEW.{c}::text IS NOT DISTINCT FROM OLD.{c}::text" for c in ("tags", "metadata"))
    carry = " ".join(f"{_carry(table, 'NEW')};" for table in TABLES)
    terms = " ".join(f"{_insert(True, table, 'NEW')};" for table in TABLES)
    return f"""CREATE OR REPLACE FUNCTION assets_index_terms() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND {same_terms} THEN
            {carry}
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM asset_tags WHERE asset_id = OLD.id;
            DELETE FROM asset_metadata WHERE asset_id = OLD.id;
        END IF;
        {terms}
        RETURN NULL;
    END $$"""  # noqa: S608 (this module's constants)


POSTGRESQL_TRIGGER = (
    "CREATE TRIGGER assets_terms AFTER INSERT OR UPDATE OF tags, metadata, kind, status, title, size,"
    " created_at, updated_at ON assets FOR EACH ROW EXECUTE FUNCTION assets_index_terms()"
)


def _carried_columns() -> list[sa.Column]:
    return [
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("sort_title", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    ]


def _keys() -> tuple[sa.Column, sa.Column]:
    return (
        sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP TRIGGER assets_terms ON assets")
    else:
        for trigger in ("assets_terms_insert", "assets_terms_update"):
            op.execute(f"DROP TRIGGER {trigger}")
    for table in TABLES:
        op.drop_table(table)

    asset_id, tenant_id = _keys()
    op.create_table("asset_tags", asset_id, sa.Column("tag", sa.Text, primary_key=True), tenant_id, *_carried_columns())
    asset_id, tenant_id = _keys()
    op.create_table(
        "asset_metadata",
        asset_id,
        sa.Column("key", sa.Text, primary_key=True),
        tenant_id,
        sa.Column("value", sa.Text, nullable=False),
        *_carried_columns(),
    )
    for table in TABLES:
        op.execute(_insert(postgresql, table, "a", "assets a,"))
    for table, (picks, _) in TABLES.items():
        for suffix, column in SORTS.items():
            op.create_index(f"{table}_{suffix}", table, [*picks, column, "asset_id", "kind", "status"])

    if postgresql:
        op.execute(_postgresql_function())
        op.execute(POSTGRESQL_TRIGGER)
        op.execute("ANALYZE asset_tags")
        op.execute("ANALYZE asset_metadata")
    else:
        for statement in _sqlite_triggers():
            op.execute(statement)
        op.execute("PRAGMA analysis_limit=1000")
        op.execute("ANALYZE asset_tags")
        op.execute("ANALYZE asset_metadata")


def downgrade() -> None:
    """Back to revision 0012's side tables: its triggers, taken from that revision itself."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    before = context.script.get_revision("0012").module
    if postgresql:
        op.execute("DROP TRIGGER assets_terms ON assets")
    else:
        for statement in _sqlite_triggers():
            op.execute("DROP TRIGGER " + statement.split()[2])
    for table, (picks, lookup) in TABLES.items():
        for suffix in SORTS:
            op.drop_index(f"{table}_{suffix}", table)
        for column in CARRIED:
            op.drop_column(table, column)
        op.create_index(lookup, table, [*picks, "asset_id"])
    if postgresql:
        op.execute(before.POSTGRESQL_FUNCTIONS[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
        op.execute(before.POSTGRESQL_TRIGGERS[0])
    else:
        for statement in before.SQLITE_TRIGGERS[:2]:
            op.execute(statement)
