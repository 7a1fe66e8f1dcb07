"""The editor's projects with their action history, render tasks and project imports.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from origin.store.schema import JSON, Timestamp

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("created_at", Timestamp, nullable=False), sa.Column("updated_at", Timestamp, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "editor_projects",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("data", JSON),
        sa.Column("thumbnail", sa.Text, nullable=False, server_default=""),
        sa.Column("create_time", sa.BigInteger, nullable=False),
        sa.Column("modif_time", sa.BigInteger, nullable=False),
        *_stamps(),
    )
    op.create_index("editor_projects_user", "editor_projects", ["tenant_id", "user_id", "create_time"])
    op.create_table(
        "editor_actions",
        sa.Column("project_id", sa.Text, sa.ForeignKey("editor_projects.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("data", JSON),
        sa.Column("canceled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("create_time", sa.BigInteger, nullable=False),
        sa.Column("modif_time", sa.BigInteger, nullable=False),
    )
    op.create_index("editor_actions_order", "editor_actions", ["project_id", "position"], unique=True)
    op.create_index("editor_actions_id", "editor_actions", ["id"])
    op.create_table(
        "editor_render_tasks",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("session_id", sa.Text),
        sa.Column("project_id", sa.Text),
        sa.Column("xtl", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("progress", sa.Double, nullable=False, server_default="0"),
        sa.Column("error", JSON),
        sa.Column("outputs", JSON, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("output_urls", JSON, nullable=False, server_default=sa.text("'[]'")),
        *_stamps(),
    )
    op.create_index("editor_render_tasks_tenant", "editor_render_tasks", ["tenant_id", "created_at"])
    op.create_table(
        "editor_project_imports",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("session_id", sa.Text),
        sa.Column("upload_id", sa.Text),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("fps", sa.Double),
        sa.Column("create_folder", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("progress", sa.Double, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("archive_key", sa.Text),
        *_stamps(),
    )


def downgrade() -> None:
    for table in ("editor_project_imports", "editor_render_tasks", "editor_actions", "editor_projects"):
        op.drop_table(table)
