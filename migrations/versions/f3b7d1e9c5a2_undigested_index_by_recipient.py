"""the digest check's partial index in recipient order

ix_notifications_undigested (created_at, recipient_id) held the right rows, but the check groups
and orders by recipient, and PostgreSQL preferred walking the much larger unread index in that
order (210 ms over 1,000,000 notifications, bench/digest_check.py). In recipient order the small
index serves the GROUP BY itself. Built CONCURRENTLY before the old one goes.

Revision ID: f3b7d1e9c5a2
Revises: e8c4a2f6d9b1
Create Date: 2026-12-07 20:00:00

"""

import contextlib

from alembic import op

revision = "f3b7d1e9c5a2"
down_revision = "e8c4a2f6d9b1"
branch_labels = None
depends_on = None

ROWS = "read_at IS NULL AND digested_at IS NULL"


def upgrade():
    _replace(
        f"ix_notifications_undigested_recipient ON notifications (recipient_id, created_at) WHERE {ROWS}",
        "ix_notifications_undigested",
    )


def downgrade():
    _replace(
        f"ix_notifications_undigested ON notifications (created_at, recipient_id) WHERE {ROWS}",
        "ix_notifications_undigested_recipient",
    )


def _replace(index, dropped):
    """Build `index` ("name ON table (columns) ..."), then drop `dropped`; on PostgreSQL
    CONCURRENTLY, which cannot run inside a transaction."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    concurrently = "CONCURRENTLY " if postgresql else ""
    with op.get_context().autocommit_block() if postgresql else contextlib.nullcontext():
        op.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {index}")
        op.execute(f"DROP INDEX {concurrently}IF EXISTS {dropped}")
