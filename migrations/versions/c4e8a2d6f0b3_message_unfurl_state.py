"""messages.unfurl: where a music link's background unfurl stands (PENDING, DONE, FAILED)

A link whose unfurl failed stayed plain text with no word to the client, and a client could not
tell "not yet" from "never" (#42 item 10, API.md §3's Message `unfurl`). A nullable column: no
rewrite of the table on PostgreSQL; existing messages read null (no unfurl pending). The sweep
finds the PENDING ones a lost retry left behind by a partial index that holds only those (built
CONCURRENTLY: the table is the largest).

Revision ID: c4e8a2d6f0b3
Revises: a7c3e9f1b5d4
Create Date: 2026-12-07 23:20:00

"""

import contextlib

import sqlalchemy as sa
from alembic import op

revision = "c4e8a2d6f0b3"
down_revision = "a7c3e9f1b5d4"
branch_labels = None
depends_on = None

INDEX = "ix_messages_unfurl_pending_updated_at"


def upgrade():
    op.add_column("messages", sa.Column("unfurl", sa.String(8), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    concurrently = "CONCURRENTLY " if postgresql else ""
    with op.get_context().autocommit_block() if postgresql else contextlib.nullcontext():
        op.execute(
            f"CREATE INDEX {concurrently}IF NOT EXISTS {INDEX} ON messages (updated_at) WHERE unfurl = 'PENDING'"
        )


def downgrade():
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    # A plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of messages would break the search
    # view over it on SQLite.
    op.drop_column("messages", "unfurl")
