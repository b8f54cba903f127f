"""Notification settings (API.md §13): every type with its defaults, changes one at a time, every
bad value a 400 that changes nothing, and quiet hours on the user's own clock."""

from datetime import UTC, datetime

import pytest

from seda.notifications.settings import is_quiet

TYPES = [
    "MENTION",
    "REPLY",
    "DIRECT_MESSAGE",
    "VERIFICATION",
    "ROOM_INVITE",
    "FOLLOW",
    "SESSION_SCHEDULED",
    "SESSION_STARTED",
    "REMINDER",
]


def settings(client, user):
    response = client.get("/api/v1/users/me/notification-settings", headers=user.headers)
    assert response.status_code == 200
    return response.get_json()


def patch(client, user, body):
    response = client.patch("/api/v1/users/me/notification-settings", json=body, headers=user.headers)
    return response.status_code, response.get_json()


def test_the_defaults_name_every_type(client, users):
    shown = settings(client, users.make())
    assert sorted(shown["types"]) == sorted(TYPES)
    emailed = {kind for kind, channels in shown["types"].items() if channels["email"]}
    assert emailed == {"MENTION", "REPLY", "DIRECT_MESSAGE"}
    assert all(channels["push"] for channels in shown["types"].values())
    assert (shown["emailDigest"], shown["quietHours"], shown["timeZone"]) == ("HOURLY", None, "UTC")


def test_a_change_touches_only_what_it_names(client, users):
    user = users.make()
    status, shown = patch(client, user, {"types": {"MENTION": {"push": False}}})
    assert status == 200 and shown["types"]["MENTION"] == {"push": False, "email": True}
    status, shown = patch(client, user, {"types": {"MENTION": {"email": False}}, "emailDigest": "DAILY"})
    assert shown["types"]["MENTION"] == {"push": False, "email": False} and shown["emailDigest"] == "DAILY"
    body = {"quietHours": {"start": "22:00", "end": "07:30"}, "timeZone": "Europe/Paris"}
    status, shown = patch(client, user, body)
    assert (shown["quietHours"], shown["timeZone"]) == (body["quietHours"], "Europe/Paris")
    assert patch(client, user, {"quietHours": None})[1]["quietHours"] is None
    assert settings(client, user)["types"]["REPLY"] == {"push": True, "email": True}


@pytest.mark.parametrize(
    "body,message",
    [
        ({"types": {"SMOKE_SIGNAL": {"push": False}}}, "types.SMOKE_SIGNAL: property should not exist"),
        ({"types": {"MENTION": {"sms": True}}}, "types.MENTION.sms: property should not exist"),
        ({"quietHours": {"start": "24:00", "end": "07:00"}}, "quietHours.start: Not a time HH:MM (00:00-23:59)."),
        ({"quietHours": {"start": "7:00", "end": "08:00"}}, "quietHours.start: Not a time HH:MM (00:00-23:59)."),
        ({"quietHours": {"start": "22:00", "end": "22:00"}}, "quietHours: start and end must differ"),
        ({"quietHours": {"start": "22:00"}}, "quietHours.end: Missing data for required field."),
        ({"timeZone": "Mars/Olympus_Mons"}, "timeZone: Unknown time zone"),
        ({"timeZone": "../../etc/passwd"}, "timeZone: Unknown time zone"),
        ({"emailDigest": "WEEKLY"}, None),
    ],
)
def test_a_bad_value_is_a_400_that_changes_nothing(client, users, body, message):
    user = users.make()
    status, answer = patch(client, user, {**body, "emailDigest": body.get("emailDigest", "OFF")})
    assert status == 400
    if message is not None:
        assert message in answer["message"]
    assert settings(client, user)["emailDigest"] == "HOURLY"


@pytest.mark.parametrize(
    "start,end,moment,quiet",
    [
        # Paris is UTC+1 in winter, UTC+2 in summer: the same wall clock, a different instant.
        ("22:00", "07:00", datetime(2026, 1, 15, 21, 30, tzinfo=UTC), True),  # 22:30 in Paris
        ("22:00", "07:00", datetime(2026, 7, 15, 20, 30, tzinfo=UTC), True),  # 22:30 in Paris
        ("22:00", "07:00", datetime(2026, 7, 15, 19, 30, tzinfo=UTC), False),  # 21:30 in Paris
        ("22:00", "07:00", datetime(2026, 1, 15, 6, 0, tzinfo=UTC), False),  # 07:00 in Paris: over
        # The night the clocks go forward (29 March 2026, 02:00 → 03:00): 01:30 UTC is 03:30 local.
        ("01:00", "03:00", datetime(2026, 3, 29, 1, 30, tzinfo=UTC), False),
        ("01:00", "03:00", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), True),  # 01:30 local
        ("09:00", "17:00", datetime(2026, 10, 25, 8, 0, tzinfo=UTC), True),  # after the clocks go back: 09:00
        ("09:00", "17:00", datetime(2026, 10, 24, 7, 0, tzinfo=UTC), True),  # the day before: 09:00 (UTC+2)
        ("09:00", "17:00", datetime(2026, 10, 25, 7, 0, tzinfo=UTC), False),  # 08:00 local
    ],
)
def test_quiet_hours_follow_the_users_clock_across_daylight_saving(start, end, moment, quiet):
    shown = {"quietHours": {"start": start, "end": end}, "timeZone": "Europe/Paris"}
    assert is_quiet(shown, moment) is quiet


def test_no_quiet_hours_is_never_quiet():
    assert is_quiet({"quietHours": None, "timeZone": "UTC"}, datetime(2026, 1, 1, 3, 0, tzinfo=UTC)) is False
