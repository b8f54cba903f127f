"""Rate limits: Flask-Limiter's key and default, and the counters services check themselves.

Per-route limits use Flask-Limiter decorators. Limits that span REST and Socket.IO (messages)
or that count domain events (verification requests) call `enforce()` with the same storage, so
with Redis every process shares every counter.
"""

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass

import redis
from flask import current_app, g, has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import WindowStats, parse
from limits.storage import MemoryStorage, RedisStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from seda.common.errors import RateLimited
from seda.common.redis_trips import RoundTrips
from seda.common.this_request import this_request
from seda.patches.flask_limiter import init_app_afresh

log = logging.getLogger(__name__)


def rate_limit_key():
    """The identity a limit counts for: the authenticated user, else the client address."""
    identity = g.get("rate_limit_identity")
    return f"user:{identity}" if identity else f"ip:{get_remote_address()}"


def default_limit():
    """100/min per user, per IP when anonymous (both configurable)."""
    name = "RATE_LIMIT_DEFAULT" if g.get("rate_limit_identity") else "RATE_LIMIT_ANONYMOUS"
    return current_app.config[name]


class OneTripFixedWindow(FixedWindowRateLimiter):
    """The fixed window on Redis in one round trip per request instead of three.

    Flask-Limiter asks for the window's stats right after each hit, for the X-RateLimit-*
    headers: a GET and a TTL after the hit's INCR. Here the hit's script returns the count and
    the time to live together, and the stats asked next for the same key, by the same greenlet
    and within a second, are answered from them. The script also reads whatever the request
    asked to read with it (read_with_next_hit): the caller's user version rides along."""

    # KEYS: the counted windows, then the keys read; ARGV: how many windows, then each window's
    # expiry and cost. Returns each window's count and time to live, then the values read.
    SCRIPT = """
    local windows = tonumber(ARGV[1])
    local result = {}
    for i = 1, windows do
      local amount = tonumber(ARGV[2 * i + 1])
      local current = redis.call("incrby", KEYS[i], amount)
      if current == amount then redis.call("expire", KEYS[i], ARGV[2 * i]) end
      result[#result + 1] = current
      result[#result + 1] = redis.call("ttl", KEYS[i])
    end
    for i = windows + 1, #KEYS do result[#result + 1] = redis.call("get", KEYS[i]) end
    return result
    """
    STATS_FRESH_SECONDS = 1.0

    def __init__(self, storage):
        super().__init__(storage)
        self._redis = storage.get_connection()
        self._incr_with_ttl = self._redis.register_script(self.SCRIPT)
        self._last_hit = ContextVar(f"last_hit_{id(self)}", default=None)
        # Hits made while another is on its way share the next round trip: under load most of
        # a hit's CPU was its own send and receive.
        self._round_trips = RoundTrips(self._redis)

    def hit(self, item, *identifiers, cost=1):
        return self.hit_together([(item, identifiers)], cost)[0]

    def hit_together(self, counted, cost=1):
        """Count one hit of each (item, identifiers) in `counted` in one round trip (with what
        the request asked to read along); whether each is within its limit."""
        keys = [self.storage.prefixed_key(item.key_for(*identifiers)) for item, identifiers in counted]
        wanted = _keys_to_read_with_hit()
        before_flask = _counted_before_flask(keys[0], wanted) if cost == 1 and len(keys) == 1 else None
        if before_flask is not None:
            windows, values = [before_flask[:2]], before_flask[2]
        else:
            asked = [(key, item.get_expiry(), cost) for key, (item, _) in zip(keys, counted, strict=True)]
            windows, values = self.count_windows(asked, wanted)
        if wanted:
            this_request().hit_values = values
        now = time.time()
        item, identifiers = counted[-1]
        count, ttl = windows[-1]
        self._last_hit.set((item.key_for(*identifiers), count, now + max(ttl, 0), now))
        return [count <= item.amount for (count, _ttl), (item, _) in zip(windows, counted, strict=True)]

    def count(self, stored_key, expiry, cost=1, read_keys=()):
        """Count `cost` hits on `stored_key` (a window of `expiry` seconds) and read the Redis
        `read_keys`, in one round trip: (count, seconds the window has left, values read)."""
        [(count, ttl)], values = self.count_windows([(stored_key, expiry, cost)], read_keys)
        return count, ttl, values

    def count_windows(self, windows, read_keys=()):
        """Count each (stored key, expiry, cost) of `windows` and read `read_keys`, in one round
        trip: ([(count, seconds the window has left)] in order, values read)."""
        keys = (*(key for key, _expiry, _cost in windows), *read_keys)
        args = (len(windows), *(arg for _key, expiry, cost in windows for arg in (expiry, cost)))
        result = self._round_trips.call("EVALSHA", self._incr_with_ttl.sha, len(keys), *keys, *args)
        if isinstance(result, redis.exceptions.NoScriptError):  # Redis restarted: load it again
            result = self._incr_with_ttl(keys, args)
        elif isinstance(result, Exception):
            raise result
        counted = [(int(result[2 * i]), int(result[2 * i + 1])) for i in range(len(windows))]
        return counted, result[2 * len(windows) :]

    def get_window_stats(self, item, *identifiers):
        last = self._last_hit.get()
        key = item.key_for(*identifiers)
        if last is not None and last[0] == key and time.time() - last[3] < self.STATS_FRESH_SECONDS:
            _key, count, reset_at, _at = last
            return WindowStats(reset_at, max(0, item.amount - count))
        return super().get_window_stats(item, *identifiers)


