"""Kept copies: seda's one vocabulary for keeping what it built, in this process, for as long as
what it shows stands still.

A `VersionedCache` keeps each value with the version it was built at. A reader reads the
version now (a counter in common/user_versions, a room's state…) and asks for the value kept
at that version; anything else is a miss, and the reader builds the value again and puts it.
So nothing is ever invalidated by hand: a change moves a version, and copies built before it are
never read again (and age out, least recently used first). A version with a part that could not
be read (None) is never kept. Every value is also rebuilt at least every `max_age` seconds, in
case a version failed to move while Redis was down.

`track()` names what moves a version: one set of SQLAlchemy session listeners collects, for each
tracked model, the names its changed rows move, and after the commit hands each name set to its
announcer (a bulk UPDATE or DELETE of a tracked table moves its `bulk` name).

House rule: a new kept copy is a VersionedCache (made with `kept_in_app`) and a row in README's
"Speed" table, named as the cache is.
"""

import operator
import threading
import time
from dataclasses import dataclass

import cachetools
import sqlalchemy as sa
from flask import current_app, has_app_context

_APP_KEY = "seda_kept"


@dataclass(slots=True)
class _Entry:
    version: object
    value: object
    built_at: float
    size: int


class VersionedCache:
    """Values kept with their version, least recently used out first beyond `max_items` entries
    or `max_bytes` (each value's `size_of`, when given)."""

    def __init__(
        self,
        name,
        *,
        max_items,
        max_bytes=None,
        size_of=None,
        max_age=60.0,
        still_good=operator.eq,
        clock=time.monotonic,
    ):
        """`still_good(kept_version, read_version)` says whether a value kept at the first is
        good for a reader that read the second (equal, by default)."""
        self.name = name
        self._size_of = size_of
        if max_bytes is None:
            self._entries = cachetools.LRUCache(max_items)
        else:
            self._entries = cachetools.LRUCache(max_bytes, getsizeof=operator.attrgetter("size"))
        self._max_items = max_items
        self._max_age, self._still_good, self._clock = max_age, still_good, clock
        self._lock = threading.Lock()

    def get(self, key, version):
        """The value kept for `key` that is good at `version`, else None."""
        if _unreadable(version):
            return None
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or not self._still_good(entry.version, version) or self._too_old(entry):
            return None
        return entry.value

    def latest(self, key):
        """(version, value) kept for `key` whatever its version, else None: for a reader that
        learns the version to compare with from the value itself (common/kept_responses.py)."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or self._too_old(entry):
            return None
        return entry.version, entry.value

    def put(self, key, version, value):
        """Keep `value`, built at `version`, for `key`; returns `value`."""
        if _unreadable(version):
            return value
        size = self._size_of(value) if self._size_of is not None else 1
        entry = _Entry(version, value, self._clock(), size)
        with self._lock:
            try:
                self._entries[key] = entry
            except ValueError:  # one value larger than the whole cache: not kept
                return value
            while len(self._entries) > self._max_items:
                self._entries.popitem()
        return value

    def put_unless_newer(self, key, version, value):
        """put(), unless a value good at `version` was kept meanwhile (by a concurrent reader)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._still_good(entry.version, version) and not self._too_old(entry):
                return entry.value
        return self.put(key, version, value)

    def replace(self, key, change):
        """Apply `change(version, value)` → (version, value) to the kept entry, atomically; a
        change giving None drops the entry. No entry: nothing happens."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return
            changed = change(entry.version, entry.value)
            if changed is None:
                del self._entries[key]
            else:
                entry.version, entry.value = changed

    def __len__(self):
        return len(self._entries)

    def _too_old(self, entry):
        return self._max_age is not None and self._clock() - entry.built_at > self._max_age


def _unreadable(version):
    return version is None or (isinstance(version, tuple) and None in version)


def kept_in_app(name, build):
    """This app's cache `name`, built by `build()` at first use (one per app: tests build many)."""
    caches = current_app.extensions.setdefault(_APP_KEY, {})
    cache = caches.get(name)
    if cache is None:
        cache = caches[name] = build()
    return cache


def caches_of(app):
    """The kept copies `app` has built so far, by name."""
    return dict(app.extensions.get(_APP_KEY, {}))


@dataclass(frozen=True)
class _Tracked:
    names_of: object  # (instance, added) -> the names its change moves (empty: none)
    bulk: str  # the name a bulk UPDATE or DELETE moves
    announce: object  # called after the commit with the set of names moved
    bulk_unless: str | None  # an execution option that says a bulk statement moves nothing


_TRACKED: dict[type, list[_Tracked]] = {}
_MOVED = "seda_kept_moved"


def track(models, *, names_of, bulk, announce, bulk_unless=None):
    """After each commit, call `announce(names)` with the names that the committed changes to
    `models` moved: `names_of(instance, added)` for a row added, changed or deleted through the session,
    `bulk` for a bulk UPDATE or DELETE (unless its execution options set `bulk_unless`)."""
    tracked = _Tracked(names_of, bulk, announce, bulk_unless)
    for model in models:
        _TRACKED.setdefault(model, []).append(tracked)


def _moved(session):
    moved = session.info.get(_MOVED)
    if moved is None:
        moved = session.info[_MOVED] = {}
    return moved


@sa.event.listens_for(sa.orm.Session, "after_flush")
def _collect(session, _flush_context):
    for added, instances in ((True, session.new), (False, session.dirty), (False, session.deleted)):
        for instance in instances:
            for tracked in _TRACKED.get(type(instance), ()):
                names = tracked.names_of(instance, added)
                if names:
                    _moved(session).setdefault(tracked.announce, set()).update(names)


@sa.event.listens_for(sa.orm.Session, "do_orm_execute")
def _collect_bulk(state):
    mapper = state.bind_mapper
    if not (state.is_update or state.is_delete) or mapper is None:
        return
    for tracked in _TRACKED.get(mapper.class_, ()):
        if tracked.bulk_unless is None or not state.execution_options.get(tracked.bulk_unless):
            _moved(state.session).setdefault(tracked.announce, set()).add(tracked.bulk)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _announce(session):
    moved = session.info.pop(_MOVED, None)
    if moved and has_app_context():
        for announce, names in moved.items():
            announce(names)


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _forget(session):
    session.info.pop(_MOVED, None)
