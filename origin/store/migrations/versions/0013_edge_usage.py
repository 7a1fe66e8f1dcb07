"""Edge usage: the cumulative requests and body bytes each edge process delivered per UTC day and
tenant, as the edges report them (``POST /_edge/usage``); one row per (edge, instance, day, tenant),
so a repeated report replaces its own row and a restarted edge (a new instance) adds rows.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: POSIX seconds on SQLite, timestamptz on PostgreSQL (as revision 0002 made every timestamp).
Timestamp = sa.Double().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edge_usage",
        sa.Column("edge", sa.Text, primary_key=True),
        sa.Column("instance", sa.Text, primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("region", sa.Text, nullable=False, server_default=""),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_index("edge_usage_tenant_day", "edge_usage", ["tenant_id", "day"])
    op.create_index("edge_usage_day", "edge_usage", ["day"])


def downgrade() -> None:
    op.drop_table("edge_usage")
