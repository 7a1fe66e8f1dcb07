"""AI generations and each tenant's AI policy.

``ai_generations``: one row per distinct generation request (unique per tenant and idempotency key),
with its job, status, result and charge. ``ai_policies``: a tenant's own budgets and prompt block list.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from origin.store.schema import JSON, Timestamp

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_generations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("idem_key", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False, server_default=""),
        sa.Column("request", JSON, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("progress", sa.Double, nullable=False, server_default="0"),
        sa.Column("units", sa.Double, nullable=False, server_default="0"),
        sa.Column("job_id", sa.Text),
        sa.Column("asset_id", sa.Text),
        sa.Column("caption_id", sa.Text),
        sa.Column("result", JSON),
        sa.Column("error", sa.Text),
        sa.Column("error_code", sa.Text),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_index("ai_generations_idem", "ai_generations", ["tenant_id", "idem_key"], unique=True)
    op.create_index("ai_generations_usage", "ai_generations", ["tenant_id", "kind", "created_at"])
    op.create_index("ai_generations_user", "ai_generations", ["tenant_id", "user_id", "kind", "created_at"])
    op.create_table(
        "ai_policies",
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("budgets", JSON, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("blocklist", JSON, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("updated_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ai_policies")
    op.drop_table("ai_generations")