def read_with_next_hit(keys):
    """Have this request's next limit hit read the Redis `keys` too, in its own round trip:
    values_read_with_hit(keys) then has their values (only where limits count on Redis)."""
    this = this_request()
    this.hit_keys, this.hit_values = tuple(keys), None


def values_read_with_hit(keys):
    """The values (bytes or None) that this request's limit hit read for `keys`, else None.
    Given once: a later read in the same request may follow a change, so it goes to Redis."""
    this = this_request()
    if this is None or this.hit_values is None or this.hit_keys != tuple(keys):
        return None
    values, this.hit_keys, this.hit_values = this.hit_values, None, None
    return values


def count_before_flask(environ, stored_key, read_keys, counted):
    """Hand this request to Flask with its default limit already counted: `counted` is what
    OneTripFixedWindow.count gave for `stored_key` and `read_keys` (common/kept_responses.py)."""
    environ["seda.limit_counted"] = (stored_key, tuple(read_keys), counted)


def _counted_before_flask(stored_key, read_keys):
    counted = request.environ.pop("seda.limit_counted", None) if has_request_context() else None
    if counted is None or counted[0] != stored_key or counted[1] != tuple(read_keys):
        return None
    return counted[2]


def limit_headers(amount, count, window_left):
    """The X-RateLimit-* headers of a request counted `count` of `amount`, its window ending in
    `window_left` seconds (Retry-After only on a 429, from RateLimited: API.md §1)."""
    reset_at = int(time.time() + max(window_left, 0) + 1)
    return [
        ("X-RateLimit-Limit", str(amount)),
        ("X-RateLimit-Remaining", str(max(0, amount - count))),
        ("X-RateLimit-Reset", str(reset_at)),
    ]


def _keys_to_read_with_hit():
    this = this_request()
    return this.hit_keys if this is not None and this.hit_keys is not None and this.hit_values is None else ()


class SedaLimiter(Limiter):
    """Flask-Limiter for the limits a route declares itself (`limit`, `shared_limit`), taking
    each app's settings afresh (seda/patches/flask_limiter.py). The default limit is counted by
    DefaultLimit below, with `limits` directly."""

    def init_app(self, app):
        init_app_afresh(self, app)


limiter = SedaLimiter(key_func=rate_limit_key)
_OWN_LIMITS = "seda_own_limits"


def limit(*args, **kwargs):
    """A route's own limit (Flask-Limiter's `limit`), counted instead of the default."""
    return _own(limiter.limit(*args, **kwargs))


def shared_limit(*args, **kwargs):
    """A limit shared by several routes (Flask-Limiter's `shared_limit`), instead of the default."""
    return _own(limiter.shared_limit(*args, **kwargs))


def exempt(view):
    """A route no limit counts (health checks, the docs, the console's page)."""
    setattr(view, _OWN_LIMITS, True)
    return limiter.exempt(view)


def _own(decorate):
    def decorator(view):
        limited = decorate(view)
        setattr(limited, _OWN_LIMITS, True)
        return limited

    return decorator


class DefaultLimit:
    """RATE_LIMIT_DEFAULT per user (RATE_LIMIT_ANONYMOUS per address) on every route that declares
    no limit of its own, counted before the view with `limits` on the app's storage: on Redis in
    one round trip that also reads what the request asked to (read_with_next_hit), the caller's
    version for a kept user. Flask-Limiter's general resolution (decorated, blueprint,
    application and meta limits) took as much CPU as the round trip itself (py-spy,
    GET /users/me). While Redis is unreachable the count goes on in this process."""

    def __init__(self, app):
        config = app.config
        storage = storage_from_string(config["RATELIMIT_STORAGE_URI"], **config["RATELIMIT_STORAGE_OPTIONS"])
        one_trip = isinstance(storage, RedisStorage)
        self.strategy = OneTripFixedWindow(storage) if one_trip else FixedWindowRateLimiter(storage)
        self._one_trip = one_trip
        self._prefix = config["RATELIMIT_KEY_PREFIX"]
        app.before_request(self._count)
        app.after_request(self._headers)

    def _count(self):
        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        if view is None or getattr(view, _OWN_LIMITS, False) or request.endpoint.rpartition(".")[2] == "static":
            return
        item = parse(default_limit())
        identifiers = (self._prefix, rate_limit_key(), request.endpoint)
        try:
            strategy, allowed = self.strategy, self.strategy.hit(item, *identifiers)
        except Exception as exc:  # storage errors differ by backend (redis, memcached…)
            log.warning("rate-limit storage unavailable, counting in process: %s", exc)
            strategy, allowed = _fallback, _fallback.hit(item, *identifiers)
        reset_at, remaining = strategy.get_window_stats(item, *identifiers)
        stored_key = (
            strategy.storage.prefixed_key(item.key_for(*identifiers))
            if strategy is self.strategy and self._one_trip
            else None
        )
        this_request().default_limit = CountedDefault(item, stored_key, reset_at, remaining, strategy)
        if not allowed:
            raise RateLimited(
                f"Too many requests: limit of {item} exceeded", retry_after=reset_at - time.time(), limit=item.amount
            )

    def _headers(self, response):
        counted = this_request().default_limit
        if counted is not None:
            window_left = counted.reset_at - time.time()
            count = counted.item.amount - counted.remaining
            for name, value in limit_headers(counted.item.amount, count, window_left):
                response.headers[name] = value
        return response


