"""Users kept in this process between requests and socket events, while their version
(common/user_versions) stands still.

Every authenticated request and socket event needs its user; loading it was a statement and an
ORM load each time (~0.4 ms of a ping's 0.67 ms of server CPU). A kept user is a detached copy,
merged into the caller's session without SQL. Any committed change to a user moves its version
(users/versions.py), on every process at once with Redis, so a ban, a role or a profile change
is seen by the next request anywhere; a copy is also reloaded at least every MAX_AGE_SECONDS,
in case a version failed to move while Redis was down. Banned users are never kept.
"""

import threading
import time
from collections import OrderedDict

import sqlalchemy as sa
from flask import current_app

from seda.common.user_versions import user_version
from seda.extensions import db
from seda.users.models import User

MAX_AGE_SECONDS = 60.0
MAX_USERS = 10_000


class KeptUsers:
    def __init__(self, max_users=MAX_USERS, max_age=MAX_AGE_SECONDS, clock=time.monotonic):
        self._kept = OrderedDict()  # user id -> (detached User, version, loaded at)
        self._lock = threading.Lock()
        self._max_users, self._max_age, self._clock = max_users, max_age, clock

    def load(self, user_id):
        """The user in this session (None when there is none), from the kept copy if still good."""
        present = db.session.identity_map.get(sa.inspect(User).identity_key_from_primary_key((user_id,)))
        if present is not None:  # already loaded by this session: never replace it
            return present
        version = user_version(user_id)
        now = self._clock()
        with self._lock:
            kept = self._kept.get(user_id)
        if kept is not None and version is not None and kept[1] == version and now - kept[2] < self._max_age:
            return db.session.merge(kept[0], load=False)
        user = db.session.get(User, user_id)
        if user is None or user.banned:
            return user
        db.session.expunge(user)  # detached, so the caller's commit cannot expire the kept copy
        with self._lock:
            self._kept[user_id] = (user, version, now)
            self._kept.move_to_end(user_id)
            while len(self._kept) > self._max_users:
                self._kept.popitem(last=False)
        return db.session.merge(user, load=False)


def kept_users():
    """This app's kept users (one per app: tests build many)."""
    kept = current_app.extensions.get("seda_kept_users")
    if kept is None:
        kept = current_app.extensions["seda_kept_users"] = KeptUsers()
    return kept
