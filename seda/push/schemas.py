import marshmallow as ma

from seda.common.schemas import HttpsUrl, JsonInteger, Timestamp
from seda.push.encryption import check_auth, check_p256dh


def _checked_by(check):
    def validate(value):
        try:
            check(value)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None

    return validate


class SubscriptionKeysSchema(ma.Schema):
    p256dh = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(max=100), _checked_by(check_p256dh)],
        metadata={"description": "base64url of a 65-byte uncompressed P-256 point"},
    )
    auth = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(max=32), _checked_by(check_auth)],
        metadata={"description": "base64url of 16 bytes"},
    )


class SubscribeSchema(ma.Schema):
    """What `PushSubscription.toJSON()` gives in the browser."""

    endpoint = HttpsUrl(required=True)
    keys = ma.fields.Nested(SubscriptionKeysSchema, required=True)
    expirationTime = JsonInteger(
        allow_none=True,
        load_default=None,
        validate=ma.validate.Range(0, 253_402_300_799_999),
        metadata={"description": "ms since the epoch, or null"},
    )


class PushSubscriptionSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    endpoint = ma.fields.String(required=True)
    expirationTime = ma.fields.Method("_expiration_ms", allow_none=True, metadata={"type": "integer"})
    createdAt = Timestamp(attribute="created_at", required=True)
    lastSuccessAt = Timestamp(attribute="last_success_at", allow_none=True)

    def _expiration_ms(self, subscription):
        expires = subscription.expires_at
        return None if expires is None else int(expires.timestamp() * 1000)


class VapidPublicKeySchema(ma.Schema):
    publicKey = ma.fields.String(
        required=True, metadata={"description": "base64url (no padding) of the 65-byte uncompressed P-256 point"}
    )
