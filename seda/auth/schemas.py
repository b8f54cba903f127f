import marshmallow as ma

from seda.common.schemas import Email, Trimmed
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


class SessionSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    accessToken = ma.fields.String(attribute="access_token")
    refreshToken = ma.fields.String(attribute="refresh_token")
    tokenType = ma.fields.Constant("Bearer")
    expiresIn = ma.fields.Integer(attribute="expires_in", metadata={"description": "Seconds"})
