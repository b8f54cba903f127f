"""partial message indexes: the thread index holds replies only, the popular-tracks index track cards only

Every message paid for an entry in both indexes, though threads look up replies by their
parent and the popular tracks read track cards by date: a plain text (most of chat) had two
index entries nobody reads, written inside the room's store (0.1-0.2 ms of a lone message's
statement on PostgreSQL, bench/README.md). The new indexes are built CONCURRENTLY before the old
ones go, so writes and reads go on meanwhile.

Revision ID: c3f8a2d6e9b1
Revises: b9d4e7a3c1f5
Create Date: 2026-12-06 11:20:00

"""

import contextlib

from alembic import op

revision = "c3f8a2d6e9b1"
down_revision = "b9d4e7a3c1f5"
branch_labels = None
depends_on = None

# (name, columns, the rows it holds): as seda/chat/models.py declares them.
PARTIAL = (
    ("ix_messages_replies_parent_id_seq", "parent_id, seq", "parent_id IS NOT NULL"),
    ("ix_messages_track_cards_created_at", "created_at", "type = 'TRACK_CARD'"),
)
WHOLE = (
    ("ix_messages_parent_id_seq", "parent_id, seq"),
    ("ix_messages_type_created_at", "type, created_at"),
)


def upgrade():
    _replace([f"{name} ON messages ({columns}) WHERE {rows}" for name, columns, rows in PARTIAL], [n for n, _ in WHOLE])


def downgrade():
    _replace([f"{name} ON messages ({columns})" for name, columns in WHOLE], [n for n, _, _ in PARTIAL])


def _replace(indexes, dropped):
    """Build `indexes` ("name ON table (columns) ..."), then drop `dropped`; on PostgreSQL
    CONCURRENTLY, which cannot run inside a transaction."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    concurrently = "CONCURRENTLY " if postgresql else ""
    with op.get_context().autocommit_block() if postgresql else contextlib.nullcontext():
        for index in indexes:
            op.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {index}")
        for name in dropped:
            op.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")
