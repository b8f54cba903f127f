"""Usernames (API.md section 8): the rules, derivation and the 30-day waits, no Flask in sight.

A username is stored lower-case, so one unique index makes it unique case-insensitively and
every lookup lower-cases its input first.
"""

import re
import unicodedata
from datetime import timedelta

import sqlalchemy as sa

from seda.common.db import escape_like, utcnow
from seda.common.errors import Conflict, ValidationFailed
from seda.extensions import db
from seda.users.models import User, UsernameHold

MIN_LENGTH, MAX_LENGTH = 3, 30
CHANGE_WAIT = timedelta(days=30)
HOLD_FOR = timedelta(days=30)
RESERVED = frozenset(
    {
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
)
TAKEN = "Username is taken"
_ALLOWED = re.compile(r"[A-Za-z0-9_]+")
_NOT_ALLOWED = re.compile(r"[^a-z0-9_]+")
FALLBACK = "listener"


def problem_with(name):
    """Why `name` cannot be a username (a sentence), or None when it can."""
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        return f"Length must be between {MIN_LENGTH} and {MAX_LENGTH}."
    if not _ALLOWED.fullmatch(name):
        return "Only letters, digits and _ are allowed."
    if name.isdigit():
        return "Cannot be only digits."
    if name.lower() in RESERVED:
        return "This name is reserved."
    return None


def normalized(name):
    """`name` as stored (lower-case); ValidationFailed (400) when it breaks a rule."""
    problem = problem_with(name)
    if problem is not None:
        raise ValidationFailed(f"username: {problem}")
    return name.lower()


def is_available(name, for_user_id=None):
    """No other account has `name`, and nobody else gave it up less than 30 days ago."""
    owner = db.session.scalar(sa.select(User.id).where(User.username == name))
    if owner is not None and owner != for_user_id:
        return False
    holder = db.session.scalar(
        sa.select(UsernameHold.user_id).where(
            UsernameHold.username == name, UsernameHold.released_at > utcnow() - HOLD_FOR
        )
    )
    return holder is None or holder == for_user_id


def claim(name):
    """The stored form of a name asked for at signup; 409 when someone has it."""
    name = normalized(name)
    if not is_available(name):
        raise Conflict(TAKEN)
    return name


def derive(*seeds):
    """A free username made from the first usable seed (a display name, an email's local part):
    letters folded to ASCII, other characters to `_`, then a number appended until it is free."""
    base = next((b for b in map(_base_of, seeds) if b), FALLBACK)
    taken = set(
        db.session.scalars(sa.select(User.username).where(User.username.like(f"{escape_like(base)}%", escape="\\")))
    )
    taken |= set(
        db.session.scalars(
            sa.select(UsernameHold.username).where(
                UsernameHold.username.like(f"{escape_like(base)}%", escape="\\"),
                UsernameHold.released_at > utcnow() - HOLD_FOR,
            )
        )
    )
    return first_free(base, taken)


def first_free(base, taken):
    """`base`, or `base` with the smallest number that makes it absent from `taken`."""
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = str(number)
        candidate = base[: MAX_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


def _base_of(seed):
    """A valid username built from `seed`, or None when nothing usable is left of it."""
    if not seed:
        return None
    ascii_text = unicodedata.normalize("NFKD", seed).encode("ascii", "ignore").decode()
    base = _NOT_ALLOWED.sub("_", ascii_text.lower()).strip("_")[:MAX_LENGTH].rstrip("_")
    if len(base) < MIN_LENGTH or base.isdigit():
        return None
    return base if base not in RESERVED else f"{base}_{FALLBACK}"[:MAX_LENGTH]


def change(user, wanted):
    """Give `user` the username `wanted` under the section 8 rules; the caller commits."""
    name = normalized(wanted)
    if name == user.username:
        return
    now = utcnow()
    if user.username_changed_at is not None and now < user.username_changed_at + CHANGE_WAIT:
        after = (user.username_changed_at + CHANGE_WAIT).isoformat(timespec="seconds").replace("+00:00", "Z")
        raise Conflict(f"Username can be changed again after {after}")
    if not is_available(name, for_user_id=user.id):
        raise Conflict(TAKEN)
    _hold(user.username, user.id, now)
    db.session.execute(sa.delete(UsernameHold).where(UsernameHold.username == name))
    user.username, user.username_changed_at = name, now


def _hold(name, user_id, when):
    """Keep `name` for its last owner for HOLD_FOR (one row per name: the latest release)."""
    db.session.execute(sa.delete(UsernameHold).where(UsernameHold.username == name))
    db.session.add(UsernameHold(username=name, user_id=user_id, released_at=when))
