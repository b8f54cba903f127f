"""@mentions on messages (API.md section 8): members only, in order, never the author, on both tiers."""

import pytest

from tests.helpers.queries import record_redis_commands
from tests.helpers.tiers import services_only


@pytest.fixture
def band(chat):
    """An owner's room with two members (ada, bo) and one outsider (cy)."""
    owner = chat(username="owner_1")
    room = owner.room()
    members = {name: chat(username=name) for name in ("ada", "bo_bass")}
    for member in members.values():
        member.post(f"/rooms/{room['id']}/join")
    outsider = chat(username="cy_out")
    return owner, room, members, outsider


def test_a_message_mentions_the_members_it_names_in_order_of_first_appearance(band):
    owner, room, members, _ = band
    sent = owner.send(room["id"], "@BO_bass and @ada, then @ada again")
    assert sent["mentions"] == [members["bo_bass"].user.id, members["ada"].user.id]


def test_non_members_unknown_names_and_the_author_are_not_mentioned(band):
    owner, room, _, outsider = band
    sent = owner.send(room["id"], "@cy_out @nobody_at_all @owner_1")
    assert outsider.user.username == "cy_out"
    assert sent["mentions"] == []


@pytest.mark.parametrize(
    "text",
    [
        "mail ada@example.com",  # preceded by a letter
        "x_@ada",  # preceded by _
        "é@ada",  # preceded by a letter of another script
        "@@ada",  # preceded by @
        "@ada_more",  # the name goes on: a different (unknown) name
        "@adaé",  # followed by a letter
        "@ada@bo_bass",  # followed by @
    ],
)
def test_only_an_at_sign_standing_alone_before_a_whole_name_mentions(band, text):
    owner, room, _, _ = band
    assert owner.send(room["id"], text)["mentions"] == []


@pytest.mark.parametrize("text", ["hi @\u0430da", "hi @a\u200bda", "hi @\u0430d\u2060a!"])  # Cyrillic а, invisibles
def test_a_name_is_read_as_a_reader_sees_it(band, text):
    owner, room, members, _ = band
    assert owner.send(room["id"], text)["mentions"] == [members["ada"].user.id]


def test_punctuation_around_a_name_still_mentions(band):
    owner, room, members, _ = band
    assert owner.send(room["id"], "(@ada), hi!")["mentions"] == [members["ada"].user.id]


def test_an_edit_recomputes_the_mentions(band):
    owner, room, members, _ = band
    sent = owner.send(room["id"], "hi @ada")
    status, edited = owner.patch(f"/messages/{sent['id']}", json={"text": "hi @bo_bass"})
    assert status == 200 and edited["mentions"] == [members["bo_bass"].user.id]


def test_history_pages_carry_the_mentions(band):
    owner, room, members, _ = band
    owner.send(room["id"], "ping @ada")
    _status, page = owner.get(f"/rooms/{room['id']}/messages")
    assert page[0]["mentions"] == [members["ada"].user.id]


def test_socket_sends_mention_too(band, socket_for):
    owner, room, members, _ = band
    sock = socket_for(owner.user)
    assert sock.emit("join_room", room["id"], namespace="/chat", callback=True)["ok"]
    ack = sock.emit("send_message", {"roomId": room["id"], "text": "yo @ada"}, namespace="/chat", callback=True)
    assert ack["ok"] and ack["message"]["mentions"] == [members["ada"].user.id]


def test_a_member_who_joins_after_a_mention_is_mentioned_at_once(band, chat):
    owner, room, members, _ = band
    assert owner.send(room["id"], "@ada first")["mentions"] == [members["ada"].user.id]  # the names kept
    dee = chat(username="dee_drums")
    assert owner.send(room["id"], "@dee_drums not yet")["mentions"] == []
    dee.post(f"/rooms/{room['id']}/join")
    assert owner.send(room["id"], "@dee_drums welcome")["mentions"] == [dee.user.id]


def test_a_member_who_left_is_no_longer_mentioned(band):
    owner, room, members, _ = band
    assert owner.send(room["id"], "@bo_bass")["mentions"] == [members["bo_bass"].user.id]
    members["bo_bass"].post(f"/rooms/{room['id']}/leave")
    assert owner.send(room["id"], "@bo_bass come back")["mentions"] == []


def test_a_renamed_member_is_mentioned_by_the_new_name_only(band):
    owner, room, members, _ = band
    assert owner.send(room["id"], "@ada")["mentions"] == [members["ada"].user.id]
    ada = members["ada"]
    renamed = ada.client.patch("/api/v1/users/me", json={"username": "ada_lovelace"}, headers=ada.user.headers)
    assert renamed.status_code == 200
    assert owner.send(room["id"], "@ada @ada_lovelace")["mentions"] == [members["ada"].user.id]
    assert owner.send(room["id"], "@ada")["mentions"] == []


def test_a_room_too_large_to_keep_its_names_asks_the_database(band, monkeypatch):
    from seda.chat import mentions

    monkeypatch.setattr(mentions, "KEPT_DIRECTORY_MAX_MEMBERS", 1)
    owner, room, members, outsider = band
    sent = owner.send(room["id"], "@bo_bass @ada @cy_out @owner_1")
    assert sent["mentions"] == [members["bo_bass"].user.id, members["ada"].user.id]


@services_only
def test_a_mention_reads_the_rooms_names_counters_in_the_sends_own_redis_round_trip(band, monkeypatch):
    owner, room, members, _ = band
    owner.send(room["id"], "warm @ada")  # the room's names are kept now, the sender loaded
    owner.send(room["id"], "warm")
    commands = record_redis_commands(monkeypatch)
    owner.send(room["id"], "plain")
    plain = list(commands)
    commands.clear()
    assert owner.send(room["id"], "hi @ada")["mentions"] == [members["ada"].user.id]
    assert commands == plain, (commands, plain)
