"""Which sockets of which user are subscribed to which room, on every process.

Presence events ("first socket of a user in a room / last one gone"), the `online` flag of
members, removing a banned user's sockets and whether someone was away long enough for an email
digest all read this. With Redis it is shared by all
processes (sets per room+user and per user); in embedded mode it lives in this process.
"""

import logging
import threading
import time
import uuid
from collections import defaultdict

import redis
from flask import current_app

log = logging.getLogger(__name__)
# How long the moment a user's socket went is remembered (an email digest waits until nobody has
# been connected for EMAIL_DIGEST_DELAY_SECONDS, far less than this).
SEEN_FOR_SECONDS = 86400


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
        self._seen = {}
        self._room = defaultdict(set)
        self._user = defaultdict(set)
        self._room_users = defaultdict(set)
        self._count_slots = {}

    def connect(self, user_id, sid, most=0):
        """Record the user's socket; False (nothing recorded) when they hold `most` already."""
        with self._lock:
            sids = self._user[str(user_id)]
            if most and len(sids) >= most and sid not in sids:
                return False
            sids.add(sid)
            return True

    def disconnect(self, user_id, sid):
        with self._lock:
            self._user[str(user_id)].discard(sid)
            self._seen[str(user_id)] = time.time()

    def last_seen(self, user_ids):
        """{user id: epoch seconds} of the last time each of `user_ids` let a socket go."""
        with self._lock:
            return {str(u): self._seen[str(u)] for u in user_ids if str(u) in self._seen}

    def join(self, room_id, user_id, sid):
        """Subscribe `sid`; True when it is the user's first socket in the room."""
        with self._lock:
            sids = self._room[(str(room_id), str(user_id))]
            sids.add(sid)
            if len(sids) == 1:
                self._room_users[str(room_id)].add(str(user_id))
            return len(sids) == 1

    def leave(self, room_id, user_id, sid):
        """Unsubscribe `sid`; True when the user's last socket in the room is gone."""
        with self._lock:
            sids = self._room.get((str(room_id), str(user_id)))
            if not sids or sid not in sids:
                return False
            sids.discard(sid)
            if not sids:
                self._room_users[str(room_id)].discard(str(user_id))
            return not sids

    def room_online_count(self, room_id):
        """How many users have a socket subscribed to the room."""
        with self._lock:
            return len(self._room_users.get(str(room_id), ()))

    def claim_count_slot(self, room_id, seconds):
        """True for the first caller in each `seconds` window of a room (throttles presence_count)."""
        now = time.monotonic()
        with self._lock:
            if self._count_slots.get(str(room_id), 0) > now:
                return False
            self._count_slots[str(room_id)] = now + seconds
            return True

    def user_sids(self, user_id):
        with self._lock:
            return list(self._user.get(str(user_id), ()))

    def room_sids(self, room_id, user_id):
        """The user's sockets subscribed to the room (or any group joined like one)."""
        with self._lock:
            return list(self._room.get((str(room_id), str(user_id)), ()))

    @_tolerant(set())
    def online(self, user_ids):
        with self._lock:
            return {str(u) for u in user_ids if self._user.get(str(u))}


