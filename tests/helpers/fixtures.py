"""Factories and helpers that speak the API (pytest plugin, loaded by conftest)."""

import itertools
import shutil
import uuid

import pytest
import sqlalchemy as sa

from seda.auth.passwords import hash_password
from seda.auth.tokens import issue_access_token
from seda.extensions import db, socketio
from seda.users.models import ArtistProfile, Role, User
from tests.helpers.chat import Chat
from tests.helpers.clients import Listener
from tests.helpers.settings import PG_ADMIN_URL, REDIS_TEST_URL

_counter = itertools.count()
PASSWORD = "correct horse battery"
_password_hash = None


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class UserFactory:
    """Committed users with ready access tokens: `users.make(role=Role.ADMIN)`."""

    def __init__(self, app):
        self.app = app

    def make(self, role=Role.USER, banned=False, artist_name=None, display_name=None, email=None, username=None):
        global _password_hash
        if _password_hash is None:
            _password_hash = hash_password(PASSWORD)
        n = next(_counter)
        with self.app.app_context():
            user = User(
                email=email or f"user{n}@example.com",
                password_hash=_password_hash,
                display_name=display_name or f"User {n}",
                username=username or f"user_{n}",
                role=role,
                banned=banned,
                email_verified=True,
            )
            if artist_name:
                user.artist_profile = ArtistProfile(artist_name=artist_name)
            db.session.add(user)
            db.session.commit()
            token = issue_access_token(self.app.config["JWT_SECRET"], user.id)
            return TestUser(str(user.id), user.email, token, user.username)


class TestUser:
    __test__ = False

    def __init__(self, id, email, token, username=None):
        self.id, self.email, self.token, self.username = id, email, token, username

    @property
    def headers(self):
        return bearer(self.token)


@pytest.fixture
def users(app):
    return UserFactory(app)


@pytest.fixture
def server_env(tier, app_factory, request, tmp_path):
    """The environment of a gunicorn process (tests.helpers.servers) on the current tier: the
    embedded default on a migrated SQLite file, or PostgreSQL and Redis with a key namespace of
    the test's own. Rows it leaves are removed with the in-process apps' (app_factory)."""
    env = {
        "APP_ENV": "testing",
        "LOG_LEVEL": "WARNING",
        "JWT_SECRET": "server-secret-" + "x" * 40,
        "GRACEFUL_TIMEOUT": "1",  # connections a test leaves open need not hold the stop for 10 s
        "MAIL_OUTBOX_DIR": str(tmp_path / "server-outbox"),
        "EXPORT_DIR": str(tmp_path / "server-exports"),
    }
    if tier == "sqlite":
        path = tmp_path / "server.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return {**env, "DATABASE_URL": f"sqlite:///{path}"}
    namespace = f"{request.getfixturevalue('redis_namespace')}-{uuid.uuid4().hex[:8]}"
    return {
        **env,
        "DATABASE_URL": request.getfixturevalue("postgres_url"),
        "REDIS_URL": REDIS_TEST_URL,
        "REDIS_NAMESPACE": namespace,
    }


@pytest.fixture
def chat(client, users):
    """`chat()` → a Chat for a new user; `chat(user)` for an existing one."""

    def make(user=None, **kwargs):
        return Chat(client, user or users.make(**kwargs))

    return make


@pytest.fixture
def socket_for(app):
    clients = []

    def connect(user, token=None):
        sock = socketio.test_client(app, namespace="/chat", auth={"token": token or user.token})
        clients.append(sock)
        return sock

    yield connect
    for sock in clients:
        if sock.is_connected("/chat"):
            sock.disconnect("/chat")


@pytest.fixture
def listeners():
    opened = []

    def open_(base, token):
        listener = Listener(base, token)
        opened.append(listener)
        return listener

    yield open_
    for listener in opened:
        listener.close()


@pytest.fixture
def database_url(tier, tmp_path):
    if tier == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    name = f"seda_test_migration_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
