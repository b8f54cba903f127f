"""Factories and helpers that speak the API (pytest plugin, loaded by conftest)."""

import itertools

import pytest

from seda.auth.passwords import hash_password
from seda.auth.tokens import issue_access_token
from seda.extensions import db
from seda.users.models import ArtistProfile, Role, User

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
