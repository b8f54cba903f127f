"""Object-level authorisation as data: every route with an object id × every kind of caller.

The world: a private room owned by OWNER, with a MODERATOR and a MEMBER; OWNER's message in it
(with OWNER's 🔥 reaction), and MEMBER's reply to it, which notifies OWNER; OWNER's verification
request. OTHER is a signed-in stranger, ADMIN
an admin who is not in the room. Admin-only routes have their own table (tests/admin).
"""

import re
import shutil
import uuid

import pytest

from seda import create_app
from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import db
from seda.push.models import PushSubscription
from seda.users.models import Role
from tests.helpers.admin_routes import ROUTES as ADMIN_ROUTES
from tests.helpers.apps import close_apps, tier_config
from tests.helpers.chat import Chat
from tests.helpers.fixtures import PASSWORD, UserFactory

CALLERS = ("owner", "other", "moderator", "admin", "anonymous")
R, M, MEMBER, OTHER, OWNER, V = "{room}", "{message}", "{member}", "{other}", "{owner}", "{verification}"
N = "{notification}"
Q = "{queue_item}"
D = "{device}"
X = "{export}"
C = "{invite}"
INV = "{invitation}"
P = "{push_subscription}"
TRACK = {
    "provider": "spotify",
    "providerId": "4uLU6hMCjMI75M1A2tKUQC",
    "url": "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
}
OWNER_NAME = "{owner_username}"
AUTOMOD_OFF = {"blockedWords": [], "linkPolicy": "ANY", "maxMentions": 0, "blockRepeats": False, "autoMuteAfter": 0}

