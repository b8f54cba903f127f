"""A sender's room, membership and mute kept between sends (chat/senders.py): a send costs no
statement before its store, and every change a moderator makes reaches the next send."""

from seda.chat.automod_memory import Remembered
from tests.helpers.chat import joined
from tests.helpers.queries import count_queries, record_redis_commands
from tests.helpers.tiers import services_only


def send(sock, room_id, text="hi"):
    return sock.emit("send_message", {"roomId": room_id, "text": text}, namespace="/chat", callback=True)


def test_a_senders_next_send_reads_nothing_before_its_store(app, chat, socket_for):
    owner = chat()
    room_id = owner.room()["id"]
    sock = socket_for(owner.user)
    joined(sock, room_id)
    assert send(sock, room_id, "first")["ok"]
    with count_queries(app) as statements:
        ack = send(sock, room_id, "second")
    assert ack["ok"] is True
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")], statements


def test_a_rest_senders_next_send_reads_nothing_before_its_store(app, chat):
    owner = chat()
    room_id = owner.room()["id"]
    owner.send(room_id, "first")
    with count_queries(app) as statements:
        owner.send(room_id, "second")
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")], statements


def test_every_send_asked_for_counts_toward_the_message_limit_refused_ones_too(app_factory, users):
    from seda.auth.tokens import issue_access_token
    from seda.extensions import socketio
    from tests.helpers.chat import Chat

    app = app_factory(RATE_LIMIT_MESSAGES="3 per 10 seconds")
    owner, fan = (Chat(app.test_client(), users.make()) for _ in range(2))
    fan.user.token = issue_access_token(app.config["JWT_SECRET"], fan.user.id)
    room_id = owner.room()["id"]
    assert fan.post(f"/rooms/{room_id}/messages", json={"text": "not a member yet"})[0] == 403
    sock = socketio.test_client(app, namespace="/chat", auth={"token": fan.user.token})
    refused = sock.emit("send_message", {"roomId": room_id, "text": "still not"}, namespace="/chat", callback=True)
    assert refused["error"]["statusCode"] == 403
    fan.post(f"/rooms/{room_id}/join")
    assert send(sock, room_id, "third counts")["ok"]
    assert fan.post(f"/rooms/{room_id}/messages", json={"text": "fourth"})[0] == 429
    sock.disconnect("/chat")


@services_only
def test_a_socket_sends_redis_work_before_its_store_is_one_round_trip(app, chat, socket_for, monkeypatch):
    """Its user's version, its sender's counters and its message limit: one script call."""
    owner = chat()
    room_id = owner.room()["id"]
    sock = socket_for(owner.user)
    joined(sock, room_id)
    assert send(sock, room_id, "first")["ok"]
    commands = record_redis_commands(monkeypatch)
    with count_queries(app) as statements:
        assert send(sock, room_id, "second")["ok"]
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")], statements
    assert commands[:1] == ["EVALSHA"] and "MGET" not in commands, commands


def fan_sending(chat, socket_for, text="hi"):
    """An owner's room and a fan whose socket has sent to it once (its sender now kept)."""
    owner, fan = chat(), chat()
    room_id = owner.room()["id"]
    fan.post(f"/rooms/{room_id}/join")
    sock = socket_for(fan.user)
    joined(sock, room_id)
    assert send(sock, room_id, text)["ok"]
    return owner, fan, room_id, sock


def test_a_kept_sender_follows_a_mute_an_unmute_slow_mode_a_role_and_a_kick(chat, socket_for):
    owner, fan, room_id, sock = fan_sending(chat, socket_for)

    assert owner.post(f"/rooms/{room_id}/mutes", json={"userId": fan.user.id, "durationSeconds": 60})[0] == 201
    muted = send(sock, room_id)
    assert muted["error"]["statusCode"] == 403 and muted["error"]["message"][0].startswith("You are muted until")
    assert owner.delete(f"/rooms/{room_id}/mutes/{fan.user.id}")[0] in (200, 204)
    assert send(sock, room_id, "unmuted")["ok"]

    assert owner.patch(f"/rooms/{room_id}", json={"slowModeSeconds": 30})[0] == 200
    assert send(sock, room_id, "slow")["ok"]
    slowed = send(sock, room_id, "slower")
    assert slowed["error"]["statusCode"] == 429 and "Slow mode" in slowed["error"]["message"][0]
    assert owner.patch(f"/rooms/{room_id}/members/{fan.user.id}", json={"role": "MODERATOR"})[0] == 200
    assert send(sock, room_id, "moderators skip slow mode")["ok"]

    assert owner.delete(f"/rooms/{room_id}/members/{fan.user.id}")[0] in (200, 204)
    kicked = send(sock, room_id, "gone")
    assert kicked["error"]["statusCode"] == 403 and kicked["error"]["message"] == ["Join the room first"]


def test_a_kept_sender_follows_the_rooms_automod_rules(chat, socket_for):
    owner, _fan, room_id, sock = fan_sending(chat, socket_for, "buy my album")
    rules = {
        "blockedWords": ["album"],
        "linkPolicy": "ANY",
        "maxMentions": 0,
        "blockRepeats": False,
        "autoMuteAfter": 0,
    }
    assert owner.put(f"/rooms/{room_id}/automod", json=rules)[0] == 200
    blocked = send(sock, room_id, "buy my album")
    assert blocked["error"]["statusCode"] == 422
    assert blocked["error"]["message"] == ["Blocked by room rules: blocked word"]


def test_a_senders_copy_follows_its_own_moves_in_any_order_and_reloads_past_anothers(app, chat, monkeypatch):
    """AutoMod's recent texts move the member's counter on every send (chat/senders.py): the
    copy follows this process's own moves even when their replies come back out of order, so
    sends in flight together do not reload each other; a move by another process is a gap the
    copy never passes, and the next reader beyond it loads the member again."""
    import time
    import uuid

    from seda.chat import senders
    from seda.extensions import db
    from seda.users.models import User

    owner = chat()
    room_id = owner.room()["id"]
    read, moves = [(0, 0, 5)], iter([(7,), (6,), (9,)])
    monkeypatch.setattr(senders, "counters", lambda names: read[0])
    monkeypatch.setattr(senders, "bump_counters", lambda names: next(moves))
    kept = senders.KeptSenders()
    with app.app_context():
        user = db.session.get(User, uuid.UUID(owner.user.id))

        def loads_with(version):
            read[0] = version
            with count_queries(app) as statements:
                room, membership, _ = kept.load(user, room_id)
            return len(statements), [text for _, text in (membership.automod_memory or {}).get("texts", ())]

        assert loads_with((0, 0, 5))[0] == 1
        for text in ("one", "two"):  # replies 7, then 6
            kept.memory_written(uuid.UUID(room_id), user.id, Remembered(None, {"texts": [[time.time(), text]]}))
        assert loads_with((0, 0, 6)) == (0, ["one", "two"])
        assert loads_with((0, 0, 7)) == (0, ["one", "two"])
        three = Remembered(None, {"texts": [[time.time(), "three"]]})
        kept.memory_written(uuid.UUID(room_id), user.id, three)  # 9: another moved 8
        assert loads_with((0, 0, 8))[0] == 1
