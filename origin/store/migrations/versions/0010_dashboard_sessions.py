"""Dashboard sessions: one row per logged-in browser (a tenant's, or the operator's with no tenant),
keyed by the SHA-256 of its cookie token; webhook
attempts keep the start of the receiver's answer (``response_body``) for the delivery log.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: POSIX seconds on SQLite, timestamptz on PostgreSQL (as revision 0002 made every timestamp).
Timestamp = sa.Double().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE")),
        sa.Column("api_key_id", sa.Text),
        sa.Column("operator", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("csrf", sa.Text, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
    )
    op.create_index("dashboard_sessions_expires", "dashboard_sessions", ["expires_at"])
    op.create_index("dashboard_sessions_tenant", "dashboard_sessions", ["tenant_id"])
    op.add_column("webhook_attempts", sa.Column("response_body", sa.Text))


def downgrade() -> None:
    op.drop_column("webhook_attempts", "response_body")
    op.drop_table("dashboard_sessions")
