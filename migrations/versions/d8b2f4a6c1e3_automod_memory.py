"""automod memory: a membership's AutoMod memory is one value whose shape AutoMod owns

`recent_texts` (a list of [unix time, folded text]) becomes `automod_memory`, the object
{"texts": [...]}: a new rule that remembers something per member adds a key inside it, in
chat/automod.py alone, instead of a column, the store's statements and the kept senders.

Revision ID: d8b2f4a6c1e3
Revises: c3f8a2d6e9b1
Create Date: 2026-12-07 13:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d8b2f4a6c1e3"
down_revision = "c3f8a2d6e9b1"
branch_labels = None
depends_on = None

# A rename and, for the few members of rooms that refuse repeats, one UPDATE: no table rewrite.
WRAPPED = {
    "postgresql": "json_build_object('texts', automod_memory)",
    "sqlite": "json_object('texts', json(automod_memory))",
}
UNWRAPPED = {
    "postgresql": "automod_memory -> 'texts'",
    "sqlite": "json_extract(automod_memory, '$.texts')",
}


def upgrade():
    with op.batch_alter_table("room_memberships") as batch:
        batch.alter_column("recent_texts", new_column_name="automod_memory", existing_type=sa.JSON())
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE room_memberships SET automod_memory = {WRAPPED[dialect]} WHERE automod_memory IS NOT NULL")


def downgrade():
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE room_memberships SET automod_memory = {UNWRAPPED[dialect]} WHERE automod_memory IS NOT NULL")
    with op.batch_alter_table("room_memberships") as batch:
        batch.alter_column("automod_memory", new_column_name="recent_texts", existing_type=sa.JSON())
