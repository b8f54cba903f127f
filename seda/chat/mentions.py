"""@mentions (API.md section 8): which members of a room a message's text names."""

import re

import sqlalchemy as sa

from seda.chat.models import RoomMembership
from seda.common.db import autocommit_connection
from seda.common.kept import VersionedCache, kept_in_app, track
from seda.common.text import LATIN, look_alikes
from seda.common.user_versions import bump_counters, counters
from seda.extensions import db
from seda.users.models import User

# `@` not preceded by a letter (any script), digit, `_` or `@`, so an email address mentions
# nobody; then a name not followed by one either (`@adaé` names no `ada`).
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{3,30})(?![\w@])")

# A room up to this size keeps its members' names (the "mentionables" kept copy): built in a few
# milliseconds after each join, leave or role change. A larger room asks the database each time.
KEPT_DIRECTORY_MAX_MEMBERS = 5_000
MAX_KEPT_ROOMS = 2_000
MAX_KEPT_BYTES = 64 * 1024 * 1024
MAX_AGE_SECONDS = 60.0
USERNAMES = "usernames"  # moves when any username changes
ALL_MEMBERS = "members:*"  # moves on a bulk change of memberships


def mentioned_members(room, text, author_id):
    """Ids (strings) of the members of `room` (its id and member_count) that `text` mentions, in
    order of first appearance, never the author. Nothing is read for a text without `@`, and
    what is read goes through a connection of its own (no transaction of the caller's). Names
    are read as a reader sees them: `@аda` with a Cyrillic `а`, or with a zero-width space
    inside, is `@ada`."""
    if "@" not in text:
        return []
    names = list(dict.fromkeys(name.lower() for name in MENTION.findall(look_alikes(text, LATIN))))
    if not names:
        return []
    if room.member_count <= KEPT_DIRECTORY_MAX_MEMBERS:
        members = kept_in_app("mentionables", _directories).names_of(room.id)
    else:
        members = _member_ids_by_name(room.id, names)
    author = str(author_id)
    return [members[name] for name in names if name in members and members[name] != author]


class _Directories:
    """{username: id (string)} of each room's members, kept while no member joined or left and
    no username changed: a 500-name mention cost ~1.7 ms asking the database (py-spy of a send,
    bench/mentions.py), a dictionary look-up each here."""

    def __init__(self):
        self._kept = VersionedCache(
            "mentionables",
            max_items=MAX_KEPT_ROOMS,
            max_bytes=MAX_KEPT_BYTES,
            size_of=lambda directory: 200 + 150 * len(directory),
            max_age=MAX_AGE_SECONDS,
        )

    def names_of(self, room_id):
        version = counters(directory_counter_names(room_id))
        directory = self._kept.get(room_id, version)
        if directory is None:
            directory = self._kept.put(room_id, version, _all_member_ids_by_name(room_id))
        return directory


def _directories():
    return _Directories()


def _members_of(room_id):
    return f"members:{room_id}"


def directory_counter_names(room_id):
    """The counters a room's kept names are good for (a send reads them with its own, ahead)."""
    return (USERNAMES, ALL_MEMBERS, _members_of(room_id))


def _all_member_ids_by_name(room_id):
    with autocommit_connection(db.engine) as connection:
        rows = connection.execute(
            sa.select(User.username, User.id)
            .join(RoomMembership, RoomMembership.user_id == User.id)
            .where(RoomMembership.room_id == room_id, User.username.is_not(None))
        )
        return {name: str(user_id) for name, user_id in rows}


def _member_ids_by_name(room_id, names):
    """{username: id (string)} of the room's members among `names`.

    The names are written into the SQL, not bound one parameter each: with 500 names, binding
    them cost ~30 ms a query (bench/mentions.py). Safe: MENTION lets only [A-Za-z0-9_] through. On
    PostgreSQL they go in as one array constant (planned in 0.2 ms where an IN list of 500 takes
    0.4, and still hashed, which a bound array is not), the statement skips SQLAlchemy's compiler
    (~0.3 ms for a text that differs every time), and the pairs come back as one string: fetching
    and converting 500 rows cost ~1.4 ms more than one."""
    matching = (
        " FROM users JOIN room_memberships ON room_memberships.user_id = users.id"
        " WHERE room_memberships.room_id = {room} AND users.username {names}"
    )
    with autocommit_connection(db.engine) as connection:
        if connection.dialect.name == "postgresql":
            listed = "'{" + ",".join(names) + "}'::text[]"
            statement = "SELECT string_agg(users.username || ':' || users.id::text, ',')" + matching
            statement = statement.format(room="%s", names=f"= ANY({listed})")
            pairs = connection.exec_driver_sql(statement, (room_id,)).scalar()
            return dict(pair.split(":") for pair in pairs.split(",")) if pairs else {}
        users, memberships = User.__table__, RoomMembership.__table__
        listed = ",".join(f"'{name}'" for name in names)
        statement = sa.text("SELECT users.username, users.id" + matching.format(room=":room", names=f"IN ({listed})"))
        room = sa.bindparam("room", type_=memberships.c.room_id.type)
        rows = connection.execute(statement.bindparams(room).columns(users.c.username, users.c.id), {"room": room_id})
        return {name: str(user_id) for name, user_id in rows}


def _joined_or_left(membership, _added):
    # Any change through the session: a join or leave (which after_flush cannot yet tell from an
    # update), else a role change, rare enough to rebuild for. Read marks and AutoMod memories
    # are written around the session.
    return (_members_of(membership.room_id),)


def _renamed(user, added):
    return (USERNAMES,) if not added and sa.inspect(user).attrs.username.history.has_changes() else ()


def _announce(names):
    bump_counters(sorted(names))


track((RoomMembership,), names_of=_joined_or_left, bulk=ALL_MEMBERS, announce=_announce)
track((User,), names_of=_renamed, bulk=USERNAMES, announce=_announce)
