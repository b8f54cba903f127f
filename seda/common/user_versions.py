"""A counter per user that moves on every committed change to the user (role, ban, profile,
artist profile), one for all users that moves on a bulk UPDATE or DELETE of users, and one
that moves with any of them: what a process keeps about a user, such as a socket's user
(realtime/runtime.py), is good for as long as the user's version (the first two) stands still, and
what it keeps about many users at once, such as a history page's authors (chat/history.py),
for as long as the third does.

With Redis the counters are shared, so a change made by any process is seen by every other at
its next read; in embedded mode they live in this one process. A counter that cannot be read
is None: the caller then loads the user afresh.

The same store holds named counters for other kept things (`counters`, `bump_counters`; chat
keeps a sender's room by them), read with the user's version when asked (`expect_user`).
"""

import logging
import threading
from collections import defaultdict

import redis
from flask import current_app, has_app_context

from seda.common.ratelimit import read_with_next_hit, values_read_with_hit
from seda.common.redis_trips import RoundTrips
from seda.common.this_request import this_request

log = logging.getLogger(__name__)


EVERYONE = "*"
ANYONE = "any"
COUNTER = "counter:"  # a named counter's key, apart from the users' ids


class MemoryVersions:
    def __init__(self):
        self._lock = threading.Lock()
        self._versions = defaultdict(int)

    def read(self, user_id):
        """(everyone, anyone, user)."""
        versions = self._versions
        return versions.get(EVERYONE, 0), versions.get(ANYONE, 0), versions.get(str(user_id), 0)

    def anyone(self):
        return self._versions.get(ANYONE, 0)

    def bump(self, user_ids):
        with self._lock:
            for user_id in (*user_ids, ANYONE):
                self._versions[str(user_id)] += 1

    def counters(self, names):
        versions = self._versions
        return tuple(versions.get(COUNTER + name, 0) for name in names)

    def bump_counters(self, names):
        with self._lock:
            for name in names:
                self._versions[COUNTER + name] += 1
            return self.counters(names)


class RedisVersions:
    def __init__(self, url, namespace):
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._round_trips = RoundTrips(self._redis)  # every socket event reads a version
        self._prefix = f"{namespace}:user-version:"

    def keys(self, user_id):
        prefix = self._prefix
        return prefix + EVERYONE, prefix + ANYONE, prefix + str(user_id)

    def read(self, user_id):
        """(everyone, anyone, user): read by the request's rate-limit hit when it was asked to
        (expect_user), else in a round trip of its own; with them the counters asked for."""
        keys = self.keys(user_id)
        names, keys_read = _counters_along(keys)
        values = values_read_with_hit(keys_read)
        if values is None:
            try:
                values = self._command("MGET", *keys_read)
            except redis.RedisError as exc:
                log.warning("user versions unavailable: %s", exc)
                return None
        if names:
            read = (int(value or 0) for value in values[len(keys) :])
            this_request().counters_read = dict(zip(names, read, strict=True))
        return tuple(int(value or 0) for value in values[: len(keys)])

    def counter_keys(self, names):
        return tuple(self._prefix + COUNTER + name for name in names)

    def counters(self, names):
        try:
            values = self._command("MGET", *self.counter_keys(names))
        except redis.RedisError as exc:
            log.warning("counters unavailable: %s", exc)
            return None
        return tuple(int(value or 0) for value in values)

    def bump_counters(self, names):
        try:
            if len(names) == 1:  # a send's recent texts (chat/senders.py)
                return (self._command("INCR", self.counter_keys(names)[0]),)
            with self._redis.pipeline(transaction=False) as pipe:
                for key in self.counter_keys(names):
                    pipe.incr(key)
                return tuple(pipe.execute())
        except redis.RedisError as exc:
            log.error("counters %s not moved: %s", ", ".join(names), exc)
            return None

    def _command(self, *command):
        reply = self._round_trips.call(*command)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def anyone(self):
        try:
            return int(self._redis.get(self._prefix + ANYONE) or 0)
        except redis.RedisError as exc:
            log.warning("user versions unavailable: %s", exc)
            return None

    def bump(self, user_ids):
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for user_id in (*user_ids, ANYONE):
                    pipe.incr(self._prefix + str(user_id))
                pipe.execute()
        except redis.RedisError as exc:
            log.error("user versions not moved for %d users: %s", len(user_ids), exc)


