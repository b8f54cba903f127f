"""AutoMod and the moderation route of the original backend (API.md section 11), on both tiers."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from seda.auth.tokens import issue_access_token
from seda.common.audit import AdminAction
from seda.extensions import db
from seda.users.models import Role
from tests.helpers.chat import events

OFF = {"blockedWords": [], "linkPolicy": "ANY", "maxMentions": 0, "blockRepeats": False, "autoMuteAfter": 0}
SPOTIFY = "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"


def refused(rule):
    return [f"Blocked by room rules: {rule}"]


@pytest.fixture
def party(chat):
    """An owner's public room, a moderator and a fan (ada); returns (owner, moderator, fan, room)."""
    owner, moderator, fan = chat(username="owner_1"), chat(username="mod_1"), chat(username="ada")
    room = owner.room()
    for member in (moderator, fan):
        member.post(f"/rooms/{room['id']}/join")
    owner.patch(f"/rooms/{room['id']}/members/{moderator.user.id}", json={"role": "MODERATOR"})
    return owner, moderator, fan, room


def rules(owner, room, **changes):
    status, body = owner.put(f"/rooms/{room['id']}/automod", json={**OFF, **changes})
    assert status == 200, body
    return body


def send(member, room, text, **extra):
    return member.post(f"/rooms/{room['id']}/messages", json={"text": text, **extra})


def stored_texts(owner, room):
    return [m["text"] for m in owner.get(f"/rooms/{room['id']}/messages")[1]]


def test_rules_are_off_until_set_and_set_by_the_rooms_moderators(party, chat):
    owner, moderator, fan, room = party
    assert fan.get(f"/rooms/{room['id']}/automod") == (200, OFF)
    assert chat().get(f"/rooms/{room['id']}/automod")[0] == 403  # not a member
    assert fan.put(f"/rooms/{room['id']}/automod", json=OFF)[0] == 403
    wanted = {**OFF, "blockedWords": ["spam", "Promo code"], "maxMentions": 3}
    assert moderator.put(f"/rooms/{room['id']}/automod", json=wanted) == (200, wanted)
    assert fan.get(f"/rooms/{room['id']}/automod") == (200, wanted)


def test_an_admins_change_is_audited(app, party, chat):
    _owner, _moderator, _fan, room = party
    admin = chat(role=Role.ADMIN)
    rules(admin, room, linkPolicy="NONE")
    with app.app_context():
        [row] = db.session.scalars(sa.select(AdminAction).where(AdminAction.action == "room.automod")).all()
        assert row.target_id == room["id"] and row.details["linkPolicy"] == "NONE"


def test_blocked_words_match_whole_words_ignoring_case_and_accents(party):
    owner, moderator, fan, room = party
    rules(owner, room, blockedWords=["spam", "free followers"])
    for text in ("SPÄM here", "get Free followers", "(spam)"):
        status, error = send(fan, room, text)
        assert status == 422 and error["message"] == refused("blocked word")
    assert send(fan, room, "spammer and spamspam are fine")[0] == 201
    assert send(moderator, room, "spam from a moderator")[0] == 201  # exempt
    assert stored_texts(owner, room) == ["spam from a moderator", "spammer and spamspam are fine"]


def test_an_edit_is_checked_too(party):
    owner, _moderator, fan, room = party
    sent = send(fan, room, "hello")[1]
    rules(owner, room, blockedWords=["spam"])
    status, error = fan.patch(f"/messages/{sent['id']}", json={"text": "spam"})
    assert status == 422 and error["message"] == refused("blocked word")
    assert stored_texts(owner, room) == ["hello"]


def test_link_policies(party):
    owner, _moderator, fan, room = party
    rules(owner, room, linkPolicy="MUSIC_ONLY")
    assert send(fan, room, f"listen {SPOTIFY}")[0] == 201
    for text in ("buy at https://shop.example.com", "or www.shop.example.com"):
        status, error = send(fan, room, text)
        assert status == 422 and error["message"] == refused("link not allowed")
    rules(owner, room, linkPolicy="NONE")
    assert send(fan, room, f"listen {SPOTIFY}")[1]["message"] == refused("link not allowed")
    card = {"provider": "spotify", "providerId": "4uLU6hMCjMI75M1A2tKUQC", "url": SPOTIFY, "title": "Song"}
    assert send(fan, room, "no links, a card", trackRef=card)[0] == 201


def test_too_many_distinct_members_mentioned(party, chat):
    owner, _moderator, fan, room = party
    rules(owner, room, maxMentions=1)
    assert send(fan, room, "@owner_1 @owner_1 and @nobody_here")[0] == 201  # one distinct member
    status, error = send(fan, room, "@owner_1 @mod_1")
    assert status == 422 and error["message"] == refused("too many mentions")


