"""Every admin route with a body that passes validation, and what an admin caller gets: the access
table, as data (tests/admin/test_access.py, the authorization matrix)."""

import uuid

ADMIN_KEY = "admin-api-key-for-tests-0123456789"
UNKNOWN = str(uuid.uuid4())

# (method, path, body, status for an admin caller)
ROUTES = [
    ("GET", "/api/v1/admin/verification/pending", None, 200),
    ("GET", "/api/v1/admin/verification", None, 200),
    ("GET", "/api/v1/admin/verification/stats/overview", None, 200),
    ("GET", f"/api/v1/admin/verification/{UNKNOWN}", None, 404),
    ("PATCH", f"/api/v1/admin/verification/{UNKNOWN}/approve", {}, 404),
    ("PATCH", f"/api/v1/admin/verification/{UNKNOWN}/deny", {"reason": "no"}, 404),
    ("POST", f"/api/v1/admin/verification/{UNKNOWN}/crawl", None, 404),
    ("POST", "/api/v1/admin/crawl", {"url": "https://127.0.0.1/"}, 202),
    ("GET", f"/api/v1/admin/crawl/{UNKNOWN}", None, 404),
    ("GET", "/api/v1/admin/users", None, 200),
    ("PATCH", f"/api/v1/admin/users/{UNKNOWN}", {"role": "ARTIST"}, 404),
    ("POST", f"/api/v1/admin/users/{UNKNOWN}/ban", {"reason": "spam"}, 404),
    ("POST", f"/api/v1/admin/users/{UNKNOWN}/unban", None, 404),
    ("DELETE", f"/api/v1/admin/users/{UNKNOWN}/2fa", None, 404),
    ("POST", f"/api/v1/admin/users/{UNKNOWN}/purge", None, 404),
    ("GET", "/api/v1/admin/reports", None, 200),
    ("POST", f"/api/v1/admin/reports/{UNKNOWN}/resolve", {"action": "DISMISS"}, 404),
    ("DELETE", f"/api/v1/admin/messages/{UNKNOWN}", None, 404),
    ("GET", "/api/v1/admin/actions", None, 200),
    ("GET", "/api/v1/admin/stats", None, 200),
]
CALLERS = ["anonymous", "USER", "ARTIST", "ADMIN", "SUPER_ADMIN", "api-key"]
EXPECTED_FOR_NON_ADMINS = {"anonymous": 401, "USER": 403, "ARTIST": 403}
