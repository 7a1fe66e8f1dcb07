"""Catalogue indexes: a tenant's assets list in index order whatever the filter, at any catalogue size.

- The sort orders (created, updated, size, title as read) are indexed with ``id`` after the sort key,
  the listing's tie-break, so a page is read off the index with no sort.
- ``asset_tags`` (one row per tag) and ``asset_metadata`` (one row per key/value pair, string values)
  index what ``assets.tags`` and ``assets.metadata`` hold, by tenant; the tag and metadata filters
  look them up instead of scanning JSON.
- ``asset_counts``: how many assets a tenant has of each kind in each status, so a listing without
  tag, metadata, search or folder filter counts its total from a few rows.
- Search (case-insensitive substring of title, description, tags): on PostgreSQL, pg_trgm GIN indexes
  on ``lower(title)``, ``lower(description)`` and ``lower(tags::text)``; on SQLite an FTS5 trigram table
  ``asset_search`` (rowids from ``asset_search_rows``, which has an ``INTEGER PRIMARY KEY``, so VACUUM
  cannot renumber them).
- Triggers keep the side tables, the counts and the FTS table in step with every write to ``assets``,
  whichever code makes it; existing rows are copied in here.
- ``folders`` gets one row per (tenant, parent, name): duplicates made by concurrent writers before
  are merged (their subfolders moved to the oldest), and a unique index keeps it so.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: The old sort indexes (tenant, key) and the new ones (tenant, key, id).
SORT_INDEXES = {
    "assets_tenant": "created_at",
    "assets_tenant_updated": "updated_at",
    "assets_tenant_size": "size",
    "assets_tenant_title": "lower(title)",
}
#: The columns search matches, as the listing's query reads them on PostgreSQL.
SEARCH_EXPRESSIONS = {
    "assets_search_title": "lower(title)",
    "assets_search_description": "lower(description)",
    "assets_search_tags": "lower(CAST(tags AS TEXT))",
}

SQLITE_TRIGGERS = [
    # tags and metadata
    """CREATE TRIGGER assets_terms_insert AFTER INSERT ON assets BEGIN
        INSERT OR IGNORE INTO asset_tags (asset_id, tenant_id, tag)
            SELECT new.id, new.tenant_id, value FROM json_each(new.tags)
            WHERE type = 'text' AND json_type(new.tags) = 'array';
        INSERT OR IGNORE INTO asset_metadata (asset_id, tenant_id, key, value)
            SELECT new.id, new.tenant_id, key, value FROM json_each(new.metadata)
            WHERE type = 'text' AND json_type(new.metadata) = 'object';
    END""",
    """CREATE TRIGGER assets_terms_update AFTER UPDATE OF tags, metadata ON assets BEGIN
        DELETE FROM asset_tags WHERE asset_id = old.id;
        DELETE FROM asset_metadata WHERE asset_id = old.id;
        INSERT OR IGNORE INTO asset_tags (asset_id, tenant_id, tag)
            SELECT new.id, new.tenant_id, value FROM json_each(new.tags)
            WHERE type = 'text' AND json_type(new.tags) = 'array';
        INSERT OR IGNORE INTO asset_metadata (asset_id, tenant_id, key, value)
            SELECT new.id, new.tenant_id, key, value FROM json_each(new.metadata)
            WHERE type = 'text' AND json_type(new.metadata) = 'object';
    END""",
    # counts
    """CREATE TRIGGER assets_count_insert AFTER INSERT ON assets BEGIN
        INSERT INTO asset_counts (tenant_id, kind, status, n) VALUES (new.tenant_id, new.kind, new.status, 1)
            ON CONFLICT (tenant_id, kind, status) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER assets_count_update AFTER UPDATE OF status, kind ON assets
        WHEN old.status IS NOT new.status OR old.kind IS NOT new.kind BEGIN
        UPDATE asset_counts SET n = n - 1
            WHERE tenant_id = old.tenant_id AND kind = old.kind AND status = old.status;
        INSERT INTO asset_counts (tenant_id, kind, status, n) VALUES (new.tenant_id, new.kind, new.status, 1)
            ON CONFLICT (tenant_id, kind, status) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER assets_count_delete AFTER DELETE ON assets BEGIN
        UPDATE asset_counts SET n = n - 1
            WHERE tenant_id = old.tenant_id AND kind = old.kind AND status = old.status;
    END""",
    # search
    """CREATE TRIGGER assets_search_insert AFTER INSERT ON assets BEGIN
        INSERT INTO asset_search_rows (asset_id) VALUES (new.id);
        INSERT INTO asset_search (rowid, title, description, tags)
            VALUES ((SELECT id FROM asset_search_rows WHERE asset_id = new.id), new.title, new.description, new.tags);
    END""",
    """CREATE TRIGGER assets_search_update AFTER UPDATE OF title, description, tags ON assets BEGIN
        UPDATE asset_search SET title = new.title, description = new.description, tags = new.tags
            WHERE rowid = (SELECT id FROM asset_search_rows WHERE asset_id = new.id);
    END""",
    # an asset deleted takes its asset_search_rows row with it (foreign key), and that row its FTS row
    """CREATE TRIGGER asset_search_rows_delete AFTER DELETE ON asset_search_rows BEGIN
        DELETE FROM asset_search WHERE rowid = old.id;
    END""",
]

POSTGRESQL_FUNCTIONS = [
    """CREATE FUNCTION assets_index_terms() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM asset_tags WHERE asset_id = OLD.id;
            DELETE FROM asset_metadata WHERE asset_id = OLD.id;
        END IF;
        INSERT INTO asset_tags (asset_id, tenant_id, tag)
            SELECT NEW.id, NEW.tenant_id, e #>> '{}'
            FROM json_array_elements(CASE WHEN json_typeof(NEW.tags) = 'array' THEN NEW.tags ELSE '[]' END) e
            WHERE json_typeof(e) = 'string'
            ON CONFLICT DO NOTHING;
        INSERT INTO asset_metadata (asset_id, tenant_id, key, value)
            SELECT NEW.id, NEW.tenant_id, m.key, m.value #>> '{}'
            FROM json_each(CASE WHEN json_typeof(NEW.metadata) = 'object' THEN NEW.metadata ELSE '{}' END) m
            WHERE json_typeof(m.value) = 'string'
            ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    # The two counter rows of a status change are locked in one order (by status name), so two
    # transactions moving assets between the same states cannot deadlock on them.
    """CREATE FUNCTION assets_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.status < OLD.status) THEN
            INSERT INTO asset_counts (tenant_id, kind, status, n) VALUES (NEW.tenant_id, NEW.kind, NEW.status, 1)
                ON CONFLICT (tenant_id, kind, status) DO UPDATE SET n = asset_counts.n + 1;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE asset_counts SET n = n - 1
                WHERE tenant_id = OLD.tenant_id AND kind = OLD.kind AND status = OLD.status;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.status >= OLD.status THEN
            INSERT INTO asset_counts (tenant_id, kind, status, n) VALUES (NEW.tenant_id, NEW.kind, NEW.status, 1)
                ON CONFLICT (tenant_id, kind, status) DO UPDATE SET n = asset_counts.n + 1;
        END IF;
        RETURN NULL;
    END $$""",
]
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER assets_terms AFTER INSERT OR UPDATE OF tags, metadata ON assets"
    " FOR EACH ROW EXECUTE FUNCTION assets_index_terms()",
    "CREATE TRIGGER assets_count AFTER INSERT OR DELETE ON assets FOR EACH ROW EXECUTE FUNCTION assets_count()",
    "CREATE TRIGGER assets_count_update AFTER UPDATE OF status, kind ON assets FOR EACH ROW"
    " WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.kind IS DISTINCT FROM NEW.kind)"
    " EXECUTE FUNCTION assets_count()",
]