#  method, path, body, expected for owner / other user / room moderator / admin (anonymous: 401
#  unless a fifth status says otherwise)
MATRIX = [
    ("GET", f"/api/v1/chat/rooms/{R}", None, (200, 404, 200, 200)),
    ("PATCH", f"/api/v1/chat/rooms/{R}", {"name": "renamed"}, (200, 404, 200, 200)),
    ("DELETE", f"/api/v1/chat/rooms/{R}", None, (204, 404, 403, 204)),
    ("POST", f"/api/v1/chat/rooms/{R}/join", None, (200, 404, 200, 404)),
    ("POST", f"/api/v1/chat/rooms/{R}/leave", None, (200, 404, 200, 200)),
    ("GET", f"/api/v1/chat/rooms/{R}/members", None, (200, 404, 200, 200)),
    ("POST", f"/api/v1/chat/rooms/{R}/members", {"userId": OTHER}, (201, 404, 201, 201)),
    ("PATCH", f"/api/v1/chat/rooms/{R}/members/{MEMBER}", {"role": "MODERATOR"}, (200, 404, 403, 200)),
    ("DELETE", f"/api/v1/chat/rooms/{R}/members/{MEMBER}", None, (204, 404, 204, 204)),
    ("PUT", f"/api/v1/chat/rooms/{R}/read", {"messageId": M}, (204, 404, 204, 403)),
    ("POST", f"/api/v1/chat/rooms/{R}/mutes", {"userId": MEMBER, "durationSeconds": 60}, (201, 404, 201, 201)),
    ("DELETE", f"/api/v1/chat/rooms/{R}/mutes/{MEMBER}", None, (204, 404, 204, 204)),
    ("POST", f"/api/v1/chat/rooms/{R}/bans", {"userId": MEMBER}, (201, 404, 201, 201)),
    ("DELETE", f"/api/v1/chat/rooms/{R}/bans/{MEMBER}", None, (204, 404, 204, 204)),
    ("GET", f"/api/v1/chat/rooms/{R}/automod", None, (200, 404, 200, 200)),
    ("PUT", f"/api/v1/chat/rooms/{R}/automod", AUTOMOD_OFF, (200, 404, 200, 200)),
    ("POST", f"/api/v1/chat/rooms/{R}/moderation", {"targetId": M, "action": "CLEAR_REACTIONS"}, (200, 404, 200, 200)),
    ("POST", f"/api/v1/chat/rooms/{R}/messages", {"text": "hi"}, (201, 404, 201, 403)),
    ("GET", f"/api/v1/chat/rooms/{R}/messages", None, (200, 404, 200, 200)),
    ("GET", f"/api/v1/chat/messages/{M}", None, (200, 404, 200, 200)),
    # The room's listening session (OWNER hosts it; one track plays, OWNER's Q waits).
    ("POST", f"/api/v1/chat/rooms/{R}/session", None, (409, 404, 409, 409)),
    ("GET", f"/api/v1/chat/rooms/{R}/session", None, (200, 404, 200, 200)),
    ("DELETE", f"/api/v1/chat/rooms/{R}/session", None, (204, 404, 204, 204)),
    ("POST", f"/api/v1/chat/rooms/{R}/session/queue", {"trackRef": TRACK}, (201, 404, 201, 201)),
    ("DELETE", f"/api/v1/chat/rooms/{R}/session/queue/{Q}", None, (204, 404, 204, 204)),
    ("POST", f"/api/v1/chat/rooms/{R}/session/skip", None, (200, 404, 200, 200)),
    ("GET", f"/api/v1/chat/rooms/{R}/session/history", None, (200, 404, 200, 200)),
    ("PATCH", f"/api/v1/chat/messages/{M}", {"text": "edited"}, (200, 404, 403, 403)),
    ("DELETE", f"/api/v1/chat/messages/{M}", None, (204, 404, 204, 204)),
    ("POST", f"/api/v1/chat/messages/{M}/reactions", {"emoji": "🎷"}, (201, 404, 201, 403)),
    ("DELETE", f"/api/v1/chat/messages/{M}/reactions/%F0%9F%94%A5", None, (204, 404, 404, 404)),
    ("POST", f"/api/v1/chat/messages/{M}/report", {"reason": "spam"}, (201, 404, 201, 201)),
    ("GET", f"/api/v1/users/{OWNER}", None, (200, 200, 200, 200)),
    ("GET", f"/api/v1/users/by-username/{OWNER_NAME}", None, (200, 200, 200, 200)),
    ("POST", f"/api/v1/users/{MEMBER}/block", None, (204, 204, 204, 204)),
    ("DELETE", f"/api/v1/users/{MEMBER}/block", None, (204, 204, 204, 204)),
    ("GET", f"/api/v1/artist/verification/status/{V}", None, (200, 404, 404, 404)),
    ("DELETE", f"/api/v1/auth/devices/{D}", None, (204, 404, 404, 404)),
    ("GET", f"/api/v1/users/me/exports/{X}", None, (200, 404, 404, 404)),
    ("GET", f"/api/v1/users/me/exports/{X}/download", None, (200, 404, 404, 404)),
    # Invites of the private room: OWNER's link C, and OWNER's invitation INV of OTHER.
    ("POST", f"/api/v1/chat/rooms/{R}/invites", {}, (201, 404, 201, 201)),
    ("GET", f"/api/v1/chat/rooms/{R}/invites", None, (200, 404, 200, 200)),
    ("DELETE", f"/api/v1/chat/rooms/{R}/invites/{C}", None, (204, 404, 204, 204)),
    ("GET", f"/api/v1/invites/{C}", None, (200, 200, 200, 200, 200)),  # public: anonymous too
    ("POST", f"/api/v1/invites/{C}/accept", None, (200, 200, 200, 200)),
    ("POST", f"/api/v1/chat/rooms/{R}/invitations", {"userId": OTHER}, (200, 404, 200, 200)),
    ("GET", f"/api/v1/chat/rooms/{R}/invitations", None, (200, 404, 200, 200)),
    ("DELETE", f"/api/v1/chat/rooms/{R}/invitations/{INV}", None, (204, 404, 204, 204)),
    ("POST", f"/api/v1/invitations/{INV}/accept", None, (404, 200, 404, 404)),
    ("POST", f"/api/v1/invitations/{INV}/decline", None, (404, 200, 404, 404)),
    # OWNER's push subscription P (its endpoint is one the app may not reach: a test push fails fast).
    ("POST", f"/api/v1/push/subscriptions/{P}/test", None, (202, 404, 404, 404)),
    ("DELETE", f"/api/v1/push/subscriptions/{P}", None, (204, 404, 404, 404)),
    # Ids in a body: someone else's are ignored (the count answered is the caller's own).
    ("POST", "/api/v1/notifications/read", {"ids": [N]}, (200, 200, 200, 200)),
    # Ids in a query: search reads only rooms the caller is a member of, admins included.
    ("GET", f"/api/v1/search/messages?q=hi&roomId={R}", None, (200, 404, 200, 404)),
]


def _rule(path):
    return re.sub(r"\{[a-z_]+\}|%F0%9F%94%A5", "<id>", path)


