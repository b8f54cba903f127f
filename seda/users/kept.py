"""Users kept in this process between requests and socket events, while their version
(common/user_versions) stands still.

Every authenticated request and socket event needs its user; loading it was a statement and an
ORM load each time (~0.4 ms of a ping's 0.67 ms of server CPU). A kept user is a detached copy,
merged into the caller's session without SQL. Any committed change to a user moves its version
(users/versions.py), on every process at once with Redis, so a ban, a role or a profile change
is seen by the next request anywhere; a copy is also reloaded at least every MAX_AGE_SECONDS,
in case a version failed to move while Redis was down. Banned users are never kept.
"""

import sqlalchemy as sa

from seda.common.kept import VersionedCache, kept_in_app
from seda.common.user_versions import user_version
from seda.extensions import db
from seda.users.models import User

MAX_AGE_SECONDS = 60.0
MAX_USERS = 10_000


class KeptUsers:
    def __init__(self, max_users=MAX_USERS, max_age=MAX_AGE_SECONDS):
        self._kept = VersionedCache("users", max_items=max_users, max_age=max_age)  # id -> detached User

    def load(self, user_id):
        """The user in this session (None when there is none), from the kept copy if still good."""
        present = db.session.identity_map.get(sa.inspect(User).identity_key_from_primary_key((user_id,)))
        if present is not None:  # already loaded by this session: never replace it
            return present
        version = user_version(user_id)
        kept = self._kept.get(user_id, version)
        if kept is not None:
            return db.session.merge(kept, load=False)
        user = db.session.get(User, user_id)
        if user is None or user.banned:
            return user
        db.session.expunge(user)  # detached, so the caller's commit cannot expire the kept copy
        self._kept.put(user_id, version, user)
        return db.session.merge(user, load=False)


def kept_users():
    """This app's kept users."""
    return kept_in_app("users", KeptUsers)
