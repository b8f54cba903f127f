"""Every Flask extension, created once without an app and bound in `create_app`."""

from flask_caching import Cache
from flask_cors import CORS
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from seda.common.api import EnvelopeApi
from seda.common.ratelimit import default_limit, rate_limit_key

# Named constraints keep Alembic migrations deterministic on PostgreSQL and SQLite alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SedaLimiter(Limiter):
    """Flask-Limiter that takes each app's settings afresh.

    Flask-Limiter 4.1 keeps the first app's key prefix and storage options and a "storage dead"
    flag across `init_app` calls; an app built after another (tests, a CLI inside a worker) must
    start from its own configuration instead.
    """

    def init_app(self, app):
        self._key_prefix = ""
        self._storage_options = {}
        self._storage_dead = False
        super().init_app(app)


# Objects stay readable after commit: services commit, then serialise what they stored
# without a second round trip per object.
class SedaSocketIO(SocketIO):
    """Flask-SocketIO that takes each app's settings afresh.

    Flask-SocketIO 5.7 merges every `init_app`'s options into the previous ones, so a message
    queue configured for one app would stay on every app built after it.
    """

    def init_app(self, app, **kwargs):
        self.server_options = {}
        super().init_app(app, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(render_as_batch=True)
socketio = SedaSocketIO()
limiter = SedaLimiter(key_func=rate_limit_key, default_limits=[default_limit])
cors = CORS()
cache = Cache()
api = EnvelopeApi()
