"""Usernames, profiles by username and user search (API.md section 8), on both tiers."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.helpers.chat import Chat
from tests.helpers.fixtures import bearer

PUBLIC_KEYS = {"id", "username", "displayName", "avatarUrl", "role", "artistProfile", "deleted", "bio", "createdAt"}


def signup(client, email, **extra):
    return client.post("/api/v1/auth/signup", json={"email": email, "password": "long enough", **extra})


def signed_up(client, email, **extra):
    response = signup(client, email, **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fresh_token(client, email):
    """An access token lives 15 minutes: after a jump of days, log in again."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": "long enough"})
    return response.get_json()["accessToken"]


def rename(client, token, username):
    return client.patch("/api/v1/users/me", json={"username": username}, headers=bearer(token))


# -- signup -------------------------------------------------------------------------------------


def test_signup_derives_a_username_from_the_display_name_or_the_email(client):
    assert signed_up(client, "a@example.com", displayName="DJ Ünïcode!")["user"]["username"] == "dj_unicode"
    assert signed_up(client, "night.owl@example.com")["user"]["username"] == "night_owl"
    # Nothing usable in the display name (too short, all digits): the email's local part.
    assert signed_up(client, "bassline@example.com", displayName="42")["user"]["username"] == "bassline"


def test_a_derived_username_is_made_unique_with_a_number(client):
    names = [signed_up(client, f"u{n}@example.com", displayName="Same Name")["user"]["username"] for n in range(3)]
    assert names == ["same_name", "same_name2", "same_name3"]


def test_a_reserved_word_is_never_derived(client):
    assert signed_up(client, "admin@example.com")["user"]["username"] == "admin_listener"


def test_a_username_given_at_signup_is_stored_lower_case_and_taken_ignores_case(client):
    assert signed_up(client, "a@example.com", username="Night_Drive")["user"]["username"] == "night_drive"
    taken = signup(client, "b@example.com", username="NIGHT_drive")
    assert taken.status_code == 409 and taken.get_json()["message"] == ["Username is taken"]


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ab", "username: Length must be between 3 and 30."),
        ("x" * 31, "username: Length must be between 3 and 30."),
        ("dj fan", "username: Only letters, digits and _ are allowed."),
        ("dj-fan", "username: Only letters, digits and _ are allowed."),
        ("ünï", "username: Only letters, digits and _ are allowed."),
        ("12345", "username: Cannot be only digits."),
        ("Admin", "username: This name is reserved."),
        ("everyone", "username: This name is reserved."),
    ],
)
def test_a_username_breaking_a_rule_is_refused_with_400(client, username, message):
    response = signup(client, "a@example.com", username=username)
    assert response.status_code == 400 and message in response.get_json()["message"]


# -- changing it --------------------------------------------------------------------------------


def test_the_name_from_signup_changes_once_then_waits_30_days(client):
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        token = signed_up(client, "a@example.com", username="first_name")["accessToken"]
        changed = rename(client, token, "Second_Name")
        assert changed.status_code == 200 and changed.get_json()["username"] == "second_name"
        clock.move_to(start + timedelta(days=29))
        token = fresh_token(client, "a@example.com")
        refused = rename(client, token, "third_name")
        assert refused.status_code == 409
        assert refused.get_json()["message"] == ["Username can be changed again after 2026-12-31T12:00:00Z"]
        clock.move_to(start + timedelta(days=30, seconds=1))
        token = fresh_token(client, "a@example.com")
        assert rename(client, token, "third_name").get_json()["username"] == "third_name"


def test_setting_the_same_name_in_any_case_changes_nothing(client):
    token = signed_up(client, "a@example.com", username="steady")["accessToken"]
    assert rename(client, token, "Steady").status_code == 200
    # Still the first change to spend: the no-op did not start the 30-day wait.
    assert rename(client, token, "moved_on").get_json()["username"] == "moved_on"


def test_a_name_taken_by_someone_else_is_409(client):
    signed_up(client, "a@example.com", username="taken_name")
    token = signed_up(client, "b@example.com")["accessToken"]
    response = rename(client, token, "Taken_Name")
    assert response.status_code == 409 and response.get_json()["message"] == ["Username is taken"]


def test_a_name_given_up_is_held_for_its_last_owner_for_30_days(client):
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        owner = signed_up(client, "a@example.com", username="cherished")["accessToken"]
        assert rename(client, owner, "new_look").status_code == 200
        other = signed_up(client, "b@example.com")["accessToken"]
        assert rename(client, other, "cherished").get_json()["message"] == ["Username is taken"]
        # Not derived for a newcomer either.
        assert signed_up(client, "cherished@example.com")["user"]["username"] == "cherished2"
        clock.move_to(start + timedelta(days=30, seconds=1))
        owner = fresh_token(client, "a@example.com")
        assert rename(client, owner, "cherished").get_json()["username"] == "cherished"


