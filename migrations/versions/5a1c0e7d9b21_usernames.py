"""usernames: every user gets a unique handle; given-up names are held for 30 days

Existing users are backfilled with a name derived as signup derives one (display name, else
the email's local part, folded to [a-z0-9_], a number appended until unique), oldest account
first, so the earliest keeps the plain name. The rule is copied here rather than imported:
a migration must keep doing what it did when the application code moves on.

Revision ID: 5a1c0e7d9b21
Revises: edb63cab904c
Create Date: 2026-11-30 02:30:00

"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "5a1c0e7d9b21"
down_revision = "edb63cab904c"
branch_labels = None
depends_on = None

RESERVED = {
    "admin",
    "administrator",
    "api",
    "everyone",
    "here",
    "me",
    "mod",
    "moderator",
    "null",
    "root",
    "seda",
    "staff",
    "support",
    "system",
}
BATCH = 5000


def _base_of(seed):
    if not seed:
        return None
    ascii_text = unicodedata.normalize("NFKD", seed).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9_]+", "_", ascii_text.lower()).strip("_")[:30].rstrip("_")
    if len(base) < 3 or base.isdigit():
        return None
    return base if base not in RESERVED else f"{base}_listener"[:30]


def _first_free(base, taken):
    if base not in taken:
        return base
    number = 2
    while True:
        candidate = base[: 30 - len(str(number))] + str(number)
        if candidate not in taken:
            return candidate
        number += 1


def _backfill(connection):
    users = sa.table(
        "users",
        sa.column("id", sa.Uuid()),
        sa.column("email", sa.String),
        sa.column("display_name", sa.String),
        sa.column("username", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = connection.execute(
        sa.select(users.c.id, users.c.display_name, users.c.email).order_by(users.c.created_at, users.c.id)
    ).all()
    taken, updates = set(), []
    for row in rows:
        local_part = row.email.split("@", 1)[0] if row.email else None
        base = _base_of(row.display_name) or _base_of(local_part) or "listener"
        name = _first_free(base, taken)
        taken.add(name)
        updates.append({"user_id": row.id, "name": name})
    statement = sa.update(users).where(users.c.id == sa.bindparam("user_id")).values(username=sa.bindparam("name"))
    for start in range(0, len(updates), BATCH):
        connection.execute(statement, updates[start : start + BATCH])


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("username_changed_at", sa.DateTime(timezone=True), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("username", existing_type=sa.String(length=30), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_username"), ["username"])
    op.create_table(
        "username_holds",
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_username_holds_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_username_holds")),
    )
    with op.batch_alter_table("username_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_username_holds_user_id"), ["user_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Prefix search (GET /users?q=): under a non-C database collation a btree serves LIKE 'q%'
        # only in the C collation (which also gives the byte order search pages by) or with the
        # pattern operator class; the unique index above serves neither.
        op.execute('CREATE INDEX ix_users_username_c ON users ((username COLLATE "C"))')
        op.execute("CREATE INDEX ix_users_display_name_pattern ON users (lower(display_name) text_pattern_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_users_display_name_pattern")
        op.execute("DROP INDEX ix_users_username_c")
    with op.batch_alter_table("username_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_username_holds_user_id"))
    op.drop_table("username_holds")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_username"), type_="unique")
        batch_op.drop_column("username_changed_at")
        batch_op.drop_column("username")
