"""Listening sessions over REST and the test socket client, on both tiers (API.md section 10)."""

import threading
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from seda.common.audit import AdminAction
from seda.extensions import db
from seda.sessions import playback
from seda.sessions.models import ListeningSession
from tests.helpers.chat import events
from tests.helpers.servers import wait_until
from tests.helpers.sessions import member_of, queue, track


def moment(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def session_of(person, room_id):
    return person.get(f"/rooms/{room_id}/session")


# -- starting, reading and ending ---------------------------------------------------------------


def test_a_member_starts_the_session_and_hosts_it(chat):
    owner = chat()
    room_id = owner.room()["id"]
    status, session = owner.post(f"/rooms/{room_id}/session")
    assert status == 201
    assert session["roomId"] == room_id and session["status"] == "ACTIVE"
    assert session["host"]["id"] == str(owner.user.id)
    assert session["nowPlaying"] is None and session["queue"] == []
    assert session["skipVotes"] == 0 and session["skipNeeded"] == 1 and session["myVote"] is False
    assert session["endedAt"] is None and moment(session["serverTime"]) >= moment(session["createdAt"])
    assert owner.get(f"/rooms/{room_id}")[1]["activeSessionId"] == session["id"]


def test_one_active_session_per_room(room, chat):
    owner, room_id = room
    other = member_of(chat, room_id)
    status, body = other.post(f"/rooms/{room_id}/session")
    assert status == 409 and body["message"] == ["This room already has an active listening session"]


def test_two_members_racing_to_start_get_one_session_and_one_409(app, chat):
    owner = chat()
    room_id = owner.room()["id"]
    racers = [owner, member_of(chat, room_id)]
    barrier, statuses = threading.Barrier(2), []

    def start(person):
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/chat/rooms/{room_id}/session", headers=person.user.headers)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=start, args=(person,)) for person in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(statuses) == [201, 409]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ListeningSession)) == 1


def test_only_members_start_a_session_and_private_rooms_hide_it(chat):
    owner = chat()
    public_id = owner.room()["id"]
    private_id = owner.room("Secret", isPrivate=True)["id"]
    owner.post(f"/rooms/{private_id}/session")
    stranger = chat()
    assert stranger.post(f"/rooms/{public_id}/session")[0] == 403
    assert stranger.get(f"/rooms/{private_id}/session")[0] == 404
    assert stranger.post(f"/rooms/{private_id}/session")[0] == 404
    assert queue(stranger, private_id, trackRef=track())[0] == 404
    assert stranger.get(f"/rooms/{private_id}/session/history")[0] == 404


def test_anyone_who_sees_a_public_room_reads_its_session(room, chat):
    _owner, room_id = room
    status, session = session_of(chat(), room_id)
    assert status == 200 and session["roomId"] == room_id


def test_routes_under_session_answer_404_without_an_active_session(chat):
    owner = chat()
    room_id = owner.room()["id"]
    for method, path in [
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/skip"),
        ("GET", "/history"),
        ("DELETE", "/queue/00000000-0000-0000-0000-000000000000"),
    ]:
        status, body = owner.call(method, f"/rooms/{room_id}/session{path}")
        assert status == 404, (method, path)
        assert body["message"] == ["No listening session in this room"]
    assert queue(owner, room_id, trackRef=track())[0] == 404


def test_the_host_ends_the_session(room, socket_for):
    owner, room_id = room
    sock = socket_for(owner.user)
    sock.emit("join_room", room_id, namespace="/chat")
    session_id = session_of(owner, room_id)[1]["id"]
    sock.get_received("/chat")
    assert owner.delete(f"/rooms/{room_id}/session")[0] == 204
    assert session_of(owner, room_id)[0] == 404
    assert owner.get(f"/rooms/{room_id}")[1]["activeSessionId"] is None
    assert events(sock, "session_ended") == [("session_ended", [room_id, session_id])]
    assert owner.post(f"/rooms/{room_id}/session")[0] == 201  # a new one may start


def test_members_cannot_end_it_but_moderators_and_admins_can(app, room, chat, users):
    owner, room_id = room
    member = member_of(chat, room_id)
    assert member.delete(f"/rooms/{room_id}/session")[0] == 403
    moderator = member_of(chat, room_id)
    owner.patch(f"/rooms/{room_id}/members/{moderator.user.id}", json={"role": "MODERATOR"})
    assert moderator.delete(f"/rooms/{room_id}/session")[0] == 204
    owner.post(f"/rooms/{room_id}/session")
    admin = chat(role="ADMIN")
    assert admin.delete(f"/rooms/{room_id}/session")[0] == 204
    with app.app_context():
        actions = db.session.scalars(sa.select(AdminAction.action).where(AdminAction.target_id == room_id)).all()
    assert actions == ["session.end"]


# -- the queue ----------------------------------------------------------------------------------


def test_the_first_track_plays_at_once_and_the_next_ones_wait(room, chat, socket_for):
    owner, room_id = room
    sock = socket_for(owner.user)
    sock.emit("join_room", room_id, namespace="/chat")
    sock.get_received("/chat")
    status, first = queue(owner, room_id, trackRef=track(duration=240))
    assert status == 201
    assert first["trackRef"]["title"] == "Windowlicker" and first["trackRef"]["duration"] == 240
    assert first["addedBy"]["id"] == str(owner.user.id)
    [(_, [playing])] = events(sock, "now_playing")
    assert playing["item"]["id"] == first["id"] and playing["queue"] == []
    assert moment(playing["endsAt"]) - moment(playing["startedAt"]) == timedelta(seconds=240)
    assert moment(playing["serverTime"]) >= moment(playing["startedAt"])

    member = member_of(chat, room_id)
    status, second = queue(member, room_id, trackRef=track(title="Xtal"))
    assert status == 201
    [(_, [update])] = events(sock, "queue_updated")
    assert update == {"roomId": room_id, "sessionId": playing["sessionId"], "queue": [second]}
    session = session_of(member, room_id)[1]
    assert session["nowPlaying"]["id"] == first["id"] and session["nowPlaying"]["endsAt"] == playing["endsAt"]
    assert [item["id"] for item in session["queue"]] == [second["id"]]


def test_a_track_without_a_duration_plays_until_skipped(room):
    owner, room_id = room
    queue(owner, room_id, trackRef=track())
    now_playing = session_of(owner, room_id)[1]["nowPlaying"]
    assert now_playing["startedAt"] is not None and now_playing["endsAt"] is None


@pytest.mark.parametrize("duration", [0, 3601, -5, 2.5, "240"])
def test_a_client_duration_outside_1_to_3600_seconds_is_refused(room, duration):
    owner, room_id = room
    status, body = queue(owner, room_id, trackRef=track(duration=duration))
    assert status == 400 and body["message"][0].startswith("trackRef.duration")


@pytest.mark.parametrize(
    "body,message",
    [
        ({}, "trackRef: Give either trackRef or url."),
        ({"url": "https://open.spotify.com/track/x", "trackRef": track()}, "trackRef: Give either trackRef or url."),
        ({"trackRef": track(), "extra": 1}, "extra: property should not exist"),
    ],
)
def test_a_queue_add_takes_a_track_ref_or_a_url(room, body, message):
    owner, room_id = room
    status, answer = queue(owner, room_id, **body)
    assert status == 400 and message in answer["message"]


def test_a_link_that_is_not_music_or_not_its_provider_is_422(room):
    owner, room_id = room
    assert queue(owner, room_id, url="https://example.com/song")[0] == 422
    assert queue(owner, room_id, trackRef=track(provider="deezer"))[0] == 422
    assert session_of(owner, room_id)[1]["nowPlaying"] is None


def test_at_most_three_of_mine_wait(room):
    owner, room_id = room
    queue(owner, room_id, trackRef=track())  # plays at once: not waiting
    for _ in range(3):
        assert queue(owner, room_id, trackRef=track())[0] == 201
    status, body = queue(owner, room_id, trackRef=track())
    assert status == 409 and body["message"] == ["You already have 3 tracks waiting in the queue"]


def test_the_queue_holds_100_tracks(room, chat):
    owner, room_id = room
    queue(owner, room_id, trackRef=track())
    members = [member_of(chat, room_id) for _ in range(34)]
    added = [queue(member, room_id, trackRef=track())[0] for member in members for _ in range(3)]
    assert added.count(201) == 100 and added.count(409) == 2
    status, body = queue(owner, room_id, trackRef=track())
    assert status == 409 and body["message"] == ["The queue is full (100 tracks)"]
    assert len(session_of(owner, room_id)[1]["queue"]) == 100


def test_only_members_queue(room, chat):
    _owner, room_id = room
    status, body = queue(chat(), room_id, trackRef=track())
    assert status == 403 and body["message"] == ["Join the room first"]


def test_who_may_remove_a_track(room, chat, socket_for):
    owner, room_id = room
    queue(owner, room_id, trackRef=track())
    adder, other = member_of(chat, room_id), member_of(chat, room_id)
    mine = queue(adder, room_id, trackRef=track())[1]
    theirs = queue(other, room_id, trackRef=track())[1]
    assert other.delete(f"/rooms/{room_id}/session/queue/{mine['id']}")[0] == 403
    sock = socket_for(adder.user)
    sock.emit("join_room", room_id, namespace="/chat")
    sock.get_received("/chat")
    assert adder.delete(f"/rooms/{room_id}/session/queue/{mine['id']}")[0] == 204
    assert owner.delete(f"/rooms/{room_id}/session/queue/{theirs['id']}")[0] == 204  # the host
    assert [args[0]["queue"] for _, args in events(sock, "queue_updated")] == [[theirs], []]
    status, body = adder.delete(f"/rooms/{room_id}/session/queue/{mine['id']}")
    assert status == 404 and body["message"] == ["Queue item not found"]
    assert owner.delete(f"/rooms/{room_id}/session/queue/not-a-uuid")[0] == 404


def test_removing_the_playing_track_skips_to_the_next(room):
    owner, room_id = room
    playing = queue(owner, room_id, trackRef=track())[1]
    following = queue(owner, room_id, trackRef=track(duration=60))[1]
    assert owner.delete(f"/rooms/{room_id}/session/queue/{playing['id']}")[0] == 204
    session = session_of(owner, room_id)[1]
    assert session["nowPlaying"]["id"] == following["id"] and session["queue"] == []
    history = owner.get(f"/rooms/{room_id}/session/history")[1]
    assert [(item["id"], item["skipped"]) for item in history] == [(following["id"], False), (playing["id"], True)]


# -- skipping -----------------------------------------------------------------------------------


def online(socket_for, room_id, *people):
    socks = []
    for person in people:
        sock = socket_for(person.user)
        ack = sock.emit("join_room", room_id, namespace="/chat", callback=True)
        assert ack["ok"], ack
        socks.append(sock)
    return socks


def test_the_host_skips_at_once(room):
    owner, room_id = room
    queue(owner, room_id, trackRef=track())
    following = queue(owner, room_id, trackRef=track())[1]
    status, session = owner.post(f"/rooms/{room_id}/session/skip")
    assert status == 200 and session["nowPlaying"]["id"] == following["id"]


def test_skips_sent_together_for_one_track_skip_it_once(app, room):
    owner, room_id = room
    playing = queue(owner, room_id, trackRef=track())[1]
    waiting = [queue(owner, room_id, trackRef=track())[1] for _ in range(3)]
    barrier, answers = threading.Barrier(4), []

    def skip():
        client = app.test_client()
        barrier.wait()
        url = f"/api/v1/chat/rooms/{room_id}/session/skip"
        response = client.post(url, json={"itemId": playing["id"]}, headers=owner.user.headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=skip) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(status for status, _ in answers) == [200, 409, 409, 409]
    assert {body["message"][0] for status, body in answers if status == 409} == {"That track is no longer playing"}
    status, session = owner.get(f"/rooms/{room_id}/session")
    assert session["nowPlaying"]["id"] == waiting[0]["id"]  # one track skipped, not four
    assert [item["id"] for item in session["queue"]] == [item["id"] for item in waiting[1:]]
    status, session = owner.post(f"/rooms/{room_id}/session/skip", json={"itemId": waiting[0]["id"]})
    assert status == 200 and session["nowPlaying"]["id"] == waiting[1]["id"]


def test_members_vote_and_the_majority_of_those_online_skips(room, chat, socket_for):
    owner, room_id = room
    first, second = member_of(chat, room_id), member_of(chat, room_id)
    socks = online(socket_for, room_id, owner, first, second)
    playing = queue(owner, room_id, trackRef=track())[1]
    following = queue(owner, room_id, trackRef=track())[1]
    for sock in socks:
        sock.get_received("/chat")

    status, session = first.post(f"/rooms/{room_id}/session/skip")
    assert status == 200
    assert (session["skipVotes"], session["skipNeeded"], session["myVote"]) == (1, 2, True)
    assert session["nowPlaying"]["id"] == playing["id"]
    votes = {"roomId": room_id, "sessionId": session["id"], "itemId": playing["id"], "votes": 1, "needed": 2}
    assert events(socks[0], "skip_votes") == [("skip_votes", [votes])]

    status, again = first.post(f"/rooms/{room_id}/session/skip")  # a second vote changes nothing
    assert status == 200 and again["skipVotes"] == 1 and again["nowPlaying"]["id"] == playing["id"]
    assert session_of(second, room_id)[1]["myVote"] is False

    status, session = second.post(f"/rooms/{room_id}/session/skip")
    assert session["nowPlaying"]["id"] == following["id"]
    assert (session["skipVotes"], session["myVote"]) == (0, False)  # votes reset with each track
    assert [args[0]["item"]["id"] for _, args in events(socks[0], "now_playing")] == [following["id"]]


def test_the_threshold_follows_who_is_online_and_an_offline_voter_keeps_the_vote(room, chat, socket_for):
    owner, room_id = room
    voter, first, second = (member_of(chat, room_id) for _ in range(3))
    owner_sock, voter_sock, first_sock, second_sock = online(socket_for, room_id, owner, voter, first, second)
    queue(owner, room_id, trackRef=track())
    following = queue(owner, room_id, trackRef=track())[1]
    assert voter.post(f"/rooms/{room_id}/session/skip")[1]["skipNeeded"] == 3  # 4 online
    first_sock.disconnect("/chat")
    second_sock.disconnect("/chat")
    session = session_of(owner, room_id)[1]
    assert (session["skipVotes"], session["skipNeeded"]) == (1, 2)  # 1 of 2 online is not more than half
    assert session["nowPlaying"]["id"] != following["id"]
    voter_sock.disconnect("/chat")  # 1 vote, 1 online: the voter's vote still counts
    assert wait_until(lambda: session_of(owner, room_id)[1]["nowPlaying"]["id"] == following["id"], timeout=5)
    skipped = [args[0]["item"]["id"] for _, args in events(owner_sock, "now_playing")]
    assert skipped[-1] == following["id"]


def test_skipping_with_nothing_playing_is_409_and_strangers_cannot_vote(room, chat):
    owner, room_id = room
    status, body = owner.post(f"/rooms/{room_id}/session/skip")
    assert status == 409 and body["message"] == ["Nothing is playing"]
    queue(owner, room_id, trackRef=track())
    assert chat().post(f"/rooms/{room_id}/session/skip")[0] == 403


def test_an_admin_skip_is_audited(app, room, chat):
    owner, room_id = room
    queue(owner, room_id, trackRef=track())
    admin = chat(role="ADMIN")
    status, session = admin.post(f"/rooms/{room_id}/session/skip")
    assert status == 200 and session["nowPlaying"] is None
    with app.app_context():
        assert db.session.scalar(sa.select(AdminAction.action).where(AdminAction.target_id == room_id)) == (
            "session.skip"
        )


# -- playback on time ---------------------------------------------------------------------------


def test_playback_advances_on_time_with_no_client_connected(room):
    owner, room_id = room
    first = queue(owner, room_id, trackRef=track(duration=2))[1]
    # Read the first track's end before queuing the second: on a slow machine a 1 s track had
    # ended by then and the second's end was read instead.
    playing = session_of(owner, room_id)[1]["nowPlaying"]
    assert playing["id"] == first["id"]
    ends_at = moment(playing["endsAt"])
    second = queue(owner, room_id, trackRef=track(duration=1))[1]
    assert wait_until(lambda: session_of(owner, room_id)[1]["nowPlaying"]["id"] == second["id"], timeout=5)
    started = moment(session_of(owner, room_id)[1]["nowPlaying"]["startedAt"])
    assert timedelta(0) <= started - ends_at < timedelta(seconds=1)
    assert wait_until(lambda: session_of(owner, room_id)[1]["nowPlaying"] is None, timeout=5)
    history = owner.get(f"/rooms/{room_id}/session/history")[1]
    assert [(i["id"], i["skipped"]) for i in history] == [(second["id"], False), (first["id"], False)]
    assert all(i["endedAt"] is not None for i in history)


def test_the_sweep_advances_what_is_due_exactly_once(app, room):
    owner, room_id = room
    queue(owner, room_id, trackRef=track(duration=600))
    following = queue(owner, room_id, trackRef=track(duration=600))[1]
    with app.app_context(), time_machine.travel(datetime.now().astimezone() + timedelta(seconds=601), tick=True):
        session_id, item_id = db.session.execute(sa.select(ListeningSession.id, ListeningSession.playing_item_id)).one()
        assert playback.sweep() == 1
        assert playback.sweep() == 0
        assert playback.advance_when_due(session_id, item_id) is False  # the duplicate task
    assert session_of(owner, room_id)[1]["nowPlaying"]["id"] == following["id"]


def test_two_sweeps_at_once_advance_once(app, room):
    owner, room_id = room
    queue(owner, room_id, trackRef=track(duration=600))
    for _ in range(3):
        queue(owner, room_id, trackRef=track(duration=600))
    barrier, advanced = threading.Barrier(4), []

    def sweep():
        with app.app_context():
            barrier.wait()
            advanced.append(playback.sweep())
            db.session.remove()

    with time_machine.travel(datetime.now().astimezone() + timedelta(seconds=601), tick=True):
        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    assert sum(advanced) == 1
    history = owner.get(f"/rooms/{room_id}/session/history")[1]
    assert len(history) == 2 and history[1]["endedAt"] is not None and history[0]["endedAt"] is None


def test_an_early_task_changes_nothing(app, room):
    owner, room_id = room
    queue(owner, room_id, trackRef=track(duration=600))
    with app.app_context():
        session_id, item_id = db.session.execute(sa.select(ListeningSession.id, ListeningSession.playing_item_id)).one()
        assert playback.advance_when_due(session_id, item_id) is False
    assert session_of(owner, room_id)[1]["nowPlaying"]["id"] == str(item_id)


# -- joining late, hosts leaving, shares --------------------------------------------------------


def test_a_late_joiner_gets_the_session_in_the_join_ack(room, chat, socket_for):
    owner, room_id = room
    playing = queue(owner, room_id, trackRef=track(duration=300))[1]
    time.sleep(0.05)
    late = chat()
    ack = socket_for(late.user).emit("join_room", room_id, namespace="/chat", callback=True)
    session = ack["session"]
    assert session["nowPlaying"]["id"] == playing["id"]
    position = moment(session["serverTime"]) - moment(session["nowPlaying"]["startedAt"])
    assert timedelta(milliseconds=50) <= position < timedelta(seconds=5)


def test_the_join_ack_says_null_without_a_session(chat, socket_for):
    owner = chat()
    room_id = owner.room()["id"]
    ack = socket_for(owner.user).emit("join_room", room_id, namespace="/chat", callback=True)
    assert ack["ok"] and ack["session"] is None


def test_the_owner_hosts_when_the_host_leaves(chat, socket_for):
    owner = chat()
    room_id = owner.room()["id"]
    host = member_of(chat, room_id)
    host.post(f"/rooms/{room_id}/session")
    sock = online(socket_for, room_id, owner)[0]
    sock.get_received("/chat")
    assert host.post(f"/rooms/{room_id}/leave")[0] in (200, 204)
    assert session_of(owner, room_id)[1]["host"]["id"] == str(owner.user.id)
    [(_, [updated])] = events(sock, "session_updated")
    assert updated["host"]["id"] == str(owner.user.id)


def test_a_kicked_host_is_replaced_by_the_longest_standing_moderator(chat):
    owner = chat()
    room_id = owner.room()["id"]
    early, late, host = (member_of(chat, room_id) for _ in range(3))
    for moderator in (early, late):
        owner.patch(f"/rooms/{room_id}/members/{moderator.user.id}", json={"role": "MODERATOR"})
    host.post(f"/rooms/{room_id}/session")
    owner.post(f"/rooms/{room_id}/leave")  # ownership goes to a moderator, who hosts from now on
    new_owner = session_of(early, room_id)[1]["host"]
    assert new_owner["id"] == str(host.user.id)
    assert early.delete(f"/rooms/{room_id}/members/{host.user.id}")[0] in (200, 204)
    assert session_of(early, room_id)[1]["host"]["id"] == str(early.user.id)


def test_the_session_ends_when_its_host_leaves_and_no_one_can_host(chat):
    owner = chat()
    room_id = owner.room()["id"]
    owner.post(f"/rooms/{room_id}/session")
    owner.post(f"/rooms/{room_id}/leave")
    assert chat(role="ADMIN").get(f"/rooms/{room_id}/session")[0] == 404


def test_played_tracks_count_as_shares_in_public_rooms_only(client, chat):
    owner = chat()
    public_id = owner.room()["id"]
    private_id = owner.room("Private", isPrivate=True)["id"]
    owner.post(f"/rooms/{public_id}/session")
    owner.post(f"/rooms/{private_id}/session")
    played, hidden = track(title="Played"), track(title="Hidden")
    queue(owner, public_id, trackRef=played)
    queue(owner, private_id, trackRef=hidden)
    popular = client.get("/api/v1/tracks/popular", headers=owner.user.headers).get_json()
    assert [(t["url"], t["shareCount"]) for t in popular] == [(played["url"], 1)]
    assert popular[0]["title"] == "Played"


def test_history_pages_most_recent_first(room):
    owner, room_id = room
    ids = [queue(owner, room_id, trackRef=track())[1]["id"]]
    for _ in range(3):
        queue(owner, room_id, trackRef=track())
        owner.post(f"/rooms/{room_id}/session/skip")
        ids.append(session_of(owner, room_id)[1]["nowPlaying"]["id"])
    status, page = owner.get(f"/rooms/{room_id}/session/history?limit=3")
    assert status == 200 and [i["id"] for i in page] == ids[::-1][:3]
    assert [i["skipped"] for i in page] == [False, True, True] and page[0]["endedAt"] is None
    status, rest = owner.get(f"/rooms/{room_id}/session/history?limit=3&cursor={page[-1]['id']}")
    assert [i["id"] for i in rest] == [ids[0]]
