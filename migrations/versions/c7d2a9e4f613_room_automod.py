"""room automod: each room's AutoMod rules (section 11), none until set

Revision ID: c7d2a9e4f613
Revises: b3e8f1a6c402
Create Date: 2026-11-30 06:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c7d2a9e4f613"
down_revision = "b3e8f1a6c402"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("automod", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("automod")
