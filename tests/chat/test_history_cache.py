"""History pages are kept while the room's history is unchanged: every change shows on the next
page, an unchanged page answers 304 to its ETag, and the membership check is never skipped."""

from urllib.parse import quote

from tests.helpers.chat import history
from tests.helpers.queries import count_queries


def texts_and_reactions(response):
    return [(m["text"], [r["emoji"] for r in m["reactions"]]) for m in response.get_json()]


def test_an_unchanged_page_answers_304_to_its_etag_and_costs_one_statement(app, chat):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    owner.send(room["id"], "one")
    first = history(owner, room)
    assert first.status_code == 200 and first.headers["ETag"]
    with count_queries(app) as statements:
        same = history(fan, room)
    assert same.status_code == 200 and same.get_data() == first.get_data()
    assert same.headers["ETag"] == first.headers["ETag"]
    # Only the room with the caller's membership is read (the caller's user is kept: users/kept.py).
    assert len(statements) == 1 and "room_memberships" in statements[0], statements
    not_modified = history(fan, room, etag=first.headers["ETag"])
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    assert history(fan, room, etag='"something-else"').status_code == 200


def test_a_browser_page_may_read_the_etag(client, chat):
    owner = chat()
    room = owner.room()
    response = client.get(
        f"/api/v1/chat/rooms/{room['id']}/messages",
        headers={**owner.user.headers, "Origin": "http://localhost:3000"},
    )
    exposed = [h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")]
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "etag" in exposed and "x-next-cursor" in exposed


def test_every_change_to_the_history_shows_on_the_next_page(chat):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    first = owner.send(room["id"], "first")
    pages = [history(fan, room, "?limit=10")]

    def changed(expected):
        # Asked plainly (a kept answer: common/kept_responses.py) and conditionally (Flask's 304 path).
        assert texts_and_reactions(history(fan, room, "?limit=10")) == expected
        response = history(fan, room, "?limit=10", etag=pages[-1].headers["ETag"])
        assert response.status_code == 200, "the page did not change"
        assert texts_and_reactions(response) == expected
        pages.append(response)

    second = fan.send(room["id"], "second")
    changed([("second", []), ("first", [])])
    fan.patch(f"/messages/{second['id']}", json={"text": "second, edited"})
    changed([("second, edited", []), ("first", [])])
    owner.post(f"/messages/{first['id']}/reactions", json={"emoji": "🔥"})
    fan.post(f"/messages/{first['id']}/reactions", json={"emoji": "🎷"})
    changed([("second, edited", []), ("first", ["🔥", "🎷"])])
    fan.delete(f"/messages/{first['id']}/reactions/{quote('🎷')}")
    changed([("second, edited", []), ("first", ["🔥"])])
    status, _ = owner.post(
        f"/rooms/{room['id']}/moderation", json={"action": "CLEAR_REACTIONS", "targetId": first["id"]}
    )
    assert status == 200
    changed([("second, edited", []), ("first", [])])
    fan.delete(f"/messages/{second['id']}")
    changed([("first", [])])
    owner.send(room["id"], "a reply", parentId=first["id"])
    assert history(fan, room, "?limit=10").get_json()[0]["replyCount"] == 1
    response = history(fan, room, "?limit=10", etag=pages[-1].headers["ETag"])
    assert response.status_code == 200 and response.get_json()[0]["replyCount"] == 1


def test_a_catch_up_page_shows_a_message_sent_after_it_was_kept(chat):
    owner = chat()
    room = owner.room()
    anchor = owner.send(room["id"], "seen")
    assert history(owner, room, f"?after={anchor['id']}").get_json() == []
    owner.send(room["id"], "missed")
    assert [m["text"] for m in history(owner, room, f"?after={anchor['id']}").get_json()] == ["missed"]


def test_a_kept_page_is_refused_to_a_member_who_was_removed(chat):
    owner, fan = chat(), chat()
    public, private = owner.room(), owner.room(name="Backstage", isPrivate=True)
    for room in (public, private):
        owner.post(f"/rooms/{room['id']}/members", json={"userId": str(fan.user.id)})
        owner.send(room["id"], "members only")
        assert history(fan, room).status_code == 200
        assert owner.delete(f"/rooms/{room['id']}/members/{fan.user.id}")[0] == 204
    assert history(fan, public).status_code == 403
    assert history(fan, private).status_code == 404


def test_an_authors_new_name_shows_on_the_next_page(app, chat):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    fan.send(room["id"], "hello")
    kept = history(owner, room)
    assert kept.get_json()[0]["user"]["displayName"] != "Renamed Fan"
    renamed = fan.client.patch("/api/v1/users/me", json={"displayName": "Renamed Fan"}, headers=fan.user.headers)
    assert renamed.status_code == 200, renamed.get_json()
    assert history(owner, room).get_json()[0]["user"]["displayName"] == "Renamed Fan"
    page = history(owner, room, etag=kept.headers["ETag"])
    assert page.status_code == 200 and page.get_json()[0]["user"]["displayName"] == "Renamed Fan"


def test_a_sign_up_leaves_kept_pages_kept(app, chat):
    owner = chat()
    room = owner.room()
    owner.send(room["id"], "hello")
    assert history(owner, room).status_code == 200
    chat()  # someone new signs up
    with count_queries(app) as statements:
        assert history(owner, room).status_code == 200
    assert len(statements) == 1, statements
