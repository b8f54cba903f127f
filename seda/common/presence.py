"""Which sockets of which user are subscribed to which room, on every process.

Presence events ("first socket of a user in a room / last one gone"), the `online` flag of
members and removing a banned user's sockets all read this. With Redis it is shared by all
processes (sets per room+user and per user); in embedded mode it lives in this process.
"""

import logging
import threading
from collections import defaultdict

import redis
from flask import current_app

log = logging.getLogger(__name__)


def _tolerant(default):
    """Presence is best effort: with Redis unreachable, chat goes on without it."""

    def decorator(method):
        def wrapper(self, *args):
            try:
                return method(self, *args)
            except redis.RedisError as exc:
                log.warning("presence unavailable (%s): %s", method.__name__, exc)
                return default

        wrapper.__name__ = method.__name__
        return wrapper

    return decorator


class MemoryPresence:
    def __init__(self):
        self._lock = threading.Lock()
        self._room = defaultdict(set)
        self._user = defaultdict(set)

    def connect(self, user_id, sid):
        with self._lock:
            self._user[str(user_id)].add(sid)

    def disconnect(self, user_id, sid):
        with self._lock:
            self._user[str(user_id)].discard(sid)

    def join(self, room_id, user_id, sid):
        """Subscribe `sid`; True when it is the user's first socket in the room."""
        with self._lock:
            sids = self._room[(str(room_id), str(user_id))]
            sids.add(sid)
            return len(sids) == 1

    def leave(self, room_id, user_id, sid):
        """Unsubscribe `sid`; True when the user's last socket in the room is gone."""
        with self._lock:
            sids = self._room.get((str(room_id), str(user_id)))
            if not sids or sid not in sids:
                return False
            sids.discard(sid)
            return not sids

    def room_sids(self, room_id, user_id):
        with self._lock:
            return list(self._room.get((str(room_id), str(user_id)), ()))

    def user_sids(self, user_id):
        with self._lock:
            return list(self._user.get(str(user_id), ()))

    @_tolerant(set())
    def online(self, user_ids):
        with self._lock:
            return {str(u) for u in user_ids if self._user.get(str(u))}


class RedisPresence:
    # Adds and removes are atomic on the Redis side: the returned count decides first/last.
    _JOIN = "redis.call('SADD', KEYS[1], ARGV[1]); return redis.call('SCARD', KEYS[1])"
    _LEAVE = "local removed = redis.call('SREM', KEYS[1], ARGV[1]); return {removed, redis.call('SCARD', KEYS[1])}"

    def __init__(self, url, namespace):
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = f"{namespace}-presence"
        self._join = self._redis.register_script(self._JOIN)
        self._leave = self._redis.register_script(self._LEAVE)

    def _room_key(self, room_id, user_id):
        return f"{self._prefix}:room:{room_id}:{user_id}"

    def _user_key(self, user_id):
        return f"{self._prefix}:user:{user_id}"

    @_tolerant(None)
    def connect(self, user_id, sid):
        self._redis.sadd(self._user_key(user_id), sid)

    @_tolerant(None)
    def disconnect(self, user_id, sid):
        self._redis.srem(self._user_key(user_id), sid)

    @_tolerant(False)
    def join(self, room_id, user_id, sid):
        return self._join(keys=[self._room_key(room_id, user_id)], args=[sid]) == 1

    @_tolerant(False)
    def leave(self, room_id, user_id, sid):
        removed, remaining = self._leave(keys=[self._room_key(room_id, user_id)], args=[sid])
        return removed == 1 and remaining == 0

    @_tolerant(())
    def room_sids(self, room_id, user_id):
        return [s.decode() for s in self._redis.smembers(self._room_key(room_id, user_id))]

    @_tolerant(())
    def user_sids(self, user_id):
        return [s.decode() for s in self._redis.smembers(self._user_key(user_id))]

    @_tolerant(frozenset())
    def online(self, user_ids):
        user_ids = [str(u) for u in user_ids]
        if not user_ids:
            return set()
        pipe = self._redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.scard(self._user_key(user_id))
        return {u for u, count in zip(user_ids, pipe.execute(), strict=True) if count}


def init_presence(app):
    config = app.config
    app.extensions["seda_presence"] = (
        RedisPresence(config["REDIS_URL"], config["REDIS_NAMESPACE"]) if config["REDIS_URL"] else MemoryPresence()
    )


def presence_store():
    return current_app.extensions["seda_presence"]
