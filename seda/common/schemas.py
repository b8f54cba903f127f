"""Schema pieces every feature uses: timestamps in the contract's format, trimmed strings."""

import unicodedata

import marshmallow as ma
from email_validator import EmailNotValidError, validate_email

from seda.common.db import iso_utc

# A field's metadata key for a key an answer carries only sometimes (as API.md says of it): the
# OpenAPI document then leaves it out of the answer's `required` (seda/docs/openapi.py).
OPTIONAL = "x-seda-optional"


class Timestamp(ma.fields.DateTime):
    """ISO 8601 UTC with milliseconds and Z, as API.md §1 asks."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else iso_utc(value)


class Trimmed(ma.fields.String):
    """A string with surrounding whitespace removed before validation."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class HttpsUrl(Trimmed):
    """An https URL of at most 2048 characters."""

    def __init__(self, **kwargs):
        super().__init__(
            validate=[
                ma.validate.Length(max=2048),
                ma.validate.URL(schemes={"https"}, error="Must be an https URL."),
            ],
            **kwargs,
        )


class Email(Trimmed):
    """An email address in one canonical form, so that two spellings that look alike are one
    account: NFKC (fullwidth and compatibility characters become their plain forms), checked by
    email-validator (which refuses invisible and other unsafe characters and domains that can
    never receive mail), then lower-cased."""

    def __init__(self, **kwargs):
        super().__init__(validate=ma.validate.Length(max=254), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = unicodedata.normalize("NFKC", super()._deserialize(value, attr, data, **kwargs))
        try:
            address = validate_email(text, check_deliverability=False)
        except EmailNotValidError as error:
            raise ma.ValidationError(f"Not a valid email address: {error}") from None
        return address.normalized.lower()


class JsonInteger(ma.fields.Integer):
    """An integer in a JSON body: 2.5 or "3" is refused, not truncated (query strings stay lenient)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class JsonBoolean(ma.fields.Boolean):
    """A boolean in a JSON body: only true or false (0, 1 and "yes" are for query strings)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):  # 0 == False in Python, so sets of truthy values won't do
            raise self.make_error("invalid", input=value)
        return value


class PageQuerySchema(ma.Schema):
    """`limit` and `cursor` of every paged list (API.md section 1)."""

    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))
    cursor = ma.fields.String(validate=ma.validate.Length(1, 64))
