"""What this request (or socket event) has read and counted so far, in one object: the speed
layer's modules hand each other the Redis values one round trip read for several of them (the
limit's hit reads the caller's version and the counters a send needs), and the state an answer
shows (common/kept_responses.py). It lives in Flask's `g`, so it ends with the request or event."""

from dataclasses import dataclass, field

from flask import g, has_app_context


@dataclass(slots=True)
class ThisRequest:
    # Redis keys the next limit hit reads along (common/ratelimit.read_with_next_hit), then
    # their values once it has: given once, a later read may follow a change.
    hit_keys: tuple | None = None
    hit_values: list | None = None
    # Counter names asked to be read with the user's version, and all the keys read for them.
    counters_along: tuple | None = None
    counters_read: dict | None = None  # counter name -> value read with the user's version
    users_generation: int | None = None  # the ANYONE counter, read with a user's version
    versions_read: dict = field(default_factory=dict)  # user id -> (everyone, user)
    counted_ahead: dict = field(default_factory=dict)  # (limit, scope, identity) -> counted hit
    default_limit: object = None  # the default limit as counted for this request (ratelimit.py)
    shown_state: object = None  # the state a kept_for_caller answer was built at


def this_request():
    """This request's object (created at first use); None outside an app context."""
    if not has_app_context():
        return None
    found = g.get("seda")
    if found is None:
        found = g.seda = ThisRequest()
    return found