def test_the_third_identical_text_within_a_minute_is_refused(app, party):
    owner, _moderator, fan, room = party
    rules(owner, room, blockRepeats=True)
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        assert send(fan, room, "buy my album")[0] == 201
        assert send(fan, room, "  BUY MY ALBUM ")[0] == 201
        status, error = send(fan, room, "buy my album")
        assert status == 422 and error["message"] == refused("repeated message")
        assert send(fan, room, "something else")[0] == 201
        clock.shift(timedelta(seconds=61))
        fan.user.token = issue_access_token(app.config["JWT_SECRET"], fan.user.id)
        assert send(fan, room, "something else")[0] == 201  # the earlier ones are over a minute old
        assert send(fan, room, "something else")[0] == 201


def test_rules_apply_in_order_and_a_refusal_does_not_count_for_slow_mode(party):
    owner, _moderator, fan, room = party
    owner.patch(f"/rooms/{room['id']}", json={"slowModeSeconds": 30})
    rules(owner, room, blockedWords=["spam"], linkPolicy="NONE")
    assert send(fan, room, "spam at https://x.example")[1]["message"] == refused("blocked word")
    assert send(fan, room, "fine text")[0] == 201


def test_repeated_refusals_mute_for_ten_minutes(app, party, socket_for):
    owner, _moderator, fan, room = party
    rules(owner, room, blockedWords=["spam"], autoMuteAfter=2)
    watcher = socket_for(owner.user)
    watcher.emit("join_room", room["id"], namespace="/chat", callback=True)
    events(watcher)
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        assert send(fan, room, "spam")[0] == 422
        assert send(fan, room, "spam")[0] == 422  # the second refusal: muted
        status, error = send(fan, room, "ok now?")
        assert status == 403 and error["message"][0].startswith("You are muted until")
        [(_name, (room_id, user_id, until))] = events(watcher, "user_muted")
        assert (room_id, user_id) == (room["id"], fan.user.id)
        clock.shift(timedelta(minutes=10, seconds=1))
        fan.user.token = issue_access_token(app.config["JWT_SECRET"], fan.user.id)
        assert send(fan, room, "ok now")[0] == 201


def test_the_socket_path_is_checked_alike(party, socket_for):
    owner, _moderator, fan, room = party
    rules(owner, room, blockedWords=["spam"])
    sock = socket_for(fan.user)
    ack = sock.emit("send_message", {"roomId": room["id"], "text": "Spam!"}, namespace="/chat", callback=True)
    assert ack["ok"] is False and ack["error"]["statusCode"] == 422
    assert ack["error"]["message"] == refused("blocked word")


@pytest.mark.parametrize(
    "changes",
    [
        {"blockedWords": [""]},
        {"blockedWords": ["   "]},
        {"blockedWords": ["x" * 51]},
        {"blockedWords": [f"w{n}" for n in range(201)]},
        {"linkPolicy": "SOME"},
        {"maxMentions": 51},
        {"maxMentions": -1},
        {"autoMuteAfter": 11},
        {"blockRepeats": "yes"},
        {"extra": True},
    ],
)
def test_hostile_settings_are_refused(party, changes):
    owner, _moderator, _fan, room = party
    status, error = owner.put(f"/rooms/{room['id']}/automod", json={**OFF, **changes})
    assert status == 400 and error["message"], error
    assert owner.get(f"/rooms/{room['id']}/automod")[1] == OFF


def test_every_field_is_required(party):
    owner, _moderator, _fan, room = party
    partial = dict(OFF)
    partial.pop("blockRepeats")
    assert owner.put(f"/rooms/{room['id']}/automod", json=partial)[0] == 400


# -- POST /chat/rooms/{roomId}/moderation --------------------------------------------------------


def moderate(member, room, target_id, action, **extra):
    return member.post(f"/rooms/{room['id']}/moderation", json={"targetId": target_id, "action": action, **extra})


def test_the_moderation_route_deletes_mutes_and_clears_reactions(party, socket_for):
    owner, moderator, fan, room = party
    message = send(fan, room, "hello")[1]
    fan.post(f"/messages/{message['id']}/reactions", json={"emoji": "🔥"})
    owner.post(f"/messages/{message['id']}/reactions", json={"emoji": "🎷"})
    watcher = socket_for(owner.user)
    watcher.emit("join_room", room["id"], namespace="/chat", callback=True)
    events(watcher)
    done = (200, {"message": "Moderation action completed"})
    assert moderate(moderator, room, message["id"], "CLEAR_REACTIONS") == done
    assert events(watcher, "reactions_cleared") == [("reactions_cleared", [message["id"], room["id"]])]
    assert owner.get(f"/messages/{message['id']}")[1]["reactions"] == []
    assert moderate(moderator, room, fan.user.id, "MUTE_USER", reason="calm down") == done
    [(_name, (_room, muted, until))] = events(watcher, "user_muted")
    assert muted == fan.user.id
    hours = (datetime.fromisoformat(until) - datetime.now(UTC)).total_seconds() / 3600
    assert 23.9 < hours <= 24
    assert moderate(moderator, room, message["id"], "DELETE_MESSAGE") == done
    assert events(watcher, "message_deleted") == [("message_deleted", [message["id"], room["id"]])]
    assert owner.get(f"/messages/{message['id']}")[0] == 404


