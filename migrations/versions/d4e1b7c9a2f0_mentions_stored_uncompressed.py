"""mentions stored uncompressed: PostgreSQL keeps a long mentions list out of line without pglz

A message that mentions 500 members carries 20 KB of ids; compressing them on every insert cost
~0.4 ms of the sender's ack (bench/mentions.py), for ids that compress by half at best. Short
lists stay inline either way. SQLite has no such setting.

Revision ID: d4e1b7c9a2f0
Revises: c7d2a9e4f613
Create Date: 2026-11-30 08:40:00

"""

from alembic import op

revision = "d4e1b7c9a2f0"
down_revision = "c7d2a9e4f613"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE messages ALTER COLUMN mentions SET STORAGE EXTERNAL")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE messages ALTER COLUMN mentions SET STORAGE EXTENDED")
