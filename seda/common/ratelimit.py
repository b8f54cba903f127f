"""Rate limits: Flask-Limiter's key and default, and the counters services check themselves.

Per-route limits use Flask-Limiter decorators. Limits that span REST and Socket.IO (messages)
or that count domain events (verification requests) call `enforce()` with the same storage, so
with Redis every process shares every counter.
"""

import logging
import time
from contextvars import ContextVar

import redis
from flask import current_app, g, has_app_context, has_request_context, request
from flask_limiter import ExemptionScope, Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.util import get_qualified_name, get_remote_address
from limits import WindowStats, parse
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import FixedWindowRateLimiter

from seda.common.errors import RateLimited
from seda.common.redis_trips import RoundTrips

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
            g.seda_read_with_hit = (wanted, values)
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
    g.seda_read_with_hit = (tuple(keys), None)


def values_read_with_hit(keys):
    """The values (bytes or None) that this request's limit hit read for `keys`, else None.
    Given once: a later read in the same request may follow a change, so it goes to Redis."""
    asked = g.get("seda_read_with_hit") if has_app_context() else None
    if asked is None or asked[0] != tuple(keys) or asked[1] is None:
        return None
    g.seda_read_with_hit = None
    return asked[1]


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
    """The X-RateLimit-* and Retry-After headers Flask-Limiter gives a request counted `count`
    of `amount`, its window ending in `window_left` seconds."""
    now = time.time()
    reset_at = int(now + max(window_left, 0) + 1)
    return [
        ("X-RateLimit-Limit", str(amount)),
        ("X-RateLimit-Remaining", str(max(0, amount - count))),
        ("X-RateLimit-Reset", str(reset_at)),
        ("Retry-After", str(int(reset_at - now))),
    ]


def _keys_to_read_with_hit():
    asked = g.get("seda_read_with_hit") if has_app_context() else None
    return asked[0] if asked is not None and asked[1] is None else ()


class SedaLimiter(Limiter):
    """Flask-Limiter that takes each app's settings afresh, and counts on Redis in one round trip.

    Flask-Limiter 4.1 keeps the first app's key prefix and storage options and a "storage dead"
    flag across `init_app` calls; an app built after another (tests, a CLI inside a worker) must
    start from its own configuration instead.
    """

    def init_app(self, app):
        self._key_prefix = ""
        self._storage_options = {}
        self._storage_dead = False
        super().init_app(app)
        if isinstance(self._storage, RedisStorage) and type(self._limiter) is FixedWindowRateLimiter:
            self._limiter = OneTripFixedWindow(self._storage)
        app.extensions["seda_default_limit_only"] = {}

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        """Most requests meet only the default limit; count it directly. The library's general
        resolution (decorated, blueprint, application and meta limits, exemptions) took as much
        CPU as the Redis round trip itself (py-spy, GET /users/me); it still decides every
        other request, and any request while the storage is down."""
        endpoint = request.endpoint
        if in_middleware and endpoint and self._default_limit_only(endpoint):
            self._hit_default_limits(endpoint)
        else:
            super()._check_request_limit(callable_name, in_middleware)

    def counted_default_alone(self):
        """(limit, stored key) when this request was counted against one default limit alone,
        on Redis in one round trip, and passed: a later request of the same caller and endpoint
        may be counted on that key without Flask (common/kept_responses.py). Else None."""
        counted = self.context.view_rate_limits
        if not isinstance(self._limiter, OneTripFixedWindow) or self._storage_dead or len(counted or ()) != 1:
            return None
        only = counted[0]
        if only.breached or not self._default_limit_only(request.endpoint):
            return None
        return only.limit, self._limiter.storage.prefixed_key(only.key)

    def _default_limit_only(self, endpoint):
        if self._storage_dead or not self.enabled or self._request_filters or self._meta_limits:
            return False
        if self._default_limits_deduct_when:  # counted after the response: the library's path
            return False
        if self.limit_manager.has_hints(endpoint):  # a decorated helper ran inside this view
            return False
        known = current_app.extensions["seda_default_limit_only"]
        only = known.get(endpoint)
        if only is None:
            only = known[endpoint] = self._resolves_to_defaults_alone(endpoint)
        return only

    def _resolves_to_defaults_alone(self, endpoint):
        app, manager = current_app, self.limit_manager
        view = app.view_functions.get(endpoint)
        blueprint = request.blueprint
        return (
            view is not None
            and endpoint.rpartition(".")[2] != "static"
            and get_qualified_name(view) not in self._marked_for_limiting
            and manager.exemption_scope(app, endpoint, blueprint) == ExemptionScope.NONE
            and not (blueprint and manager.blueprint_limits(app, blueprint))
            and not manager.application_limits
        )

    def _hit_default_limits(self, endpoint):
        """What Limiter.__evaluate_limits does for the default limits alone: count each, keep
        them for the X-RateLimit-* headers, raise at the first one exceeded."""
        counted = []
        for limit in sorted(self.limit_manager.default_limits, key=lambda runtime: runtime.limit):
            if limit.is_exempt or limit.method_exempt:
                continue
            args = [limit.key_func(), limit.scope_for(endpoint, request.method)]
            if self._key_prefix:
                args.insert(0, self._key_prefix)
            counted.append(RequestLimit(self, limit.limit, args, False, limit.shared))
            try:
                allowed = self.limiter.hit(limit.limit, *args, cost=limit.deduction_amount)
            except Exception:  # storage errors differ by backend: the library's path falls back
                super()._check_request_limit(in_middleware=True)
                return
            if not allowed:
                counted[-1].breached = True
                self.context.view_rate_limit, self.context.view_rate_limits = counted[-1], counted
                raise RateLimitExceeded(limit)
        self.context.view_rate_limit = counted[0] if counted else None
        self.context.view_rate_limits = counted


