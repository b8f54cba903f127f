"""The speed layer's public contract (seda/common/kept.py): a kept value is read at the version
it was built at, within its bounds; what moves a version is named by track()."""

import re
import uuid
from pathlib import Path

import pytest

from seda.common.kept import VersionedCache, caches_of
from seda.extensions import db
from seda.users.models import User


def clock_at(now):
    return lambda: now[0]


def test_a_value_is_read_only_at_its_version_and_only_while_young_enough():
    now = [0.0]
    cache = VersionedCache("t", max_items=10, max_age=60.0, clock=clock_at(now))
    assert cache.put("a", (1, 0), "page") == "page"
    assert cache.get("a", (1, 0)) == "page"
    assert cache.get("a", (2, 0)) is None  # the version moved: built again by the reader
    now[0] = 60.5
    assert cache.get("a", (1, 0)) is None  # a version may have failed to move meanwhile


def test_a_version_that_could_not_be_read_is_never_kept_nor_served():
    cache = VersionedCache("t", max_items=10)
    assert cache.put("a", (1, None), "page") == "page"
    assert cache.get("a", (1, None)) is None and len(cache) == 0
    cache.put("b", None, "page")
    assert cache.get("b", None) is None and len(cache) == 0


def test_the_least_recently_used_goes_first_beyond_the_count():
    cache = VersionedCache("t", max_items=3)
    for key in "abc":
        cache.put(key, 1, key)
    assert cache.get("a", 1) == "a"  # now the most recently used
    cache.put("d", 1, "d")
    assert [cache.get(key, 1) for key in "abcd"] == ["a", None, "c", "d"]


def test_the_least_recently_used_goes_first_beyond_the_bytes_and_a_value_larger_than_all_is_not_kept():
    cache = VersionedCache("t", max_items=100, max_bytes=10, size_of=len)
    cache.put("a", 1, b"1234")
    cache.put("b", 1, b"1234")
    assert cache.get("a", 1) is not None
    cache.put("c", 1, b"1234")  # 12 bytes: "b" goes
    assert cache.get("b", 1) is None and cache.get("a", 1) and cache.get("c", 1)
    assert cache.put("huge", 1, b"x" * 11) == b"x" * 11
    assert cache.get("huge", 1) is None and cache.get("a", 1) and cache.get("c", 1)


def test_a_reader_may_accept_a_value_kept_at_a_newer_version_than_it_read():
    def still_good(kept, read):
        return kept >= read

    cache = VersionedCache("t", max_items=10, still_good=still_good)
    cache.put("a", 5, "five")
    assert cache.get("a", 4) == "five" and cache.get("a", 6) is None
    assert cache.put_unless_newer("a", 4, "four") == "five"  # a concurrent reader kept a newer one
    assert cache.get("a", 5) == "five"


def test_replace_moves_a_kept_value_and_its_version_together_or_drops_it():
    cache = VersionedCache("t", max_items=10)
    cache.put("a", 1, ["x"])
    cache.replace("a", lambda version, value: (version + 1, [*value, "y"]))
    assert cache.get("a", 1) is None and cache.get("a", 2) == ["x", "y"]
    cache.replace("a", lambda version, value: None)
    assert cache.get("a", 2) is None
    cache.replace("missing", lambda version, value: pytest.fail("no entry: nothing to change"))


def test_latest_gives_a_value_whatever_its_version_until_it_is_too_old():
    now = [0.0]
    cache = VersionedCache("t", max_items=10, max_age=60.0, clock=clock_at(now))
    cache.put("a", (3, 4), "answer")
    assert cache.latest("a") == ((3, 4), "answer")
    now[0] = 61.0
    assert cache.latest("a") is None


def test_a_committed_change_to_a_tracked_model_moves_its_version_and_a_rollback_moves_nothing(app, users):
    from seda.common.user_versions import user_version

    someone = users.make()
    with app.app_context():
        before = user_version(someone.id)
        user = db.session.get(User, uuid.UUID(str(someone.id)))
        user.display_name = "Changed"
        db.session.flush()
        db.session.rollback()
        assert user_version(someone.id) == before
        user = db.session.get(User, uuid.UUID(str(someone.id)))
        user.display_name = "Changed"
        db.session.commit()
        assert user_version(someone.id) != before


def test_every_kept_copy_has_a_row_in_the_readme_speed_table(app, chat):
    """Every VersionedCache in seda's code, and every one the app builds while serving, is named
    in README's "Speed" table (the house rule)."""
    owner = chat()
    room = owner.room()
    owner.send(room["id"], "hello")
    assert owner.get(f"/rooms/{room['id']}/messages")[0] == 200
    root = Path(__file__).resolve().parents[2]
    speed = root.joinpath("README.md").read_text().split("## Speed", 1)[1].split("\n## ", 1)[0]
    in_code = {
        name
        for path in root.joinpath("seda").rglob("*.py")
        for name in re.findall(r'VersionedCache\(\s*"([^"]+)"', path.read_text())
    }
    built = set(caches_of(app))
    assert {"users", "senders", "history pages"} <= built <= in_code
    assert len(in_code) >= 7
    assert [name for name in sorted(in_code) if f"`{name}`" not in speed] == []
