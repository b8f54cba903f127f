"""The kept answers' own bounds (common/kept_responses.py); what they answer is tested with the
routes that keep them (tests/users/test_kept_me.py, tests/chat/test_kept_history.py)."""

from flask import Flask

from seda.common.kept_responses import KeptAnswer, KeptResponses


def answer(body, built_at=0.0):
    return KeptAnswer("user", (0, 0), (), None, None, "key", "/route", (), body, built_at, None, None)


def test_kept_answers_keep_to_their_count_and_bytes_and_age_least_recently_used_first():
    now = [0.0]
    kept = KeptResponses(Flask("bounds"), max_answers=3, max_bytes=10, max_age=60.0, clock=lambda: now[0])
    kept._put("a", answer(b"1234"))
    kept._put("b", answer(b"1234"))
    assert kept._kept("a") is not None  # now the most recently used
    kept._put("c", answer(b"1234"))  # 12 bytes: the least recently used ("b") goes
    assert kept._kept("b") is None and kept._kept("a") is not None and kept._kept("c") is not None
    kept._put("d", answer(b"1"))
    kept._put("e", answer(b"1"))  # a 4th answer: the least recently used ("a") goes
    assert kept._kept("a") is None and [kept._kept(k) is not None for k in "cde"] == [True] * 3
    kept._put("huge", answer(b"x" * 11))  # larger than all the room there is: kept nowhere
    assert kept._kept("huge") is None
    kept._put("f", answer(b"1"))
    now[0] = 60.5
    assert kept._kept("f") is None  # older than max_age: Flask builds it again
