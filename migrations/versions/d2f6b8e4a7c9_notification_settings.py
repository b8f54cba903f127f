"""notification settings (per type and channel, digest pace, quiet hours in a time zone) and
email digests (notifications.digested_at, settings.last_digest_at)

Revision ID: d2f6b8e4a7c9
Revises: c5e9a3f7b1d2
Create Date: 2026-12-07 17:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d2f6b8e4a7c9"
down_revision = "c5e9a3f7b1d2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column(
            "email_digest",
            sa.Enum("OFF", "HOURLY", "DAILY", name="email_digest", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_settings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("digested_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_notifications_undigested",
        "notifications",
        ["created_at", "recipient_id"],
        postgresql_where=sa.text("read_at IS NULL AND digested_at IS NULL"),
        sqlite_where=sa.text("read_at IS NULL AND digested_at IS NULL"),
    )


def downgrade():
    op.drop_index("ix_notifications_undigested", table_name="notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("digested_at")
    op.drop_table("notification_settings")
