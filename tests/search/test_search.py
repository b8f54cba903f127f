"""Search (API.md section 9) on both tiers: what is found, where the caller may read, the
highlight, hostile queries, paging, and tracks. The same tests pass on SQLite (FTS5) and
PostgreSQL (tsvector + GIN): the same results on both."""

import uuid

import pytest
import sqlalchemy as sa

from seda.chat.models import Message
from seda.extensions import db
from seda.users.models import Role
from tests.helpers.fixtures import UserFactory

TRACK = {
    "provider": "spotify",
    "providerId": "4uLU6hMCjMI75M1A2tKUQC",
    "url": "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
    "title": "Blue in Green",
    "artist": "Miles Davis",
    "artwork": None,
    "duration": 337,
}


def track(number, title, artist):
    provider_id = f"{number:022d}"
    return {
        **TRACK,
        "providerId": provider_id,
        "url": f"https://open.spotify.com/track/{provider_id}",
        "title": title,
        "artist": artist,
    }


def search(member, query, expect=200):
    response = member.client.get(f"/api/v1/search/messages?{query}", headers=member.user.headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json() if expect != 200 else (response.get_json(), response.headers.get("X-Next-Cursor"))


def texts(member, query):
    hits, _cursor = search(member, query)
    return [hit["message"]["text"] for hit in hits]


def tracks(member, query, expect=200):
    response = member.client.get(f"/api/v1/search/tracks?{query}", headers=member.user.headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


@pytest.fixture
def share(app):
    """Share `card` as a track card whose details seda has unfurled (stored as the worker does)."""

    def send(member, room_id, card, text=""):
        sent = member.send(room_id, text, trackRef={key: card[key] for key in ("provider", "providerId", "url")})
        with app.app_context():
            db.session.execute(sa.update(Message).where(Message.id == uuid.UUID(sent["id"])).values(track_ref=card))
            db.session.commit()
        return sent

    return send


@pytest.fixture
def jazz(chat):
    """ada owns the public room Jazz Club; bo is a member; cy is not."""
    ada, bo, cy = chat(username="ada"), chat(username="bo"), chat(username="cy")
    room = ada.room(name="Jazz Club")
    bo.post(f"/rooms/{room['id']}/join")
    return ada, bo, cy, room


def test_a_message_is_found_by_its_words_with_its_room_and_highlight(jazz):
    ada, bo, _cy, room = jazz
    sent = ada.send(room["id"], "Late night jazz in the club tonight")
    ada.send(room["id"], "something else entirely")
    hits, cursor = search(bo, "q=jazz%20tonight")
    assert cursor is None
    [hit] = hits
    assert set(hit) == {"message", "roomName", "highlight"}
    assert hit["message"] == {**sent, "reactions": []}
    assert hit["roomName"] == "Jazz Club"
    assert hit["highlight"] == "Late night <mark>jazz</mark> in the club <mark>tonight</mark>"


def test_every_word_must_occur_and_the_last_one_matches_as_a_prefix(jazz):
    ada, bo, _cy, room = jazz
    ada.send(room["id"], "jazz night")
    ada.send(room["id"], "jazzy nights")
    ada.send(room["id"], "rock night")
    assert texts(bo, "q=jaz") == ["jazzy nights", "jazz night"]
    assert texts(bo, "q=night%20jaz") == ["jazz night"]
    assert texts(bo, "q=nights%20jaz") == ["jazzy nights"]
    assert texts(bo, "q=jaz%20night") == []  # only the last word is a prefix
    assert texts(bo, "q=jazz%20nigh") == ["jazz night"]
    hits, _ = search(bo, "q=nights%20jaz")
    assert hits[0]["highlight"] == "<mark>jazzy</mark> <mark>nights</mark>"


def test_case_and_accents_are_ignored_both_ways(jazz):
    ada, bo, _cy, room = jazz
    ada.send(room["id"], "Café Müller, Señor Ça va")
    ada.send(room["id"], "CAFE OTTO")
    assert texts(bo, "q=cafe") == ["CAFE OTTO", "Café Müller, Señor Ça va"]
    assert texts(bo, "q=CAFÉ%20muller") == ["Café Müller, Señor Ça va"]
    assert texts(bo, "q=senor%20ca") == ["Café Müller, Señor Ça va"]
    hits, _ = search(bo, "q=mull")
    assert hits[0]["highlight"] == "Café <mark>Müller</mark>, Señor Ça va"


def test_an_invisible_character_typed_in_a_query_word_does_not_split_it(jazz):
    ada, bo, _cy, room = jazz
    ada.send(room["id"], "Late night jazz")
    assert texts(bo, "q=ja%E2%80%8Bzz%20ni%C2%ADght") == ["Late night jazz"]  # zero-width space, soft hyphen


def test_words_are_split_at_punctuation_the_same_way_on_both_databases(jazz):
    ada, bo, _cy, room = jazz
    ada.send(room["id"], "hip-hop, rock'n'roll & AC/DC: see https://example.com/live_set")
    for q in ("hop", "hip%20hop", "rock%20n%20roll", "dc", "ac", "example", "live", "set", "https"):
        assert len(texts(bo, f"q={q}")) == 1, q


def test_only_rooms_i_am_a_member_of_now_are_searched(jazz):
    ada, bo, cy, room = jazz
    ada.send(room["id"], "secret plans")
    private = ada.room(name="Back Office", isPrivate=True)
    ada.send(private["id"], "secret salary")
    assert texts(ada, "q=secret") == ["secret salary", "secret plans"]
    assert texts(cy, "q=secret") == []  # a public room counts only once joined
    assert texts(bo, "q=secret") == ["secret plans"]
    status, _ = bo.post(f"/rooms/{room['id']}/leave")
    assert status in (200, 204)
    assert texts(bo, "q=secret") == []


def test_a_private_room_i_left_is_not_searched(jazz):
    ada, bo, _cy, _room = jazz
    private = ada.room(name="Band Only", isPrivate=True)
    status, _ = ada.post(f"/rooms/{private['id']}/members", json={"userId": bo.user.id})
    assert status == 201
    ada.send(private["id"], "setlist for friday")
    assert texts(bo, "q=setlist") == ["setlist for friday"]
    status, _ = bo.post(f"/rooms/{private['id']}/leave")
    assert status in (200, 204)
    assert texts(bo, "q=setlist") == []
    assert search(bo, f"q=setlist&roomId={private['id']}", 404)["message"] == ["Room not found"]


def test_room_id_narrows_and_a_room_i_am_not_in_is_404(jazz):
    ada, bo, cy, room = jazz
    other = ada.room(name="Other Room")
    ada.send(room["id"], "drums solo")
    ada.send(other["id"], "drums again")
    assert texts(ada, f"q=drums&roomId={room['id']}") == ["drums solo"]
    assert search(cy, f"q=drums&roomId={room['id']}", 404)["message"] == ["Room not found"]
    assert search(bo, f"q=drums&roomId={other['id']}", 404)["message"] == ["Room not found"]
    assert search(bo, "q=drums&roomId=not-a-uuid", 400)["message"]


def test_user_id_and_has_track_filter(jazz):
    ada, bo, _cy, room = jazz
    ada.send(room["id"], "groove by ada")
    bo.send(room["id"], "groove by bo")
    card = ada.send(room["id"], "groove card", trackRef=TRACK)
    assert texts(bo, f"q=groove&userId={bo.user.id}") == ["groove by bo"]
    assert texts(bo, "q=groove&hasTrack=true") == [card["text"]]
    assert texts(bo, "q=groove&hasTrack=false") == ["groove by bo", "groove by ada"]


def test_a_track_title_or_artist_finds_the_card_unmarked(jazz, share):
    ada, bo, _cy, room = jazz
    share(ada, room["id"], TRACK, "listen to this")
    [hit] = search(bo, "q=miles%20dav")[0]
    assert hit["message"]["trackRef"]["title"] == "Blue in Green"
    assert hit["highlight"] == "listen to this"
    [hit] = search(bo, "q=green%20listen")[0]
    assert hit["highlight"] == "<mark>listen</mark> to this"


def test_deleted_messages_are_never_found_and_edits_at_once(jazz):
    ada, bo, _cy, room = jazz
    gone = ada.send(room["id"], "vanishing act")
    edited = ada.send(room["id"], "first draft")
    status, _ = ada.delete(f"/messages/{gone['id']}")
    assert status == 204
    status, _ = ada.patch(f"/messages/{edited['id']}", json={"text": "final version"})
    assert status == 200
    assert texts(bo, "q=vanishing") == []
    assert texts(bo, "q=draft") == []
    assert texts(bo, "q=final") == ["final version"]


def test_html_in_a_message_is_escaped_in_the_highlight(jazz):
    ada, bo, _cy, room = jazz
    ada.send(room["id"], "<script>alert('jazz')</script> & <b>jazz</b>")
    [hit] = search(bo, "q=jazz")[0]
    assert hit["highlight"] == (
        "&lt;<mark>script</mark>&gt;alert(&#x27;<mark>jazz</mark>&#x27;)&lt;/script&gt; &amp; "
        "&lt;b&gt;<mark>jazz</mark>&lt;/b&gt;"
    ).replace("<mark>script</mark>", "script")


@pytest.mark.parametrize(
    "q",
    [
        "rock%20%26%20roll",  # rock & roll
        "rock%20%7C%20roll",  # rock | roll
        "!rock%20roll",
        "rock%3A*%20roll",  # rock:* roll
        "(rock)%20(roll)",
        "%22rock%22%20%27roll%27",  # "rock" 'roll'
        "rock%5C%20roll%25",  # rock\ roll%
        "rock_roll",
        "%25rock%25%20_roll_",
        "ROCK%20NOT%20roll",  # NOT is a word here, not an operator
    ],
)
def test_operators_and_quotes_typed_by_a_user_are_plain_separators(jazz, q):
    ada, bo, _cy, room = jazz
    ada.send(room["id"], "rock and roll")
    ada.send(room["id"], "rock not roll")
    expected = ["rock not roll"] if "NOT" in q else ["rock not roll", "rock and roll"]
    assert texts(bo, f"q={q}") == expected


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "q: Length must be between 1 and 200."),
        ("%20%20%20", "q: Length must be between 1 and 200."),
        ("!!!%20%26%26%20%3A*", "q: Enter at least one word (letters or digits)."),
        ("a" * 201, "q: Length must be between 1 and 200."),
        ("%20".join(f"w{n}" for n in range(21)), "q: At most 20 words."),
        ("jazz%00", "q: NUL characters are not allowed."),
    ],
)
def test_a_query_without_words_or_too_long_is_400(jazz, q, message):
    _ada, bo, _cy, _room = jazz
    body = search(bo, f"q={q}", 400)
    assert message in body["message"], body


