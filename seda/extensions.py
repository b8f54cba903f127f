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


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)
socketio = SocketIO()
limiter = Limiter(key_func=rate_limit_key, default_limits=[default_limit])
cors = CORS()
cache = Cache()
api = EnvelopeApi()
