"""message mentions: the ids of the members a message's text @mentions

Existing messages start with none: usernames did not exist when they were written, so no
text of theirs was addressed to one.

Revision ID: 7c2e4b1f0a93
Revises: 5a1c0e7d9b21
Create Date: 2026-11-30 03:25:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7c2e4b1f0a93"
down_revision = "5a1c0e7d9b21"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentions", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("mentions")
