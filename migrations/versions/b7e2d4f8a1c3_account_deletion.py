"""account deletion: users.deleted_at / purge_at / purged_at; a purged account has no username

Revision ID: b7e2d4f8a1c3
Revises: a9d3c7e1f5b2
Create Date: 2026-12-07 16:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7e2d4f8a1c3"
down_revision = "a9d3c7e1f5b2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("purge_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column("username", existing_type=sa.String(length=30), nullable=True)
    # The sweep's query: accounts waiting for their purge, soonest first (few rows: partial).
    op.create_index(
        "ix_users_purge_due",
        "users",
        ["purge_at"],
        postgresql_where=sa.text("purge_at IS NOT NULL AND purged_at IS NULL"),
        sqlite_where=sa.text("purge_at IS NOT NULL AND purged_at IS NULL"),
    )


def downgrade():
    op.drop_index("ix_users_purge_due", table_name="users")
    op.execute(
        "UPDATE users SET username = 'purged_' || substr(replace(CAST(id AS TEXT), '-', ''), 1, 23) "
        "WHERE username IS NULL"
    )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username", existing_type=sa.String(length=30), nullable=False)
        batch.drop_column("purged_at")
        batch.drop_column("purge_at")
        batch.drop_column("deleted_at")