def test_every_route_with_an_object_id_has_a_row(app):
    with_ids = {
        (method, re.sub(r"<[^>]+>", "<id>", rule.rule))
        for rule in app.url_map.iter_rules()
        if "<" in rule.rule and rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    admin = {(method, re.sub(r"[0-9a-f-]{36}", "<id>", path)) for method, path, _b, _s in ADMIN_ROUTES}
    paths = {(method, _rule(path.split("?")[0])) for method, path, _b, _e in MATRIX}
    rows = {(method, path) for method, path in paths if "<id>" in path}
    assert with_ids - admin == rows


@pytest.fixture(scope="module")
def sqlite_world(request, tmp_path_factory):
    """The world built once on the embedded tier: each test gets a copy of its files (database and
    exports), a fraction of a second less than building it again, times some 300 tests."""
    folder = tmp_path_factory.mktemp("world")
    app = create_app(tier_config("sqlite", request, folder))
    people, ids = build_world(app)
    close_apps([app], "sqlite", request)
    return folder, people, ids


@pytest.fixture
def world(tier, request, tmp_path, app_factory):
    """(app, people, ids): a world of the test's own, on its tier."""
    if tier == "sqlite":
        folder, people, ids = request.getfixturevalue("sqlite_world")
        shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
        return app_factory(), people, ids
    app = app_factory()
    return (app, *build_world(app))


@pytest.fixture
def app(world):
    return world[0]


def build_world(app):
    factory = UserFactory(app)
    people = {
        "owner": factory.make(),
        "moderator": factory.make(),
        "member": factory.make(),
        "other": factory.make(),
        "admin": factory.make(role=Role.ADMIN),
    }
    client = app.test_client()
    owner = Chat(client, people["owner"])
    room = owner.room(isPrivate=True)
    for name in ("moderator", "member"):
        owner.post(f"/rooms/{room['id']}/members", json={"userId": people[name].id})
    owner.patch(f"/rooms/{room['id']}/members/{people['moderator'].id}", json={"role": "MODERATOR"})
    message = owner.send(room["id"], "the owner's message")
    owner.post(f"/messages/{message['id']}/reactions", json={"emoji": "🔥"})
    Chat(client, people["member"]).send(room["id"], "a reply", parentId=message["id"])
    wait_for_in_process_tasks()
    [notification] = client.get("/api/v1/notifications", headers=people["owner"].headers).get_json()
    verification = client.post("/api/v1/artist/verification/request", headers=people["owner"].headers).get_json()
    owner.post(f"/rooms/{room['id']}/session")
    owner.post(f"/rooms/{room['id']}/session/queue", json={"trackRef": TRACK})
    waiting = owner.post(f"/rooms/{room['id']}/session/queue", json={"trackRef": TRACK})[1]
    signed_in = client.post("/api/v1/auth/login", json={"email": people["owner"].email, "password": PASSWORD})
    [device] = client.get("/api/v1/auth/devices", headers=bearer(signed_in.get_json()["accessToken"])).get_json()
    export = client.post("/api/v1/users/me/exports", headers=people["owner"].headers).get_json()
    invite = owner.post(f"/rooms/{room['id']}/invites", json={})[1]
    invitation = owner.post(f"/rooms/{room['id']}/invitations", json={"userId": people["other"].id})[1]
    subscription = push_subscription_of(app, people["owner"])
    wait_for_in_process_tasks()
    ids = {
        R: room["id"],
        M: message["id"],
        MEMBER: people["member"].id,
        OTHER: people["other"].id,
        OWNER_NAME: people["owner"].username,
        OWNER: people["owner"].id,
        V: verification["id"],
        N: notification["id"],
        Q: waiting["id"],
        D: device["id"],
        X: export["id"],
        C: invite["code"],
        INV: invitation["id"],
        P: subscription,
    }
    return people, ids


def push_subscription_of(app, user):
    """A subscription stored as a browser's would be (its keys are a real P-256 point and secret)."""
    with app.app_context():
        row = PushSubscription(
            user_id=uuid.UUID(user.id),
            endpoint="https://127.0.0.2:9/push/matrix",
            p256dh="BJUx5zt0yBw62QnQqLPmOaNYKf8y4T01cOvmZxTnPc8jnbjNUiixec2NgC1SfLnUaRKquWBzr8St0T6qlKwZe2E",
            auth="a2tra2tra2tra2tra2traw",
        )
        db.session.add(row)
        db.session.commit()
        return str(row.id)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def fill(value, ids):
    if isinstance(value, str):
        for placeholder, real in ids.items():
            value = value.replace(placeholder, real)
        return value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


# Every caller on SQLite; on PostgreSQL the owner and the stranger, whose answers differ most
# (the other callers' paths are the same SQL): 150 fewer worlds to build, ~3 minutes of CI.
TIERS_AND_CALLERS = [("sqlite", caller) for caller in CALLERS] + [
    pytest.param("postgres", caller, marks=pytest.mark.services) for caller in ("owner", "other")
]


@pytest.mark.parametrize(("tier", "caller"), TIERS_AND_CALLERS)
@pytest.mark.parametrize("method,path,body,expected", MATRIX, ids=[f"{m} {_rule(p)}" for m, p, _b, _e in MATRIX])
def test_object_access(app, world, caller, method, path, body, expected):
    _, people, ids = world
    headers = {} if caller == "anonymous" else people[caller].headers
    response = app.test_client().open(fill(path, ids), method=method, json=fill(body, ids), headers=headers)
    want = dict(zip(CALLERS, (*expected, 401), strict=False))[caller]
    assert response.status_code == want, response.get_json()
    if response.status_code >= 400:
        assert set(response.get_json()) >= {"statusCode", "message", "requestId"}


@pytest.mark.parametrize("caller", ["other", "moderator", "admin"])
def test_only_its_recipient_can_mark_a_notification_read(app, world, caller):
    _, people, ids = world
    client = app.test_client()
    client.post("/api/v1/notifications/read", json={"ids": [ids[N]]}, headers=people[caller].headers)
    assert client.get("/api/v1/notifications/unread-count", headers=people["owner"].headers).get_json() == {"count": 1}
