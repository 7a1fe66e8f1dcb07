"""Tenant names are unique, so ``mediaedge tenant update NAME`` names one tenant.

Tenants that shared a name keep it in creation order: the oldest keeps the name, each later one
becomes ``NAME-<its id>`` (ids are unique), so no tenant is lost and the index can be built.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE tenants SET name = name || '-' || id WHERE EXISTS (SELECT 1 FROM tenants AS older"
        " WHERE older.name = tenants.name AND (older.created_at < tenants.created_at"
        " OR (older.created_at = tenants.created_at AND older.id < tenants.id)))"
    )
    op.create_index("tenants_name", "tenants", ["name"], unique=True)
