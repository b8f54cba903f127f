"""room history revision: counts the changes to a room's stored messages that do not add one

Edits, deletes, reactions and unfurled cards bump it in their transaction; with `last_seq` it
names one state of the room's history, so a rendered history page can be kept until either moves.

Revision ID: a8c5e2f1d9b3
Revises: f6a3d9c2b4e8
Create Date: 2026-11-30 14:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a8c5e2f1d9b3"
down_revision = "f6a3d9c2b4e8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("history_revision", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("history_revision")
