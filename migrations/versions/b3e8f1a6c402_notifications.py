"""notifications: the inbox of section 8

Revision ID: b3e8f1a6c402
Revises: 9d4f6a2c8e15
Create Date: 2026-11-30 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b3e8f1a6c402"
down_revision = "9d4f6a2c8e15"
branch_labels = None
depends_on = None

UNREAD = sa.text("read_at IS NULL")


def upgrade():
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "MENTION",
                "REPLY",
                "DIRECT_MESSAGE",
                "VERIFICATION",
                name="notification_type",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("room_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("excerpt", sa.String(length=200), nullable=True),
        sa.Column("verification_request_id", sa.Uuid(), nullable=True),
        sa.Column("verification_status", sa.String(length=20), nullable=True),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_notifications_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_notifications_message_id_messages"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_notifications_recipient_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["verification_request_id"],
            ["verification_requests.id"],
            name=op.f("fk_notifications_verification_request_id_verification_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("recipient_id", "dedupe_key", name=op.f("uq_notifications_recipient_id_dedupe_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_message_id"), ["message_id"], unique=False)
        batch_op.create_index("ix_notifications_recipient_created", ["recipient_id", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_notifications_unread",
            ["recipient_id", "created_at", "id"],
            unique=False,
            postgresql_where=UNREAD,
            sqlite_where=UNREAD,
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_verification_request_id"), ["verification_request_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_verification_request_id"))
        batch_op.drop_index("ix_notifications_unread")
        batch_op.drop_index("ix_notifications_recipient_created")
        batch_op.drop_index(batch_op.f("ix_notifications_message_id"))
    op.drop_table("notifications")
