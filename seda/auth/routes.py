from flask import current_app, request
from flask_limiter.util import get_remote_address

from seda.auth import services
from seda.auth.schemas import LoginSchema, RefreshSchema, SessionSchema, SignupSchema
from seda.common import ratelimit
from seda.common.api import Blueprint
from seda.common.auth import current_user, login_required

bp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign-up, login and tokens")


def _secret():
    return current_app.config["JWT_SECRET"]


def _limit(name):
    return lambda: current_app.config[name]


def _login_account_key():
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested too deep to parse: the parser answers 400 after this
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    return f"login-account:{str(email).strip().lower()}" if email else f"login-ip:{get_remote_address()}"


@bp.route("/signup", methods=["POST"])
@ratelimit.limit(_limit("RATE_LIMIT_SIGNUP"), key_func=get_remote_address)
@bp.arguments(SignupSchema)
@bp.response(201, SessionSchema)
@bp.alt_response(409, description="Email already registered")
def signup(body):
    """Create an account (with an unverified artist profile when `artistName` is given)."""
    return services.signup(
        _secret(),
        body["email"],
        body["password"],
        body.get("displayName"),
        body.get("artistName"),
        body.get("username"),
    )


@bp.route("/login", methods=["POST"])
@ratelimit.limit(_limit("RATE_LIMIT_LOGIN_ACCOUNT"), key_func=_login_account_key)
@ratelimit.limit(_limit("RATE_LIMIT_LOGIN_IP"), key_func=get_remote_address)
@bp.arguments(LoginSchema)
@bp.response(200, SessionSchema)
@bp.alt_response(401, description="Invalid email or password")
def login(body):
    """Exchange email and password for an access and a refresh token."""
    return services.login(_secret(), body["email"], body["password"])


@bp.route("/refresh", methods=["POST"])
@bp.arguments(RefreshSchema)
@bp.response(200, SessionSchema)
@bp.alt_response(401, description="Invalid, expired or already spent refresh token")
def refresh(body):
    """Spend a refresh token for a new pair; reusing a spent one revokes its family."""
    return services.refresh(_secret(), body["refreshToken"])


@bp.route("/logout", methods=["POST"])
@login_required
@bp.arguments(RefreshSchema)
@bp.response(204)
def logout(body):
    """Revoke the refresh token's family."""
    services.logout(_secret(), current_user(), body["refreshToken"])