def _tenant_fk() -> sa.Column:
    return sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


def _asset_fk() -> sa.Column:
    return sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)


def _merge_duplicate_folders(conn: sa.Connection) -> None:
    """One folder per (tenant, parent, name): the oldest stays, the others' subfolders move into it
    and they go (repeated, since merged subfolders can be duplicates of each other in turn)."""
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, tenant_id, coalesce(parent_id, '') AS parent, name FROM folders f WHERE EXISTS ("
                " SELECT 1 FROM folders g WHERE g.tenant_id = f.tenant_id AND g.name = f.name"
                " AND coalesce(g.parent_id, '') = coalesce(f.parent_id, '') AND g.id <> f.id)"
                " ORDER BY tenant_id, parent, name, created_at, id"
            )
        ).all()
        if not rows:
            return
        keep: dict[tuple[str, str, str], str] = {}
        for row in rows:
            group = (row.tenant_id, row.parent, row.name)
            if group not in keep:
                keep[group] = row.id
                continue
            conn.execute(
                sa.text("UPDATE folders SET parent_id = :keep WHERE parent_id = :gone"),
                {"keep": keep[group], "gone": row.id},
            )
            conn.execute(sa.text("DELETE FROM folders WHERE id = :gone"), {"gone": row.id})


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, key in SORT_INDEXES.items():
        op.drop_index(name, "assets")
        op.create_index(name, "assets", ["tenant_id", sa.text(key), "id"])

    op.create_table(
        "asset_tags",
        _asset_fk(),
        sa.Column("tag", sa.Text, primary_key=True),
        _tenant_fk(),
    )
    op.create_index("asset_tags_lookup", "asset_tags", ["tenant_id", "tag", "asset_id"])
    op.create_table(
        "asset_metadata",
        _asset_fk(),
        sa.Column("key", sa.Text, primary_key=True),
        _tenant_fk(),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_index("asset_metadata_lookup", "asset_metadata", ["tenant_id", "key", "value", "asset_id"])
    op.create_table(
        "asset_counts",
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO asset_counts (tenant_id, kind, status, n)"
        " SELECT tenant_id, kind, status, count(*) FROM assets GROUP BY tenant_id, kind, status"
    )

    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in SEARCH_EXPRESSIONS.items():
            op.execute(f"CREATE INDEX {name} ON assets USING gin (({expression}) gin_trgm_ops)")
        for statement in [*POSTGRESQL_FUNCTIONS, *POSTGRESQL_TRIGGERS]:
            op.execute(statement)
        op.execute(
            "INSERT INTO asset_tags (asset_id, tenant_id, tag) SELECT DISTINCT a.id, a.tenant_id, e #>> '{}'"
            " FROM assets a, json_array_elements(a.tags) e"
            " WHERE json_typeof(a.tags) = 'array' AND json_typeof(e) = 'string'"
        )
        op.execute(
            "INSERT INTO asset_metadata (asset_id, tenant_id, key, value)"
            " SELECT a.id, a.tenant_id, m.key, m.value #>> '{}' FROM assets a, json_each(a.metadata) m"
            " WHERE json_typeof(a.metadata) = 'object' AND json_typeof(m.value) = 'string' ON CONFLICT DO NOTHING"
        )
    else:
        op.execute(
            "CREATE TABLE asset_search_rows (id INTEGER PRIMARY KEY,"
            " asset_id TEXT NOT NULL UNIQUE REFERENCES assets (id) ON DELETE CASCADE)"
        )
        op.execute("CREATE VIRTUAL TABLE asset_search USING fts5(title, description, tags, tokenize='trigram')")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute(
            "INSERT INTO asset_tags (asset_id, tenant_id, tag) SELECT DISTINCT a.id, a.tenant_id, e.value"
            " FROM assets a, json_each(a.tags) e WHERE e.type = 'text' AND json_type(a.tags) = 'array'"
        )
        op.execute(
            "INSERT OR IGNORE INTO asset_metadata (asset_id, tenant_id, key, value)"
            " SELECT a.id, a.tenant_id, e.key, e.value FROM assets a, json_each(a.metadata) e"
            " WHERE e.type = 'text' AND json_type(a.metadata) = 'object'"
        )
        op.execute("INSERT INTO asset_search_rows (asset_id) SELECT id FROM assets ORDER BY created_at, id")
        op.execute(
            "INSERT INTO asset_search (rowid, title, description, tags)"
            " SELECT r.id, a.title, a.description, a.tags FROM asset_search_rows r JOIN assets a ON a.id = r.asset_id"
        )
        # the planner's statistics, which SQLite has none of until asked (origin.store.db.Database.analyze)
        op.execute("PRAGMA analysis_limit=1000")
        op.execute("ANALYZE")

    _merge_duplicate_folders(op.get_bind())
    op.create_index("folders_name", "folders", ["tenant_id", sa.text("coalesce(parent_id, '')"), "name"], unique=True)


def downgrade() -> None:
    op.drop_index("folders_name", "folders")
    if op.get_bind().dialect.name == "postgresql":
        for trigger in ("assets_terms", "assets_count", "assets_count_update"):
            op.execute(f"DROP TRIGGER {trigger} ON assets")
        op.execute("DROP FUNCTION assets_index_terms()")
        op.execute("DROP FUNCTION assets_count()")
        for name in SEARCH_EXPRESSIONS:
            op.drop_index(name, "assets")
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute("DROP TRIGGER " + statement.split()[2])
        op.execute("DROP TABLE asset_search")
        op.execute("DROP TABLE asset_search_rows")
    for table in ("asset_counts", "asset_metadata", "asset_tags"):
        op.drop_table(table)
    for name, key in SORT_INDEXES.items():
        op.drop_index(name, "assets")
        op.create_index(name, "assets", ["tenant_id", sa.text(key)])
