import marshmallow as ma

from seda.common.schemas import Email, Timestamp, Trimmed
from seda.users.schemas import Username, UserSchema

Length = ma.validate.Length


class SignupSchema(ma.Schema):
    email = Email(required=True)
    password = ma.fields.String(required=True, load_only=True, validate=Length(8, 128))
    username = Username(
        metadata={"description": "Derived from displayName or the email when left out (409 when taken)"}
    )
    displayName = Trimmed(validate=Length(1, 50))
    artistName = Trimmed(validate=Length(1, 50))


class LoginSchema(ma.Schema):
    email = Email(required=True)
    password = ma.fields.String(required=True, load_only=True, validate=Length(1, 128))


class RefreshSchema(ma.Schema):
    refreshToken = ma.fields.String(required=True, validate=Length(1, 4096))


class ForgotPasswordSchema(ma.Schema):
    email = Email(required=True)


class ResetPasswordSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=Length(1, 512))
    password = ma.fields.String(required=True, load_only=True, validate=Length(8, 128))


class ChangePasswordSchema(ma.Schema):
    currentPassword = ma.fields.String(required=True, load_only=True, validate=Length(1, 128))
    newPassword = ma.fields.String(required=True, load_only=True, validate=Length(8, 128))


class DeviceSchema(ma.Schema):
    id = ma.fields.UUID()
    createdAt = Timestamp(attribute="created_at")
    lastUsedAt = Timestamp(attribute="last_used_at")
    userAgent = ma.fields.String(attribute="user_agent", allow_none=True)
    ipAddress = ma.fields.String(attribute="ip_address", allow_none=True)
    current = ma.fields.Boolean(metadata={"description": "The caller's access token belongs to it"})


class PasswordSchema(ma.Schema):
    password = ma.fields.String(required=True, load_only=True, validate=Length(1, 128))


class CodeSchema(ma.Schema):
    code = ma.fields.String(
        required=True, validate=Length(1, 32), metadata={"description": "A TOTP code or a recovery code"}
    )


class PasswordAndCodeSchema(PasswordSchema, CodeSchema):
    pass


class MfaVerifySchema(CodeSchema):
    mfaToken = ma.fields.String(required=True, validate=Length(1, 512))


class TwoFactorStatusSchema(ma.Schema):
    enabled = ma.fields.Boolean()
    enabledAt = Timestamp(attribute="enabled_at", allow_none=True)
    recoveryCodesLeft = ma.fields.Integer(attribute="recovery_codes_left")


class TwoFactorSetupSchema(ma.Schema):
    secret = ma.fields.String(metadata={"description": "32 base32 characters (160 bits)"})
    otpauthUri = ma.fields.String(attribute="otpauth_uri")


class RecoveryCodesSchema(ma.Schema):
    recoveryCodes = ma.fields.List(
        ma.fields.String(), metadata={"description": "10 codes, xxxxx-xxxxx, each usable once; shown this once"}
    )


class MfaRequiredSchema(ma.Schema):
    """What POST /auth/login answers a two-factor account instead of tokens."""

    mfaRequired = ma.fields.Constant(True)
    mfaToken = ma.fields.String(attribute="mfa_token")
    expiresIn = ma.fields.Integer(attribute="expires_in", metadata={"description": "Seconds"})


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=Length(1, 512))


class EmailStateSchema(ma.Schema):
    email = ma.fields.String()
    emailVerified = ma.fields.Boolean(attribute="email_verified")


class EmailChangeSchema(ma.Schema):
    newEmail = Email(required=True)
    password = ma.fields.String(required=True, load_only=True, validate=Length(1, 128))


class PendingEmailSchema(ma.Schema):
    pendingEmail = ma.fields.String(attribute="pending_email")


class AcceptedSchema(ma.Schema):
    """A request accepted: what happens next, in words."""

    message = ma.fields.String()


class AuthSessionSchema(ma.Schema):
    """A signed-in session's tokens (AuthSession: API.md's Session is the listening session)."""

    user = ma.fields.Nested(UserSchema)
    accessToken = ma.fields.String(attribute="access_token")
    refreshToken = ma.fields.String(attribute="refresh_token")
    tokenType = ma.fields.Constant("Bearer")
    expiresIn = ma.fields.Integer(attribute="expires_in", metadata={"description": "Seconds"})
