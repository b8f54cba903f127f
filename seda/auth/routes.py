from datetime import timedelta

from flask import current_app, jsonify
from flask_limiter.util import get_remote_address

from seda.auth import devices, email_addresses, recovery, services, two_factor
from seda.auth.schemas import (
    AcceptedSchema,
    AuthSessionSchema,
    ChangePasswordSchema,
    CodeSchema,
    DeviceSchema,
    EmailChangeSchema,
    EmailStateSchema,
    ForgotPasswordSchema,
    LoginSchema,
    MfaRequiredSchema,
    MfaVerifySchema,
    PasswordAndCodeSchema,
    PasswordSchema,
    PendingEmailSchema,
    RecoveryCodesSchema,
    RefreshSchema,
    ResetPasswordSchema,
    SignupSchema,
    TokenSchema,
    TwoFactorSetupSchema,
    TwoFactorStatusSchema,
)
from seda.auth.web import body_email, client_of_request, configured, counts_as_login_attempt
from seda.common import ratelimit
from seda.common.api import Blueprint
from seda.common.auth import current_device, current_user, login_required

bp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign-up, login and tokens")


def _secret():
    return current_app.config["JWT_SECRET"]


@bp.route("/signup", methods=["POST"])
@ratelimit.limit(configured("RATE_LIMIT_SIGNUP"), key_func=get_remote_address)
@bp.arguments(SignupSchema)
@bp.response(201, AuthSessionSchema)
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
        client_of_request(),
    )


@bp.route("/login", methods=["POST"])
@ratelimit.limit(configured("RATE_LIMIT_LOGIN_IP"), key_func=get_remote_address)
@counts_as_login_attempt
@bp.arguments(LoginSchema)
@bp.response(200, AuthSessionSchema)
@bp.alt_response(401, description="Invalid email or password")
def login(body):
    """Exchange email and password for an access and a refresh token. A two-factor account gets
    `{mfaRequired: true, mfaToken, expiresIn: 300}` instead (no tokens): answer it with a code
    at POST /auth/2fa/verify."""
    result = services.login(_secret(), body["email"], body["password"], client_of_request())
    if isinstance(result, dict):
        return jsonify(MfaRequiredSchema().dump(result))
    return result


@bp.route("/refresh", methods=["POST"])
@bp.arguments(RefreshSchema)
@bp.response(200, AuthSessionSchema)
@bp.alt_response(401, description="Invalid, expired or already spent refresh token")
def refresh(body):
    """Spend a refresh token for a new pair. The same spent token again within
    REFRESH_REUSE_GRACE_SECONDS answers with the pair it produced; later, it revokes its family."""
    grace = timedelta(seconds=current_app.config["REFRESH_REUSE_GRACE_SECONDS"])
    return services.refresh(_secret(), body["refreshToken"], client_of_request(), grace)


@bp.route("/logout", methods=["POST"])
@login_required
@bp.arguments(RefreshSchema)
@bp.response(204)
def logout(body):
    """Revoke the refresh token's family."""
    services.logout(_secret(), current_user(), body["refreshToken"])


def _mail_per_user():
    return f"mail-user:{current_user().id}"


@bp.route("/email/verify", methods=["POST"])
@bp.arguments(TokenSchema)
@bp.response(200, EmailStateSchema)
@bp.alt_response(400, description="Invalid or expired token")
@bp.alt_response(409, description="Email already registered (an email change's new address was taken meanwhile)")
def verify_email(body):
    """Use a mailed link's token: prove my address, or make an email change take effect."""
    return email_addresses.verify(body["token"])


@bp.route("/email/verification", methods=["POST"])
@login_required
@ratelimit.limit(configured("RATE_LIMIT_MAIL"), key_func=_mail_per_user, scope="mail-verification")
@bp.response(202, AcceptedSchema)
@bp.alt_response(409, description="Email already verified")
def resend_verification():
    """Mail me a new verification link (earlier links keep working until they expire)."""
    email_addresses.resend_verification(current_user())
    return {"message": "Verification email sent"}


@bp.route("/email/change", methods=["POST"])
@login_required
@ratelimit.limit(configured("RATE_LIMIT_MAIL"), key_func=_mail_per_user, scope="mail-email-change")
@bp.arguments(EmailChangeSchema)
@bp.response(202, PendingEmailSchema)
@bp.alt_response(403, description="Incorrect password")
@bp.alt_response(409, description="Email already registered, or Set a password first")
def change_email(body):
    """Ask to move my account to `newEmail`: it changes when the link mailed there is used."""
    return email_addresses.request_change(current_user(), body["newEmail"], body["password"])


@bp.route("/email/change", methods=["DELETE"])
@login_required
@bp.response(204)
def cancel_email_change():
    """Drop my pending email change (its link stops working)."""
    email_addresses.cancel_change(current_user())


def _mail_per_address():
    email = body_email()
    return f"mail-address:{email.strip().lower()}" if email else f"mail-ip:{get_remote_address()}"


