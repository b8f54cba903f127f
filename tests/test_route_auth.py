"""Every route outside the public list answers 401 without a token (a new route fails here)."""

import re
import uuid

PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/health/live"),
    ("POST", "/api/v1/auth/signup"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/email/verify"),
    ("POST", "/api/v1/auth/password/forgot"),
    ("POST", "/api/v1/auth/password/reset"),
    ("POST", "/api/v1/auth/2fa/verify"),
    ("POST", "/api/v1/auth/account/restore"),
    ("GET", "/api/v1/invites/<code>"),
    ("GET", "/api/v1/push/vapid-public-key"),
    # A signed token in its query, as a mail client posts it (RFC 8058), not a bearer token.
    ("POST", "/api/v1/notifications/unsubscribe"),
    ("GET", "/api/docs"),
    ("GET", "/api/docs/"),
    ("GET", "/api/docs/openapi.json"),
    ("GET", "/api/docs/asyncapi.json"),
    ("GET", "/api/docs/events"),
    ("GET", "/api/docs/assets/<path:filename>"),
    ("GET", "/metrics"),  # guarded by METRICS_TOKEN when set (tests/common/test_http.py)
    ("GET", "/static/<path:filename>"),
    # The console's page and assets are public; everything it shows comes from the API with a token.
    ("GET", "/console"),
    ("GET", "/console/"),
    ("GET", "/console/static/<path:filename>"),
}


def concrete(rule):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda _m: str(uuid.uuid4()), rule)


def test_every_non_public_route_requires_a_token(app):
    client = app.test_client()
    checked = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (method, rule.rule) in PUBLIC:
                continue
            response = client.open(concrete(rule.rule), method=method, json={})
            assert response.status_code == 401, f"{method} {rule.rule} answered {response.status_code}"
            assert response.get_json()["message"] == ["Missing authentication token"]
            checked.append((method, rule.rule))
    assert ("GET", "/api/v1/users/me") in checked