def test_missing_q_unknown_parameters_and_bad_values_are_400(jazz):
    _ada, bo, _cy, _room = jazz
    assert "q: Missing data for required field." in search(bo, "limit=5", 400)["message"]
    assert search(bo, "q=jazz&sort=old", 400)["message"]
    assert search(bo, "q=jazz&hasTrack=maybe", 400)["message"]
    assert search(bo, "q=jazz&limit=0", 400)["message"]
    assert tracks(bo, "q=jazz&limit=51", 400)["message"]


def test_a_very_long_word_is_searched_as_a_word(jazz):
    ada, bo, _cy, room = jazz
    word = "z" * 200
    ada.send(room["id"], f"{word} end")
    assert texts(bo, f"q={word}") == [f"{word} end"]
    assert texts(bo, f"q={'y' * 200}") == []


def test_pages_are_newest_first_without_duplicates_or_gaps(jazz):
    ada, bo, _cy, room = jazz
    sent = [ada.send(room["id"], f"encore number {n}")["id"] for n in range(23)]
    seen, cursor, pages = [], None, 0
    while True:
        hits, cursor = search(bo, "q=encore&limit=10" + (f"&cursor={cursor}" if cursor else ""))
        seen += [hit["message"]["id"] for hit in hits]
        pages += 1
        if cursor is None:
            break
    assert pages == 3 and seen == sent[::-1]


