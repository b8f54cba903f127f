import marshmallow as ma

from seda.auth.schemas import PasswordSchema
from seda.common.schemas import Email, Timestamp


class _OptionalCodeSchema(ma.Schema):
    code = ma.fields.String(
        validate=ma.validate.Length(1, 32),
        metadata={"description": "A TOTP code or a recovery code: required while two-factor is on"},
    )


class DeleteAccountSchema(PasswordSchema, _OptionalCodeSchema):
    pass


class RestoreAccountSchema(PasswordSchema, _OptionalCodeSchema):
    email = Email(required=True)


class DeletionSchema(ma.Schema):
    deletedAt = Timestamp(attribute="deleted_at")
    purgeAt = Timestamp(
        attribute="purge_at", metadata={"description": "deletedAt + ACCOUNT_PURGE_AFTER_DAYS: restorable until then"}
    )
