"""Flask-Limiter: each app's settings taken afresh by the one module-level limiter.

Flask-Limiter 4.1 keeps the first app's key prefix, storage options and "storage dead" flag
across `init_app` calls; an app built after another (the tests build hundreds, a CLI inside a
worker builds a second) would count its routes' limits on the first app's storage and keys.
There is no public way to reset them; routes' limit decorators bind to the one limiter, so one
limiter per app is not an option either."""

from flask_limiter import Limiter

PATCHED_FOR = "Flask-Limiter==4.1.1"
PATCHED = {"flask_limiter.Limiter.init_app": "(self, app: 'flask.Flask') -> 'None'"}
# Instance attributes set by Limiter.__init__ and read again by init_app.
RESET = {"_key_prefix": "", "_storage_options": {}, "_storage_dead": False}


def init_app_afresh(limiter, app):
    """`limiter.init_app(app)` as if `limiter` had never been bound to another app."""
    for name, value in RESET.items():
        if not hasattr(limiter, name):  # an upgrade renamed it: the reset would do nothing
            raise RuntimeError(f"Flask-Limiter no longer has {name}: see seda/patches/flask_limiter.py")
        setattr(limiter, name, type(value)() if isinstance(value, dict) else value)
    Limiter.init_app(limiter, app)
