"""A counter per user that moves on every committed change to the user (role, ban, profile,
artist profile), and one for all users that moves on a bulk UPDATE or DELETE of users: what a
process keeps about a user, such as a socket's user (chat/socket.py), is good for as long as
the user's version (both counters) stands still.

With Redis the counters are shared, so a change made by any process is seen by every other at
its next read; in embedded mode they live in this one process. A counter that cannot be read
is None: the caller then loads the user afresh.
"""

import logging
import threading
from collections import defaultdict

import redis
from flask import current_app, has_app_context

log = logging.getLogger(__name__)


EVERYONE = "*"


class MemoryVersions:
    def __init__(self):
        self._lock = threading.Lock()
        self._versions = defaultdict(int)

    def current(self, user_id):
        return self._versions.get(EVERYONE, 0), self._versions.get(str(user_id), 0)

    def bump(self, user_ids):
        with self._lock:
            for user_id in user_ids:
                self._versions[str(user_id)] += 1


class RedisVersions:
    def __init__(self, url, namespace):
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = f"{namespace}:user-version:"

    def current(self, user_id):
        try:
            everyone, user = self._redis.mget(self._prefix + EVERYONE, self._prefix + str(user_id))
            return int(everyone or 0), int(user or 0)
        except redis.RedisError as exc:
            log.warning("user versions unavailable: %s", exc)
            return None

    def bump(self, user_ids):
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for user_id in user_ids:
                    pipe.incr(self._prefix + str(user_id))
                pipe.execute()
        except redis.RedisError as exc:
            log.error("user versions not moved for %d users: %s", len(user_ids), exc)


def init_user_versions(app):
    config = app.config
    store = RedisVersions(config["REDIS_URL"], config["REDIS_NAMESPACE"]) if config["REDIS_URL"] else MemoryVersions()
    app.extensions["seda_user_versions"] = store


def user_versions():
    return current_app.extensions["seda_user_versions"]


def users_changed(user_ids):
    """Move the counters of `user_ids` (after the commit that changed them); EVERYONE among
    them moves every user's version."""
    if user_ids and has_app_context():
        user_versions().bump(user_ids)
