"""invites: room_invites (links) and room_invitations (personal), notifications.invitation_id

Revision ID: c5e9a3f7b1d2
Revises: b7e2d4f8a1c3
Create Date: 2026-12-07 17:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c5e9a3f7b1d2"
down_revision = "b7e2d4f8a1c3"
branch_labels = None
depends_on = None

STATUSES = ("PENDING", "ACCEPTED", "DECLINED", "CANCELLED", "EXPIRED")


def upgrade():
    op.create_table(
        "room_invites",
        sa.Column("code", sa.String(length=43), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_invites_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_room_invites_created_by_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_room_invites")),
    )
    op.create_index("ix_room_invites_room_created", "room_invites", ["room_id", "created_at"])
    op.create_table(
        "room_invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("inviter_id", sa.Uuid(), nullable=False),
        sa.Column("invitee_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="invitation_status", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_invitations_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["inviter_id"], ["users.id"], name=op.f("fk_room_invitations_inviter_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["invitee_id"], ["users.id"], name=op.f("fk_room_invitations_invitee_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_invitations")),
    )
    op.create_index("ix_room_invitations_room_created", "room_invitations", ["room_id", "created_at"])
    op.create_index("ix_room_invitations_invitee_created", "room_invitations", ["invitee_id", "created_at"])
    op.create_index(
        "uq_room_invitations_pending",
        "room_invitations",
        ["room_id", "invitee_id"],
        unique=True,
        postgresql_where=sa.text("status = 'PENDING'"),
        sqlite_where=sa.text("status = 'PENDING'"),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("invitation_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_notifications_invitation_id_room_invitations"),
            "room_invitations",
            ["invitation_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("fk_notifications_invitation_id_room_invitations"), type_="foreignkey")
        batch.drop_column("invitation_id")
    op.drop_index("uq_room_invitations_pending", table_name="room_invitations")
    op.drop_index("ix_room_invitations_invitee_created", table_name="room_invitations")
    op.drop_index("ix_room_invitations_room_created", table_name="room_invitations")
    op.drop_table("room_invitations")
    op.drop_index("ix_room_invites_room_created", table_name="room_invites")
    op.drop_table("room_invites")