def test_a_cursor_that_is_not_a_readable_message_is_400(jazz):
    ada, bo, cy, room = jazz
    sent = ada.send(room["id"], "encore")
    assert search(bo, "q=encore&cursor=nope", 400)["message"] == ["cursor: Not an item of this list."]
    assert search(cy, f"q=encore&cursor={sent['id']}", 400)["message"] == ["cursor: Not an item of this list."]


def test_search_needs_a_token_and_is_rate_limited(app_factory):
    app = app_factory(RATE_LIMIT_SEARCH="2/minute")
    client, user = app.test_client(), UserFactory(app).make()
    assert client.get("/api/v1/search/messages?q=jazz").status_code == 401
    statuses = [client.get("/api/v1/search/messages?q=jazz", headers=user.headers).status_code for _ in range(2)]
    statuses.append(client.get("/api/v1/search/tracks?q=jazz", headers=user.headers).status_code)
    assert statuses == [200, 200, 429]


# -- tracks ---------------------------------------------------------------------------------


def test_tracks_are_found_in_public_rooms_and_mine_with_their_share_counts(jazz, share):
    ada, bo, cy, room = jazz
    blue = track(1, "Blue in Green", "Miles Davis")
    share(ada, room["id"], blue, "one")
    share(bo, room["id"], blue, "two")
    private = ada.room(name="Back Office", isPrivate=True)
    share(ada, private["id"], track(2, "Blue Monk", "Thelonious Monk"), "three")
    [found] = tracks(cy, "q=blue")  # cy belongs to no room: public rooms only
    assert (found["title"], found["shareCount"]) == ("Blue in Green", 2)
    assert set(found) == {*TRACK, "shareCount", "lastSharedAt"}
    assert [t["title"] for t in tracks(ada, "q=blue")] == ["Blue in Green", "Blue Monk"]


