"""membership recent texts: the member's last texts in the room, for AutoMod's repeat rule

Written by the send's own statement with the member's read mark, and read with the membership
every send loads: the rule costs no round trip of its own (it was two, to the cache).

Revision ID: b9d4e7a3c1f5
Revises: a8c5e2f1d9b3
Create Date: 2026-11-30 20:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b9d4e7a3c1f5"
down_revision = "a8c5e2f1d9b3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("room_memberships") as batch:
        batch.add_column(sa.Column("recent_texts", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("room_memberships") as batch:
        batch.drop_column("recent_texts")
