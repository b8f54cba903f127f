import marshmallow as ma

from seda.common.schemas import HttpsUrl, Timestamp, Trimmed
from seda.users.schemas import UserSchema
from seda.verification.models import VerificationStatus

INSTRUCTIONS = [
    "Put the claim code on a page you control: your website, Bandcamp or SoundCloud bio, or link page.",
    'Or add <meta name="seda-verification" content="CODE"> to the page, or serve the code at '
    "https://<your domain>/.well-known/seda-verification.txt.",
    "Then submit the page's https URL. We check it right away and again every 6 hours until the code expires.",
    "An admin reviews the result; you will see the outcome here.",
]


class LastCheckSchema(ma.Schema):
    found = ma.fields.Boolean()
    method = ma.fields.String(allow_none=True, metadata={"enum": ["TEXT", "META", "WELL_KNOWN", None]})
    httpStatus = ma.fields.Integer(allow_none=True)
    finalUrl = ma.fields.String(allow_none=True)
    checkedAt = ma.fields.String()
    error = ma.fields.String(allow_none=True)


class VerificationRequestSchema(ma.Schema):
    """A request as its claimant sees it: never the page content."""

    id = ma.fields.UUID()
    claimCode = ma.fields.String(attribute="claim_code")
    status = ma.fields.Enum(VerificationStatus)
    targetUrl = ma.fields.String(attribute="target_url", allow_none=True)
    createdAt = Timestamp(attribute="created_at")
    submittedAt = Timestamp(attribute="submitted_at", allow_none=True)
    expiresAt = Timestamp(attribute="expires_at")
    crawledAt = Timestamp(attribute="crawled_at", allow_none=True)
    reviewedAt = Timestamp(attribute="reviewed_at", allow_none=True)
    denialReason = ma.fields.String(attribute="denial_reason", allow_none=True)
    lastCheck = ma.fields.Nested(LastCheckSchema, attribute="last_check", allow_none=True)
    attempts = ma.fields.Integer()


class NewVerificationRequestSchema(VerificationRequestSchema):
    instructions = ma.fields.Constant(INSTRUCTIONS, metadata={"type": "array", "items": {"type": "string"}})


class EvidenceSchema(ma.Schema):
    excerpt = ma.fields.String()
    contentSha256 = ma.fields.String()
    bytes = ma.fields.Integer()
    contentType = ma.fields.String()


class AdminVerificationRequestSchema(VerificationRequestSchema):
    evidence = ma.fields.Nested(EvidenceSchema, allow_none=True)
    user = ma.fields.Nested(UserSchema)


class SubmitSchema(ma.Schema):
    claimCode = Trimmed(required=True, validate=ma.validate.Length(1, 40))
    targetUrl = HttpsUrl(required=True)