def test_the_held_name_goes_to_someone_else_after_30_days(client):
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        owner = signed_up(client, "a@example.com", username="released")["accessToken"]
        rename(client, owner, "elsewhere")
        other = signed_up(client, "b@example.com")["accessToken"]
        clock.move_to(start + timedelta(days=30, seconds=1))
        other = fresh_token(client, "b@example.com")
        assert rename(client, other, "released").get_json()["username"] == "released"


def test_patch_me_refuses_a_bad_username_with_400(client):
    token = signed_up(client, "a@example.com")["accessToken"]
    response = rename(client, token, "no spaces")
    assert response.status_code == 400
    assert response.get_json()["message"] == ["username: Only letters, digits and _ are allowed."]


# -- profile by username ----------------------------------------------------------------------


def test_a_profile_is_found_by_username_in_any_case(client, users):
    me, other = users.make(), users.make(username="mixed_case", artist_name="Mixed")
    response = client.get("/api/v1/users/by-username/MIXED_Case", headers=me.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PUBLIC_KEYS and body["id"] == other.id and body["username"] == "mixed_case"


@pytest.mark.parametrize("name", ["nobody_here", "x", "%25", "a_b"])
def test_an_unknown_username_is_404(client, users, name):
    me = users.make()
    response = client.get(f"/api/v1/users/by-username/{name}", headers=me.headers)
    assert response.status_code == 404 and response.get_json()["message"] == ["User not found"]


# -- search -----------------------------------------------------------------------------------


def found(client, caller, q, **params):
    response = client.get("/api/v1/users", query_string={"q": q, **params}, headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return response


def usernames_of(response):
    return [user["username"] for user in response.get_json()]


def test_search_matches_a_prefix_of_the_username_or_display_name_ignoring_case(client, users):
    me = users.make(username="searcher", display_name="Searcher")
    users.make(username="bass_face", display_name="Someone")
    users.make(username="zed", display_name="BASSment Tapes")
    users.make(username="treble", display_name="Not a bass")
    assert usernames_of(found(client, me, "Bass")) == ["bass_face", "zed"]
    assert usernames_of(found(client, me, "@bass_")) == ["bass_face"]  # a typed @ is ignored
    assert set(found(client, me, "zed").get_json()[0]) == PUBLIC_KEYS - {"bio", "createdAt"}


def test_search_leaves_out_banned_users(client, users):
    me = users.make()
    users.make(username="ghost_one")
    users.make(username="ghost_two", banned=True)
    assert usernames_of(found(client, me, "ghost")) == ["ghost_one"]


def test_search_treats_like_wildcards_as_plain_characters(client, users):
    me = users.make()
    users.make(username="under_score")
    users.make(username="underxscore")
    assert usernames_of(found(client, me, "under_")) == ["under_score"]
    assert usernames_of(found(client, me, "%")) == []


def test_search_pages_by_username_without_gaps_or_repeats(client, users):
    me = users.make(username="pager")
    made = sorted(users.make(username=f"page_{n:02d}").username for n in range(7))
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = found(client, me, "page_", **params)
        seen += usernames_of(response)
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
    assert seen == made


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "   "}, {"q": "@"}, {"q": "x" * 51}, {"q": "ok", "limit": 0}])
def test_search_needs_a_query_of_1_to_50_characters(client, users, query):
    me = users.make()
    response = client.get("/api/v1/users", query_string=query, headers=me.headers)
    assert response.status_code == 400


def test_search_needs_a_signed_in_caller(client):
    assert client.get("/api/v1/users", query_string={"q": "any"}).status_code == 401


# -- UserRef ------------------------------------------------------------------------------------


def test_messages_carry_the_author_username_live_and_in_history(app, client, users):
    owner = users.make(username="the_author")
    chat = Chat(client, owner)
    room = chat.room()
    sent = chat.send(room["id"], "hello")
    assert sent["user"]["username"] == "the_author"
    _status, page = chat.get(f"/rooms/{room['id']}/messages")
    assert page[0]["user"]["username"] == "the_author"


# -- races ------------------------------------------------------------------------------------


def test_a_name_claimed_between_the_check_and_the_commit_is_still_409_taken(client, monkeypatch):
    from seda.users import usernames

    signed_up(client, "a@example.com", username="contested")
    token = signed_up(client, "b@example.com")["accessToken"]
    monkeypatch.setattr(usernames, "is_available", lambda *_args, **_kwargs: True)  # the check ran first
    response = rename(client, token, "contested")
    assert response.status_code == 409 and response.get_json()["message"] == ["Username is taken"]
    at_signup = signup(client, "c@example.com", username="contested")
    assert at_signup.status_code == 409 and at_signup.get_json()["message"] == ["Username is taken"]
