import marshmallow as ma

from seda.admin.models import CrawlStatus
from seda.chat.models import ReportStatus
from seda.chat.schemas import MessageSchema
from seda.common.schemas import JsonBoolean, PageQuerySchema, Timestamp, Trimmed
from seda.users.models import Role
from seda.users.schemas import UserRefSchema
from seda.verification.models import VerificationStatus

Length, OneOf = ma.validate.Length, ma.validate.OneOf


class VerificationListQuerySchema(PageQuerySchema):
    status = ma.fields.String(validate=OneOf([s.value for s in VerificationStatus]))
    userId = ma.fields.UUID()


class ApproveSchema(ma.Schema):
    notes = Trimmed(validate=Length(max=500), allow_none=True)
    override = JsonBoolean(load_default=False)


class DenySchema(ma.Schema):
    reason = Trimmed(required=True, validate=Length(1, 500))


class VerificationStatsSchema(ma.Schema):
    total = ma.fields.Integer()
    byStatus = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    approvedLast7Days = ma.fields.Integer()
    medianReviewHours = ma.fields.Float(allow_none=True)


class CrawlRequestSchema(ma.Schema):
    url = Trimmed(required=True, validate=[Length(max=2048), ma.validate.URL(schemes={"http", "https"})])
    expectCode = Trimmed(validate=Length(1, 64))


class CrawlResultSchema(ma.Schema):
    httpStatus = ma.fields.Integer(allow_none=True)
    finalUrl = ma.fields.String(allow_none=True)
    contentType = ma.fields.String(allow_none=True)
    bytes = ma.fields.Integer(allow_none=True)
    title = ma.fields.String(allow_none=True)
    codeFound = ma.fields.Boolean(allow_none=True)
    error = ma.fields.String(allow_none=True)


class CrawlJobSchema(ma.Schema):
    jobId = ma.fields.UUID(attribute="id")
    status = ma.fields.Enum(CrawlStatus)
    result = ma.fields.Nested(CrawlResultSchema, allow_none=True)


class QueuedCrawlSchema(ma.Schema):
    jobId = ma.fields.UUID(attribute="id")
    status = ma.fields.Enum(CrawlStatus)


class UserListQuerySchema(PageQuerySchema):
    q = Trimmed(validate=Length(1, 100))
    role = ma.fields.String(validate=OneOf([r.value for r in Role]))
    banned = ma.fields.Boolean()


class SetRoleSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=OneOf([r.value for r in Role]))


class BanUserSchema(ma.Schema):
    reason = Trimmed(required=True, validate=Length(1, 500))


class ReportListQuerySchema(PageQuerySchema):
    status = ma.fields.String(validate=OneOf([s.value for s in ReportStatus]))


class AdminReportSchema(ma.Schema):
    id = ma.fields.UUID()
    status = ma.fields.Enum(ReportStatus)
    reason = ma.fields.String()
    reporter = ma.fields.Nested(UserRefSchema)
    message = ma.fields.Nested(MessageSchema)
    createdAt = Timestamp(attribute="created_at")
    resolvedAt = Timestamp(attribute="resolved_at", allow_none=True)
    resolution = ma.fields.String(allow_none=True)


class ResolveReportSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=OneOf(["DISMISS", "DELETE_MESSAGE"]))
    notes = Trimmed(validate=Length(max=500), allow_none=True)


class ActionListQuerySchema(PageQuerySchema):
    adminId = ma.fields.UUID()
    action = Trimmed(validate=Length(1, 64))
    targetId = Trimmed(validate=Length(1, 64))


class AdminActionSchema(ma.Schema):
    id = ma.fields.UUID()
    adminId = ma.fields.UUID(attribute="admin_id", allow_none=True)
    actor = ma.fields.String()
    action = ma.fields.String()
    targetType = ma.fields.String(attribute="target_type")
    targetId = ma.fields.String(attribute="target_id", allow_none=True)
    details = ma.fields.Dict(allow_none=True)
    ipAddress = ma.fields.String(attribute="ip_address", allow_none=True)
    userAgent = ma.fields.String(attribute="user_agent", allow_none=True)
    createdAt = Timestamp(attribute="created_at")


class UserStatsSchema(ma.Schema):
    total = ma.fields.Integer()
    byRole = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    banned = ma.fields.Integer()


class MessageStatsSchema(ma.Schema):
    total = ma.fields.Integer()
    last24h = ma.fields.Integer()


class VerificationCountsSchema(ma.Schema):
    byStatus = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class AdminStatsSchema(ma.Schema):
    users = ma.fields.Nested(UserStatsSchema)
    rooms = ma.fields.Integer()
    messages = ma.fields.Nested(MessageStatsSchema)
    verifications = ma.fields.Nested(VerificationCountsSchema)
