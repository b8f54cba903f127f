"""a spent refresh token remembers the token it was replaced by

Two browser tabs refreshing with the same token at once signed the user out everywhere: the
second refresh looked like a stolen token's replay. Within REFRESH_REUSE_GRACE_SECONDS the same
spent token now answers with the very pair it produced, rebuilt from the replacement's row.

Revision ID: a7c3e9f1b5d4
Revises: f3b7d1e9c5a2
Create Date: 2026-12-07 23:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a7c3e9f1b5d4"
down_revision = "f3b7d1e9c5a2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("replaced_by", sa.Uuid(), nullable=True))


def downgrade():
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("replaced_by")