def test_the_moderation_route_has_the_rights_of_each_action(party, chat):
    owner, moderator, fan, room = party
    message = send(owner, room, "the owner's")[1]
    assert moderate(fan, room, message["id"], "DELETE_MESSAGE")[0] == 403
    assert moderate(moderator, room, owner.user.id, "MUTE_USER")[0] == 403  # the owner is not moderated
    other_room = chat().room(name="Elsewhere")
    assert moderate(moderator, other_room, message["id"], "CLEAR_REACTIONS")[0] == 403
    assert moderate(moderator, room, fan.user.id, "DELETE_MESSAGE")[0] == 404  # not a message
    assert moderate(moderator, room, message["id"], "BAN_USER")[0] == 400


def test_an_admins_moderation_is_audited(app, party, chat):
    owner, _moderator, fan, room = party
    admin = chat(role=Role.ADMIN)
    message = send(owner, room, "to clear")[1]
    for target, action in (
        (message["id"], "CLEAR_REACTIONS"),
        (fan.user.id, "MUTE_USER"),
        (message["id"], "DELETE_MESSAGE"),
    ):
        assert moderate(admin, room, target, action)[0] == 200
    with app.app_context():
        actions = db.session.scalars(sa.select(AdminAction.action).order_by(AdminAction.created_at)).all()
    assert actions == ["message.clear_reactions", "room.mute", "message.delete"]


INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "soft hyphen": "\u00ad",
    "variation selector": "\ufe0f",
    "combining grapheme joiner": "\u034f",
    "tag character": "\U000e0041",
    "hangul filler": "\u3164",
    "mongolian separator": "\u180e",
}


@pytest.mark.parametrize("name", list(INVISIBLE))
def test_an_invisible_character_inside_a_blocked_word_does_not_hide_it(party, name):
    owner, _moderator, fan, room = party
    rules(owner, room, blockedWords=["spam"])
    status, error = send(fan, room, f"buy sp{INVISIBLE[name]}am now")
    assert status == 422 and error["message"] == refused("blocked word")
    assert stored_texts(owner, room) == []


def test_look_alike_letters_read_as_the_blocked_words_script(party):
    owner, _moderator, fan, room = party
    rules(owner, room, blockedWords=["spam", "scam", "дурак"])
    for text in (
        "sp\u0430m",
        "\u0455\u0441\u0430m",
        "SP\u0410M",
        "sc\u03b1m",
        "ду\u0070\u0061к",
    ):  # Cyrillic а ѕ с А, Greek α, Latin p a
        status, error = send(fan, room, text)
        assert status == 422 and error["message"] == refused("blocked word"), text
    assert send(fan, room, "спасибо, spammer")[0] == 201  # other words in either script pass
    assert stored_texts(owner, room) == ["спасибо, spammer"]


def test_bare_host_names_are_links(party):
    owner, _moderator, fan, room = party
    rules(owner, room, linkPolicy="NONE")
    for text in ("go to evil.example/path", "shop.co.uk has it", "see bit.ly/x", "sh\u200bop.co.uk"):
        status, error = send(fan, room, text)
        assert status == 422 and error["message"] == refused("link not allowed"), text
    for text in ("e.g. this one", "pi is 3.14", "version 1.2.3", "mail me@host.co.uk", "the end."):
        assert send(fan, room, text)[0] == 201, text
    rules(owner, room, linkPolicy="MUSIC_ONLY")
    assert send(fan, room, "open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC")[0] == 201
    assert send(fan, room, "shop.co.uk")[1]["message"] == refused("link not allowed")


@pytest.mark.parametrize("texts", [["sp\u0430m", "sp\u200bam"], ["evil.example/x", "sp\u0430m"]])
def test_every_refusal_counts_toward_the_auto_mute_whichever_rule_refused_it(party, socket_for, texts):
    owner, _moderator, fan, room = party
    rules(owner, room, blockedWords=["spam"], linkPolicy="NONE", autoMuteAfter=2)
    assert send(fan, room, texts[0])[0] == 422
    ack = socket_for(fan.user).emit(
        "send_message", {"roomId": room["id"], "text": texts[1]}, namespace="/chat", callback=True
    )
    assert ack["ok"] is False and ack["error"]["statusCode"] == 422
    status, error = send(fan, room, "fine now?")
    assert status == 403 and error["message"][0].startswith("You are muted until")