def test_tracks_rank_title_matches_then_artist_then_both_then_shares(jazz, share):
    ada, bo, _cy, room = jazz
    cards = [
        track(1, "Night Train", "Oscar Peterson"),  # "night" in the title
        track(2, "So What", "Night Owls"),  # in the artist
        track(3, "Round Midnight", "Thelonious Monk"),  # "mid" prefix in the title
        track(4, "Night Lights", "Gerry Mulligan"),  # in the title, shared twice
    ]
    for card in cards:
        share(ada, room["id"], card)
    share(ada, room["id"], cards[3], "again")
    ada.send(room["id"], "night talk only in the text")
    assert [t["title"] for t in tracks(bo, "q=night")] == ["Night Lights", "Night Train", "So What"]
    assert [t["title"] for t in tracks(bo, "q=night%20owl")] == ["So What"]
    assert [t["title"] for t in tracks(bo, "q=oscar%20train")] == ["Night Train"]  # spread over both
    assert [t["title"] for t in tracks(bo, "q=mid")] == ["Round Midnight"]
    assert tracks(bo, "q=talk") == []


def test_a_deleted_card_is_no_share(jazz, share):
    ada, bo, _cy, room = jazz
    card = share(ada, room["id"], TRACK, "x")
    share(ada, room["id"], TRACK, "y")
    ada.delete(f"/messages/{card['id']}")
    [found] = tracks(bo, "q=miles")
    assert found["shareCount"] == 1


def test_an_admin_searches_like_anyone_else(jazz, chat):
    ada, _bo, _cy, room = jazz
    ada.send(room["id"], "members only")
    admin = chat(username="boss", role=Role.ADMIN)
    assert texts(admin, "q=members") == []


def test_a_track_is_found_by_its_title_or_artist_not_by_the_text_sharing_it(jazz, share):
    ada, bo, _cy, room = jazz
    share(ada, room["id"], TRACK, "vibes tonight")
    assert tracks(bo, "q=vibes") == []
    assert [t["title"] for t in tracks(bo, "q=blue%20gre")] == ["Blue in Green"]
