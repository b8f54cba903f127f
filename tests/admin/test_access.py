"""Every admin route × every kind of caller: the access table, as data."""

import pytest

from seda.users.models import Role
from tests.helpers.admin_routes import ADMIN_KEY, CALLERS, EXPECTED_FOR_NON_ADMINS, ROUTES, UNKNOWN
from tests.helpers.fixtures import bearer


@pytest.fixture
def admin_app(app_factory):
    return app_factory(ADMIN_API_KEY=ADMIN_KEY)


def headers_for(caller, factory):
    if caller == "anonymous":
        return {}
    if caller == "api-key":
        return {"X-Admin-Api-Key": ADMIN_KEY}
    return bearer(factory.make(role=Role(caller)).token)


def test_the_table_covers_every_admin_route(admin_app):
    rules = {
        (method, rule.rule)
        for rule in admin_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/admin")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(method, _template(path)) for method, path, _b, _s in ROUTES}
    assert {(m, _normalise(r)) for m, r in rules} == covered


def _template(path):
    return path.replace(UNKNOWN, "<id>")


def _normalise(rule):
    import re

    return re.sub(r"<[^>]+>", "<id>", rule)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    "method,path,body,admin_status", ROUTES, ids=[f"{m} {_template(p)}" for m, p, _b, _s in ROUTES]
)
def test_admin_access(admin_app, caller, method, path, body, admin_status):
    from tests.helpers.fixtures import UserFactory

    headers = headers_for(caller, UserFactory(admin_app))
    response = admin_app.test_client().open(path, method=method, json=body, headers=headers)
    expected = EXPECTED_FOR_NON_ADMINS.get(caller, admin_status)
    assert response.status_code == expected, response.get_json()


def test_the_api_key_is_refused_when_no_key_is_configured(app_factory):
    client = app_factory().test_client()
    for key in ("", "anything"):
        assert client.get("/api/v1/admin/stats", headers={"X-Admin-Api-Key": key}).status_code == 401


def test_a_wrong_api_key_is_refused(admin_app):
    response = admin_app.test_client().get("/api/v1/admin/stats", headers={"X-Admin-Api-Key": ADMIN_KEY + "x"})
    assert response.status_code == 401 and response.get_json()["message"] == ["Invalid admin API key"]


def test_a_demoted_admin_is_refused_at_once(admin_app):
    from tests.helpers.fixtures import UserFactory

    factory = UserFactory(admin_app)
    boss, admin = factory.make(role=Role.SUPER_ADMIN), factory.make(role=Role.ADMIN)
    client = admin_app.test_client()
    assert client.get("/api/v1/admin/stats", headers=admin.headers).status_code == 200
    assert (
        client.patch(f"/api/v1/admin/users/{admin.id}", json={"role": "USER"}, headers=boss.headers).status_code == 200
    )
    assert client.get("/api/v1/admin/stats", headers=admin.headers).status_code == 403
