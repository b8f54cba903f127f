"""@mentions (API.md section 8): which members of a room a message's text names."""

import re

import sqlalchemy as sa

from seda.chat.models import RoomMembership
from seda.extensions import db
from seda.users.models import User

# `@` not preceded by a letter (any script), digit, `_` or `@`, so an email address mentions
# nobody; then a name not followed by one either (`@adaé` names no `ada`).
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{3,30})(?![\w@])")


def mentioned_members(room_id, text, author_id):
    """Ids (strings) of the room's members that `text` mentions, in order of first appearance,
    never the author. One query, and none at all for a text without `@`."""
    if "@" not in text:
        return []
    names = list(dict.fromkeys(name.lower() for name in MENTION.findall(text)))
    if not names:
        return []
    members, author = _member_ids_by_name(room_id, names), str(author_id)
    return [members[name] for name in names if name in members and members[name] != author]


def _member_ids_by_name(room_id, names):
    """{username: id (string)} of the room's members among `names`.

    The names are written into the SQL, not bound one parameter each: with 500 names, binding
    them cost ~30 ms a query, and SQLAlchemy rendering them as literals ~0.6 ms more than this
    (bench/mentions.py). Safe: MENTION lets only [A-Za-z0-9_] through. On PostgreSQL the pairs come
    back as one string: fetching and converting 500 rows cost ~1.4 ms more than one."""
    users, memberships = User.__table__, RoomMembership.__table__
    listed = ",".join(f"'{name}'" for name in names)
    matching = (
        " FROM users JOIN room_memberships ON room_memberships.user_id = users.id"
        f" WHERE room_memberships.room_id = :room AND users.username IN ({listed})"
    )
    room = sa.bindparam("room", type_=memberships.c.room_id.type)
    if db.session.get_bind().dialect.name == "postgresql":
        statement = sa.text("SELECT string_agg(users.username || ':' || users.id::text, ',')" + matching)
        pairs = db.session.execute(statement.bindparams(room), {"room": room_id}).scalar()
        return dict(pair.split(":") for pair in pairs.split(",")) if pairs else {}
    statement = sa.text("SELECT users.username, users.id" + matching).bindparams(room)
    rows = db.session.execute(statement.columns(users.c.username, users.c.id), {"room": room_id})
    return {name: str(user_id) for name, user_id in rows}