@dataclass(frozen=True)
class CountedDefault:
    item: object  # the limit counted
    stored_key: str | None  # its window's key in a Redis storage
    reset_at: float
    remaining: int
    strategy: object  # what counted it (the in-process fallback while Redis is down)


def init_limits(app):
    """Flask-Limiter for routes' own limits, and the default limit on every other route."""
    limiter.init_app(app)
    app.extensions["seda_default_limit"] = DefaultLimit(app)


def counted_default_alone():
    """(the limit, its stored key, the OneTripFixedWindow that counted it) when this request was
    counted against the default limit on Redis and passed: a later request of the same caller
    and endpoint may be counted on that key without Flask (common/kept_responses.py). Else None."""
    counted = this_request().default_limit
    if counted is None or not isinstance(counted.strategy, OneTripFixedWindow):
        return None
    return counted.item, counted.stored_key, counted.strategy


# Counts kept in this process while the shared storage (Redis) is unreachable: limits still hold
# per process and a Redis outage never turns a send into an error.
_fallback = FixedWindowRateLimiter(MemoryStorage())


def enforce(limit_string, scope, identity, message="Too many requests"):
    """Count one hit of `identity` against `limit_string` (unless count_ahead counted it in
    this request or socket event); raise RateLimited when over it."""
    limit = parse(limit_string)
    this = this_request()
    counted = this.counted_ahead.pop((limit_string, scope, identity), None) if this is not None else None
    strategy, allowed = counted or _hit(limit, scope, identity)
    if allowed:
        return
    reset_at, _remaining = strategy.get_window_stats(limit, *_identifiers(scope, identity))
    raise RateLimited(message, retry_after=max(1, reset_at - time.time()), limit=limit.amount)


def count_ahead(*limits):
    """Count the hits that enforce() will check later in this request or socket event now, each
    (limit string, scope, identity) of `limits`, all in one round trip that also reads what the
    request asked to (read_with_next_hit): a socket send counts its message limit and its user's
    event budget in the round trip that reads its user. enforce() then passes or raises on this
    count, where it stands among the checks."""
    ahead = this_request().counted_ahead
    parsed = [(parse(limit_string), scope, identity) for limit_string, scope, identity in limits]
    for (limit_string, scope, identity), counted in zip(limits, _hit_together(parsed), strict=True):
        ahead[(limit_string, scope, identity)] = counted


def _hit_together(parsed):
    strategy = current_app.extensions["seda_default_limit"].strategy
    if len(parsed) == 1 or not isinstance(strategy, OneTripFixedWindow):
        return [_hit(*each) for each in parsed]
    try:
        allowed = strategy.hit_together([(limit, _identifiers(scope, identity)) for limit, scope, identity in parsed])
    except Exception as exc:
        log.warning("rate-limit storage unavailable, counting in process: %s", exc)
        return [(_fallback, _fallback.hit(limit, *_identifiers(scope, identity))) for limit, scope, identity in parsed]
    return [(strategy, each) for each in allowed]


def _hit(limit, scope, identity):
    """(the strategy that counted, whether the hit is within the limit)."""
    strategy, identifiers = current_app.extensions["seda_default_limit"].strategy, _identifiers(scope, identity)
    try:
        return strategy, strategy.hit(limit, *identifiers)
    except Exception as exc:  # storage errors differ by backend (redis, memcached…)
        log.warning("rate-limit storage unavailable, counting in process: %s", exc)
        return _fallback, _fallback.hit(limit, *identifiers)


def _identifiers(scope, identity):
    """A count's key parts: the app's key prefix (REDIS_NAMESPACE) keeps environments sharing a
    Redis apart."""
    return current_app.config["RATELIMIT_KEY_PREFIX"], scope, identity
