"""Deletion's races (API.md §12): requests at once, each on its own connection as on its own
process, get exactly one success."""

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from seda.accounts import deletion
from seda.extensions import db
from seda.users.models import Role, User
from tests.helpers.fixtures import PASSWORD, bearer


def test_two_last_super_admins_deleting_themselves_at_once_leave_one(app, users):
    admins = [users.make(role=Role.SUPER_ADMIN) for _ in range(2)]

    def delete(admin):
        response = app.test_client().delete("/api/v1/users/me", json={"password": PASSWORD}, headers=admin.headers)
        return response.status_code

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(delete, admins)) == [202, 409]
    with app.app_context():
        left = db.session.scalar(
            sa.select(sa.func.count()).where(User.role == Role.SUPER_ADMIN, User.deleted_at.is_(None))
        )
    assert left == 1


def test_two_restores_at_once_sign_in_once(app, client):
    session = client.post("/api/v1/auth/signup", json={"email": "ada@example.com", "password": PASSWORD}).get_json()
    client.delete("/api/v1/users/me", json={"password": PASSWORD}, headers=bearer(session["accessToken"]))

    def restore(_):
        body = {"email": "ada@example.com", "password": PASSWORD}
        return app.test_client().post("/api/v1/auth/account/restore", json=body).status_code

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(restore, range(4))) == [200, 409, 409, 409]


def test_sweeps_on_two_processes_purge_each_account_once(app, client, users):
    doomed = [users.make() for _ in range(6)]
    for user in doomed:
        client.delete("/api/v1/users/me", json={"password": PASSWORD}, headers=user.headers)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.deleted_at.is_not(None)).values(purge_at=User.deleted_at))
        db.session.commit()

    def sweep(_):
        with app.app_context():
            return deletion.purge_due()

    with ThreadPoolExecutor(2) as pool:
        assert sum(pool.map(sweep, range(2))) == len(doomed)