def init_user_versions(app):
    config = app.config
    store = RedisVersions(config["REDIS_URL"], config["REDIS_NAMESPACE"]) if config["REDIS_URL"] else MemoryVersions()
    app.extensions["seda_user_versions"] = store


def _store():
    return current_app.extensions["seda_user_versions"]


def expect_user(user_id, counter_names=()):
    """The request will load this user (and read the named counters): let its rate-limit hit
    read the user's version and them in the same Redis round trip (common/ratelimit.py), one
    round trip fewer per request."""
    store = _store()
    if isinstance(store, RedisVersions):
        keys = (*store.keys(user_id), *store.counter_keys(counter_names))
        read_with_next_hit(keys)
        if counter_names:
            this_request().counters_along = (tuple(counter_names), keys)


def user_version(user_id):
    """The user's version, (everyone, user) or None. The ANYONE counter read in the same round
    trip is remembered for users_generation() in this request or socket event."""
    versions = _store().read(user_id)
    if versions is None:
        return None
    everyone, generation, user = versions
    this = this_request()
    this.users_generation = generation
    this.versions_read[str(user_id)] = (everyone, user)
    return everyone, user


def version_read_in_this_request(user_id):
    """The version of `user_id` this request (or socket event) read, else None."""
    return this_request().versions_read.get(str(user_id))


def version_keys(user_id):
    """The Redis keys whose values versions_of() reads `user_id`'s version and the users'
    generation from (None without Redis): a rate-limit hit can read them in its round trip."""
    store = _store()
    return store.keys(user_id) if isinstance(store, RedisVersions) else None


def versions_of(values):
    """The user's version (everyone, user) and the users' generation in the values read for
    version_keys()."""
    everyone, anyone, user = values
    return (int(everyone or 0), int(user or 0)), int(anyone or 0)


def users_generation():
    """The ANYONE counter (None when it cannot be read): read with the caller's version when
    this request has read that, so a kept history page costs no round trip of its own. Read
    before what it guards is built: a change committed meanwhile then shows as a newer
    generation at the next read."""
    generation = this_request().users_generation
    return generation if generation is not None else _store().anyone()


def users_changed(user_ids):
    """Move the counters of `user_ids` (after the commit that changed them) and ANYONE;
    EVERYONE among them moves every user's version."""
    if user_ids and has_app_context():
        _store().bump(user_ids)


def counters(names):
    """The named counters' values (None when they cannot be read): those read with this
    request's user version or by its limit hit (expect_user), each once, else read now. A
    request may ask for several sets (a send: its sender's, then its room's names)."""
    this = this_request()
    if this is not None:
        _take_along(this)
        read = this.counters_read
        if read is not None and all(name in read for name in names):
            return tuple(read.pop(name) for name in names)
    return _store().counters(names)


def _take_along(this):
    """The counters the limit hit read for a request that had its user already: kept to be
    taken by name."""
    along, this.counters_along = this.counters_along, None
    if along is None:
        return
    values = values_read_with_hit(along[1])
    if values is not None:
        names = along[0]
        read = this.counters_read if this.counters_read is not None else {}
        read.update(zip(names, (int(value or 0) for value in values[-len(names) :]), strict=True))
        this.counters_read = read


def _counters_along(user_keys):
    """The counter names asked to be read with these user keys (expect_user), and all the keys
    to read: the user's, then the counters'."""
    this = this_request()
    along = this.counters_along if this is not None else None
    if along is None or along[1][: len(user_keys)] != user_keys:
        return (), user_keys
    this.counters_along = None
    return along


def bump_counters(names):
    """Move the named counters (after the commit that changed what they guard); their new
    values, or None when they could not be moved."""
    return _store().bump_counters(names)