limiter = SedaLimiter(key_func=rate_limit_key, default_limits=[default_limit])

# Counts kept in this process while the shared storage (Redis) is unreachable: limits still hold
# per process and a Redis outage never turns a send into an error.
_fallback = FixedWindowRateLimiter(MemoryStorage())


def enforce(limit_string, scope, identity, message="Too many requests"):
    """Count one hit of `identity` against `limit_string` (unless count_ahead counted it in
    this request or socket event); raise RateLimited when over it."""
    limit = parse(limit_string)
    ahead = g.get("seda_counted_ahead") if has_app_context() else None
    counted = ahead.pop((limit_string, scope, identity), None) if ahead else None
    strategy, allowed = counted or _hit(limit, scope, identity)
    if allowed:
        return
    reset_at, _remaining = strategy.get_window_stats(limit, scope, identity)
    raise RateLimited(message, retry_after=max(1, reset_at - time.time()), limit=limit.amount)


def count_ahead(*limits):
    """Count the hits that enforce() will check later in this request or socket event now, each
    (limit string, scope, identity) of `limits`, all in one round trip that also reads what the
    request asked to (read_with_next_hit): a socket send counts its message limit and its user's
    event budget in the round trip that reads its user. enforce() then passes or raises on this
    count, where it stands among the checks."""
    ahead = g.setdefault("seda_counted_ahead", {})
    parsed = [(parse(limit_string), scope, identity) for limit_string, scope, identity in limits]
    for (limit_string, scope, identity), counted in zip(limits, _hit_together(parsed), strict=True):
        ahead[(limit_string, scope, identity)] = counted


def _hit_together(parsed):
    strategy = limiter.limiter
    if len(parsed) == 1 or not isinstance(strategy, OneTripFixedWindow):
        return [_hit(*each) for each in parsed]
    try:
        allowed = strategy.hit_together([(limit, (scope, identity)) for limit, scope, identity in parsed])
    except Exception as exc:
        log.warning("rate-limit storage unavailable, counting in process: %s", exc)
        return [(_fallback, _fallback.hit(*each)) for each in parsed]
    return [(strategy, each) for each in allowed]


def _hit(limit, scope, identity):
    """(the strategy that counted, whether the hit is within the limit)."""
    strategy = limiter.limiter
    try:
        return strategy, strategy.hit(limit, scope, identity)
    except Exception as exc:  # storage errors differ by backend (redis, memcached…)
        log.warning("rate-limit storage unavailable, counting in process: %s", exc)
        return _fallback, _fallback.hit(limit, scope, identity)