@bp.route("/password/forgot", methods=["POST"])
@ratelimit.limit(configured("RATE_LIMIT_MAIL"), key_func=_mail_per_address, scope="mail-forgot")
@ratelimit.limit(configured("RATE_LIMIT_MAIL_IP"), key_func=get_remote_address, scope="mail-forgot-ip")
@bp.arguments(ForgotPasswordSchema)
@bp.response(202, AcceptedSchema)
def forgot_password(body):
    """Mail a reset link to the account using this address. The answer is the same for every
    address (unknown, banned or real), in the same time: it reveals nothing."""
    recovery.forgot(body["email"])
    return {"message": recovery.FORGOT_ANSWER}


@bp.route("/password/reset", methods=["POST"])
@bp.arguments(ResetPasswordSchema)
@bp.response(204)
@bp.alt_response(400, description="Invalid or expired token (single use, valid for PASSWORD_RESET_TTL_MINUTES)")
def reset_password(body):
    """Set a new password with a reset link's token: every device is signed out."""
    recovery.reset(body["token"], body["password"])


@bp.route("/password/change", methods=["POST"])
@login_required
@bp.arguments(ChangePasswordSchema)
@bp.response(200, AuthSessionSchema)
@bp.alt_response(403, description="Incorrect password")
@bp.alt_response(409, description="Set a password first (an account created from a Supabase token)")
def change_password(body):
    """Change my password: every device of mine is signed out, and this one gets new tokens."""
    return recovery.change(_secret(), current_user(), body["currentPassword"], body["newPassword"], client_of_request())


@bp.route("/devices")
@login_required
@bp.response(200, DeviceSchema(many=True))
def list_devices():
    """My devices signed in, most recently used first (not paged)."""
    return devices.listed(current_user().id, current_device())


@bp.route("/devices/<device_id>", methods=["DELETE"])
@login_required
@bp.response(204)
@bp.alt_response(404, description="Device not found (unknown, or not mine)")
def revoke_device(device_id):
    """Sign a device of mine out (the current one too): its tokens are refused at once, its
    sockets get `signed_out` and are disconnected."""
    devices.revoke(current_user().id, device_id)


@bp.route("/devices", methods=["DELETE"])
@login_required
@bp.response(204)
def revoke_other_devices():
    """Sign every device of mine out but the current one."""
    devices.revoke_others(current_user().id, current_device())


@bp.route("/2fa")
@login_required
@bp.response(200, TwoFactorStatusSchema)
def two_factor_status():
    """Whether two-factor is on for me, and how many recovery codes are left."""
    return two_factor.status(current_user())


@bp.route("/2fa/setup", methods=["POST"])
@login_required
@bp.arguments(PasswordSchema)
@bp.response(200, TwoFactorSetupSchema)
@bp.alt_response(403, description="Incorrect password")
@bp.alt_response(409, description="Two-factor authentication is already enabled")
def two_factor_setup(body):
    """A new secret for my authenticator app; nothing changes until enable (a second setup
    replaces the pending secret)."""
    return two_factor.setup(current_user(), body["password"])


@bp.route("/2fa/enable", methods=["POST"])
@login_required
@bp.arguments(CodeSchema)
@bp.response(200, RecoveryCodesSchema)
@bp.alt_response(403, description="Invalid two-factor code")
@bp.alt_response(409, description="Set up two-factor authentication first")
def two_factor_enable(body):
    """Turn two-factor on with a code from the pending secret: my 10 recovery codes, shown once."""
    return {"recoveryCodes": two_factor.enable(current_user(), body["code"])}


@bp.route("/2fa/verify", methods=["POST"])
@ratelimit.limit(configured("RATE_LIMIT_LOGIN_IP"), key_func=get_remote_address)
@bp.arguments(MfaVerifySchema)
@bp.response(200, AuthSessionSchema)
@bp.alt_response(401, description="Invalid two-factor code, or Invalid or expired token (the mfaToken)")
def two_factor_verify(body):
    """Answer a login's mfaToken with a TOTP or recovery code: tokens for a new device."""
    return services.pass_two_factor(_secret(), body["mfaToken"], body["code"], client_of_request())


@bp.route("/2fa/recovery-codes", methods=["POST"])
@login_required
@bp.arguments(PasswordAndCodeSchema)
@bp.response(200, RecoveryCodesSchema)
@bp.alt_response(403, description="Incorrect password, or Invalid two-factor code")
@bp.alt_response(409, description="Two-factor authentication is not enabled")
def two_factor_recovery_codes(body):
    """10 new recovery codes; the old ones die."""
    return {"recoveryCodes": two_factor.new_recovery_codes(current_user(), body["password"], body["code"])}


@bp.route("/2fa/disable", methods=["POST"])
@login_required
@bp.arguments(PasswordAndCodeSchema)
@bp.response(204)
@bp.alt_response(403, description="Incorrect password, or Invalid two-factor code")
@bp.alt_response(409, description="Two-factor authentication is not enabled")
def two_factor_disable(body):
    """Turn two-factor off (secret and recovery codes deleted)."""
    two_factor.disable(current_user(), body["password"], body["code"])
