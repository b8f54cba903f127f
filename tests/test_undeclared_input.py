"""A route refuses what it does not declare (API.md §1): query parameters on a route that takes
none answer 400 `<name>: property should not exist`, after authentication, before anything else;
so `/users/me?x=1` is no request of its own that a kept answer would remember."""

import re
import uuid

from seda.users.models import Role

NO_QUERY = [
    "/api/v1/users/me",
    "/api/v1/users/{user}",
    "/api/v1/notifications/unread-count",
    "/api/v1/chat/rooms/{room}",
    "/api/v1/chat/rooms/{room}/automod",
]


def test_the_routes_the_attack_named_refuse_an_unknown_query_parameter(client, users):
    user = users.make()
    room = client.post("/api/v1/chat/rooms", json={"name": "Q"}, headers=user.headers).get_json()
    for path in NO_QUERY:
        url = path.format(user=user.id, room=room["id"])
        assert client.get(url, headers=user.headers).status_code == 200, url
        response = client.get(f"{url}?cache=1&x=2", headers=user.headers)
        assert response.status_code == 400, url
        assert response.get_json()["message"] == ["cache: property should not exist", "x: property should not exist"]
    for action in ("join", "leave"):
        response = client.post(f"/api/v1/chat/rooms/{room['id']}/{action}?x=1", headers=user.headers)
        assert response.status_code == 400 and response.get_json()["message"] == ["x: property should not exist"]


def test_every_api_route_that_declares_no_query_refuses_one(app, users):
    """A route added later without a query schema is covered too: each answers 400 before it
    looks anything up (an unknown id would otherwise be 404)."""
    admin, client, checked = users.make(role=Role.SUPER_ADMIN), app.test_client(), []
    for rule in app.url_map.iter_rules():
        documented = getattr(app.view_functions[rule.endpoint], "_apidoc", None)
        if documented is None or not rule.rule.startswith("/api/v1/"):
            continue
        if any(p.get("in") == "query" for p in documented.get("arguments", {}).get("parameters", [])):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda _m: str(uuid.uuid4()), rule.rule)
            response = client.open(f"{url}?undeclared=1", method=method, headers=admin.headers)
            assert response.status_code == 400, f"{method} {rule.rule} answered {response.status_code}"
            assert response.get_json()["message"] == ["undeclared: property should not exist"]
            checked.append((method, rule.rule))
    assert ("GET", "/api/v1/health") in checked and ("POST", "/api/v1/auth/login") in checked
