"""Pooled PostgreSQL connections are checked before use only after they sat idle: one that died
while idle is replaced without the caller noticing; one that dies while in steady use fails one
request with the 503 envelope, and the next request gets a new connection."""

import sqlalchemy as sa

from seda.extensions import db
from tests.helpers.tiers import services_only

ROOMS = "/api/v1/chat/rooms"  # reads the database


def pooled_backend(app):
    """The server process behind the app's pooled connection (requests here run one at a time,
    so they all use this one), checked back in."""
    with app.app_context():
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()
    return pid


def terminate(postgres_engine, pid):
    with postgres_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()


@services_only
def test_a_connection_that_died_while_idle_is_replaced_unnoticed(app, client, users, postgres_engine):
    headers = users.make().headers
    with app.app_context():
        engine = db.engine

    def idle_for_an_hour(_dbapi_connection, record):
        record.info["checked_in_at"] -= 3600

    sa.event.listen(engine, "checkin", idle_for_an_hour)
    try:
        terminate(postgres_engine, pooled_backend(app))
        response = client.get(ROOMS, headers=headers)
    finally:
        sa.event.remove(engine, "checkin", idle_for_an_hour)
    assert response.status_code == 200, response.get_json()


@services_only
def test_a_connection_that_died_in_use_fails_one_request_and_the_next_reconnects(app, client, users, postgres_engine):
    headers = users.make().headers
    terminate(postgres_engine, pooled_backend(app))
    failed = client.get(ROOMS, headers=headers)
    assert failed.status_code == 503 and failed.get_json()["message"] == ["Database unavailable"]
    assert failed.headers["Retry-After"]
    assert client.get(ROOMS, headers=headers).status_code == 200
