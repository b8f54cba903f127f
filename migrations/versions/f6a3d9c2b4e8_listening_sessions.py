"""listening sessions: sessions, their queue and skip votes (section 10); rooms.active_session_id

One ACTIVE session per room is the database's rule (a partial unique index), so two members
starting one at the same moment get one session and one 409.

Revision ID: f6a3d9c2b4e8
Revises: e5f2c8a1b3d7
Create Date: 2026-11-30 11:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f6a3d9c2b4e8"
down_revision = "e5f2c8a1b3d7"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'ACTIVE'")
STARTED = sa.text("started_at IS NOT NULL")


def upgrade():
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_session_id", sa.Uuid(), nullable=True))
    op.create_table(
        "listening_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("host_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status", sa.Enum("ACTIVE", "ENDED", name="session_status", native_enum=False, length=20), nullable=False
        ),
        sa.Column("playing_item_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_listening_sessions_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["host_id"], ["users.id"], name=op.f("fk_listening_sessions_host_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_sessions")),
    )
    op.create_index(
        "uq_listening_sessions_active_room",
        "listening_sessions",
        ["room_id"],
        unique=True,
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    op.create_index(
        "ix_listening_sessions_due", "listening_sessions", ["ends_at"], postgresql_where=ACTIVE, sqlite_where=ACTIVE
    )
    op.create_table(
        "session_queue_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("track_ref", sa.JSON(), nullable=False),
        sa.Column("track_url", sa.String(length=2048), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.Uuid(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "QUEUED",
                "PLAYING",
                "PLAYED",
                "SKIPPED",
                "REMOVED",
                name="queue_item_state",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["listening_sessions.id"],
            name=op.f("fk_session_queue_items_session_id_listening_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_session_queue_items_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["users.id"], name=op.f("fk_session_queue_items_added_by_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_queue_items")),
    )
    op.create_index("ix_session_queue_items_session_state", "session_queue_items", ["session_id", "state", "position"])
    op.create_index(
        "ix_session_queue_items_room_history",
        "session_queue_items",
        ["room_id", "started_at", "id"],
        postgresql_where=STARTED,
        sqlite_where=STARTED,
    )
    op.create_index("ix_session_queue_items_added_by", "session_queue_items", ["added_by"])
    op.create_table(
        "session_skip_votes",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["session_queue_items.id"],
            name=op.f("fk_session_skip_votes_item_id_session_queue_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_session_skip_votes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", "user_id", name=op.f("pk_session_skip_votes")),
    )


def downgrade():
    op.drop_table("session_skip_votes")
    op.drop_index("ix_session_queue_items_added_by", table_name="session_queue_items")
    op.drop_index("ix_session_queue_items_room_history", table_name="session_queue_items")
    op.drop_index("ix_session_queue_items_session_state", table_name="session_queue_items")
    op.drop_table("session_queue_items")
    op.drop_index("ix_listening_sessions_due", table_name="listening_sessions")
    op.drop_index("uq_listening_sessions_active_room", table_name="listening_sessions")
    op.drop_table("listening_sessions")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("active_session_id")
