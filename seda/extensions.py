"""The Flask extensions every layer shares, created once without an app and bound in `create_app`.

This module imports nothing of seda: `common` and the features build on it. The two extensions
that carry seda's own policy live with that policy: the rate limiter in `seda.common.ratelimit`,
the API (error envelope, OpenAPI) in `seda.common.api`.
"""

from flask_caching import Cache
from flask_cors import CORS
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

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


class SedaSocketIO(SocketIO):
    """Flask-SocketIO that takes each app's settings afresh.

    Flask-SocketIO 5.7 merges every `init_app`'s options into the previous ones, so a message
    queue configured for one app would stay on every app built after it.
    """

    def init_app(self, app, **kwargs):
        self.server_options = {}
        super().init_app(app, **kwargs)


# Objects stay readable after commit: services commit, then serialise what they stored
# without a second round trip per object.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(render_as_batch=True)
socketio = SedaSocketIO()
cors = CORS()
cache = Cache()
