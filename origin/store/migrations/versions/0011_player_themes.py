"""Player themes: a tenant's named looks and defaults for the embed player (colours, logo, default
watermark, which controls show, autoplay/muted/loop), chosen by the embed page's ``player`` parameter
or a video's ``player_id``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from origin.store.schema import JSON, Timestamp

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "player_themes",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("background_color", sa.Text, nullable=False),
        sa.Column("text_color", sa.Text, nullable=False),
        sa.Column("accent_color", sa.Text, nullable=False),
        sa.Column("watermark", sa.Text, nullable=False, server_default=""),
        sa.Column("controls", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("buttons", JSON, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("autoplay", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("loop", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("logo_position", sa.Text, nullable=False, server_default="top-right"),
        sa.Column("logo", sa.LargeBinary),
        sa.Column("logo_type", sa.Text),
        sa.Column("logo_version", sa.Text),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_index("player_themes_tenant", "player_themes", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_table("player_themes")