class RedisPresence:
    """Presence in Redis, shared by every process.

    Each process (a "host") also records in a set of its own which presence entries it added,
    and keeps a heartbeat key alive. A process killed without cleaning up (SIGKILL, OOM) stops
    beating; the next beat of any live process removes that host's entries, so its users stop
    looking online within about `ttl_seconds`."""

    # Adds and removes are atomic on the Redis side: the returned count decides first/last.
    # KEYS: the sid set, this host's entry set, a group set; ARGV: the sid, the group member.
    # The group (a room's online users) holds the member while the sid set is not empty. Each
    # entry "key|sid|group|member" is what a reaper needs to undo the add.
    _ADD = (
        "redis.call('SADD', KEYS[1], ARGV[1]); "
        "redis.call('SADD', KEYS[2], KEYS[1] .. '|' .. ARGV[1] .. '|' .. KEYS[3] .. '|' .. ARGV[2]); "
        "local count = redis.call('SCARD', KEYS[1]); "
        "if count == 1 and ARGV[2] ~= '' then redis.call('SADD', KEYS[3], ARGV[2]) end; "
        "return count"
    )
    # The same for a user's own sockets, refused (0) past ARGV[3] sockets (0: no limit).
    _CONNECT = (
        "if tonumber(ARGV[3]) > 0 and redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[3]) "
        "and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end; "
        "redis.call('SADD', KEYS[1], ARGV[1]); "
        "redis.call('SADD', KEYS[2], KEYS[1] .. '|' .. ARGV[1] .. '|' .. KEYS[3] .. '|' .. ARGV[2]); "
        "return 1"
    )
    _REMOVE = (
        "local removed = redis.call('SREM', KEYS[1], ARGV[1]); "
        "redis.call('SREM', KEYS[2], KEYS[1] .. '|' .. ARGV[1] .. '|' .. KEYS[3] .. '|' .. ARGV[2]); "
        "local count = redis.call('SCARD', KEYS[1]); "
        "if count == 0 and ARGV[2] ~= '' then redis.call('SREM', KEYS[3], ARGV[2]) end; "
        "return {removed, count}"
    )
    _REAP = (
        "local entries = redis.call('SMEMBERS', KEYS[1]); "
        "for _, entry in ipairs(entries) do "
        "  local key, sid, group, member = string.match(entry, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)$'); "
        "  if key then "
        "    redis.call('SREM', key, sid); "
        "    if member ~= '' and redis.call('SCARD', key) == 0 then redis.call('SREM', group, member) end "
        "  end "
        "end; "
        "redis.call('DEL', KEYS[1]); "
        "return #entries"
    )

    def __init__(self, url, namespace, ttl_seconds=30):
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = f"{namespace}-presence"
        self._host = uuid.uuid4().hex
        self._ttl = ttl_seconds
        self._add = self._redis.register_script(self._ADD)
        self._connect = self._redis.register_script(self._CONNECT)
        self._remove = self._redis.register_script(self._REMOVE)
        self._reap = self._redis.register_script(self._REAP)
        self._beating = threading.Lock()
        self._beat_thread = None

    def _room_key(self, room_id, user_id):
        return f"{self._prefix}:room:{room_id}:{user_id}"

    def _user_key(self, user_id):
        return f"{self._prefix}:user:{user_id}"

    def _room_users_key(self, room_id):
        return f"{self._prefix}:room-users:{room_id}"

    def _entries_key(self, host):
        return f"{self._prefix}:host:{host}:entries"

    def _alive_key(self, host):
        return f"{self._prefix}:host:{host}:alive"

    @property
    def _hosts_key(self):
        return f"{self._prefix}:hosts"

    @_tolerant(True)
    def connect(self, user_id, sid, most=0):
        """Record the user's socket; False (nothing recorded) when they hold `most` already,
        counted across every process (a killed process's sockets are reaped with its entries).
        With Redis unreachable the socket is let in."""
        self._start_beating()
        keys = [self._user_key(user_id), self._entries_key(self._host), ""]
        return bool(self._connect(keys=keys, args=[sid, "", most]))

    @_tolerant(None)
    def disconnect(self, user_id, sid):
        self._remove(keys=[self._user_key(user_id), self._entries_key(self._host), ""], args=[sid, ""])
        self._redis.set(self._seen_key(user_id), repr(time.time()), ex=SEEN_FOR_SECONDS)

    @_tolerant({})
    def last_seen(self, user_ids):
        user_ids = [str(u) for u in user_ids]
        if not user_ids:
            return {}
        values = self._redis.mget([self._seen_key(u) for u in user_ids])
        return {u: float(v) for u, v in zip(user_ids, values, strict=True) if v is not None}

    def _seen_key(self, user_id):
        return f"{self._prefix}:seen:{user_id}"

    @_tolerant(False)
    def join(self, room_id, user_id, sid):
        return self._add(keys=self._room_keys(room_id, user_id), args=[sid, str(user_id)]) == 1

    @_tolerant(False)
    def leave(self, room_id, user_id, sid):
        removed, remaining = self._remove(keys=self._room_keys(room_id, user_id), args=[sid, str(user_id)])
        return removed == 1 and remaining == 0

    def _room_keys(self, room_id, user_id):
        return [self._room_key(room_id, user_id), self._entries_key(self._host), self._room_users_key(room_id)]

    @_tolerant(0)
    def room_online_count(self, room_id):
        return self._redis.scard(self._room_users_key(room_id))

    @_tolerant(False)
    def claim_count_slot(self, room_id, seconds):
        return bool(self._redis.set(f"{self._prefix}:count-slot:{room_id}", "1", nx=True, px=int(seconds * 1000)))

    @_tolerant(())
    def user_sids(self, user_id):
        return [s.decode() for s in self._redis.smembers(self._user_key(user_id))]

    @_tolerant(())
    def room_sids(self, room_id, user_id):
        return [s.decode() for s in self._redis.smembers(self._room_key(room_id, user_id))]

    @_tolerant(frozenset())
    def online(self, user_ids):
        user_ids = [str(u) for u in user_ids]
        if not user_ids:
            return set()
        pipe = self._redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.scard(self._user_key(user_id))
        return {u for u, count in zip(user_ids, pipe.execute(), strict=True) if count}

    def beat(self):
        """Say this host is alive, then clear the entries of every host that no longer is."""
        self._redis.set(self._alive_key(self._host), "1", ex=self._ttl)
        self._redis.sadd(self._hosts_key, self._host)
        for host in (h.decode() for h in self._redis.smembers(self._hosts_key)):
            if host != self._host and not self._redis.exists(self._alive_key(host)):
                reaped = self._reap(keys=[self._entries_key(host)])
                self._redis.srem(self._hosts_key, host)
                log.warning("presence: cleared %d entries of a process that stopped beating", reaped)

    def _start_beating(self):
        """Beat once now (before this host adds any entry, so no one reaps it), then in the
        background every third of the TTL."""
        with self._beating:
            if self._beat_thread is not None:
                return
            self.beat()
            self._beat_thread = threading.Thread(target=self._beat_forever, name="seda-presence", daemon=True)
            self._beat_thread.start()

    def _beat_forever(self):
        while True:
            time.sleep(self._ttl / 3)
            try:
                self.beat()
            except redis.RedisError as exc:
                log.warning("presence heartbeat failed: %s", exc)


def init_presence(app):
    config = app.config
    if config["REDIS_URL"]:
        store = RedisPresence(config["REDIS_URL"], config["REDIS_NAMESPACE"], config["PRESENCE_TTL_SECONDS"])
    else:
        store = MemoryPresence()
    app.extensions["seda_presence"] = store


def presence_store():
    return current_app.extensions["seda_presence"]
