"""Admin REST routes: each one is for ADMIN/SUPER_ADMIN users or the admin API key."""

from seda.admin import services
from seda.admin.schemas import (
    ActionListQuerySchema,
    AdminActionSchema,
    AdminReportSchema,
    AdminStatsSchema,
    ApproveSchema,
    BanUserSchema,
    CrawlJobSchema,
    CrawlRequestSchema,
    DenySchema,
    QueuedCrawlSchema,
    ReportListQuerySchema,
    ResolveReportSchema,
    SetRoleSchema,
    UserListQuerySchema,
    VerificationListQuerySchema,
    VerificationStatsSchema,
)
from seda.auth import two_factor
from seda.chat import moderation
from seda.common.api import Blueprint
from seda.common.auth import admin_required, current_actor
from seda.common.pagination import PAGE_HEADERS_DOC, paged
from seda.common.schemas import PageQuerySchema
from seda.users import services as users
from seda.users.schemas import AdminUserSchema
from seda.verification import review as verification
from seda.verification.schemas import AdminVerificationRequestSchema

bp = Blueprint("admin", __name__, url_prefix="/admin", description="Admin: review, users, moderation, audit")


# -- verification review ----------------------------------------------------------------------


@bp.route("/verification/pending")
@admin_required
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, AdminVerificationRequestSchema(many=True), headers=PAGE_HEADERS_DOC)
def pending(query):
    """Requests awaiting review, oldest first, with evidence and user."""
    return paged(verification.admin_pending(query["limit"], query.get("cursor")), query["limit"])


@bp.route("/verification")
@admin_required
@bp.arguments(VerificationListQuerySchema, location="query")
@bp.response(200, AdminVerificationRequestSchema(many=True), headers=PAGE_HEADERS_DOC)
def list_verifications(query):
    """All requests, newest first, by status or user."""
    return paged(
        verification.admin_list(query["limit"], query.get("cursor"), query.get("status"), query.get("userId")),
        query["limit"],
    )


@bp.route("/verification/stats/overview")
@admin_required
@bp.response(200, VerificationStatsSchema)
def verification_stats():
    """Counts by status, approvals of the last 7 days, median review time."""
    return verification.stats_overview()


@bp.route("/verification/<request_id>")
@admin_required
@bp.response(200, AdminVerificationRequestSchema)
def get_verification(request_id):
    """One request with evidence and user."""
    return verification.admin_get(request_id)


@bp.route("/verification/<request_id>/approve", methods=["PATCH"])
@admin_required
@bp.arguments(ApproveSchema)
@bp.response(200, AdminVerificationRequestSchema)
@bp.alt_response(409, description="Not AWAITING_ADMIN (or PENDING with override)")
@bp.alt_response(410, description="PENDING past its expiry (before the sweep marks it EXPIRED)")
def approve(body, request_id):
    """Approve: the user becomes a verified ARTIST."""
    return verification.approve(current_actor(), request_id, body.get("notes"), body["override"])


@bp.route("/verification/<request_id>/deny", methods=["PATCH"])
@admin_required
@bp.arguments(DenySchema)
@bp.response(200, AdminVerificationRequestSchema)
@bp.alt_response(409, description="Already APPROVED, DENIED or EXPIRED")
def deny(body, request_id):
    """Deny with a reason the artist will see."""
    return verification.deny(current_actor(), request_id, body["reason"])


@bp.route("/verification/<request_id>/crawl", methods=["POST"])
@admin_required
@bp.response(202, AdminVerificationRequestSchema)
def recrawl(request_id):
    """Queue a fresh check of the request's page."""
    return verification.recrawl(current_actor(), request_id)


# -- ad-hoc crawls ----------------------------------------------------------------------------


@bp.route("/crawl", methods=["POST"])
@admin_required
@bp.arguments(CrawlRequestSchema)
@bp.response(202, QueuedCrawlSchema)
def create_crawl(body):
    """Fetch a URL through the safe fetcher in the background."""
    return services.create_crawl(current_actor(), body["url"], body.get("expectCode"))


@bp.route("/crawl/<job_id>")
@admin_required
@bp.response(200, CrawlJobSchema)
def get_crawl(job_id):
    """A crawl job and, once done, what came back."""
    return services.get_crawl(job_id)


# -- users ------------------------------------------------------------------------------------


@bp.route("/users")
@admin_required
@bp.arguments(UserListQuerySchema, location="query")
@bp.response(200, AdminUserSchema(many=True), headers=PAGE_HEADERS_DOC)
def list_users(query):
    """Users by email or name, role and ban state, newest first."""
    return paged(
        users.admin_list_users(
            query["limit"], query.get("cursor"), query.get("q"), query.get("role"), query.get("banned")
        ),
        query["limit"],
    )


@bp.route("/users/<user_id>", methods=["PATCH"])
@admin_required
@bp.arguments(SetRoleSchema)
@bp.response(200, AdminUserSchema)
def set_role(body, user_id):
    """Change a user's role (admin roles: SUPER_ADMIN only; never your own)."""
    return users.set_role(current_actor(), user_id, body["role"])


@bp.route("/users/<user_id>/ban", methods=["POST"])
@admin_required
@bp.arguments(BanUserSchema)
@bp.response(200, AdminUserSchema)
def ban_user(body, user_id):
    """Suspend an account: tokens refused, sockets disconnected on every process."""
    return users.ban_user(current_actor(), user_id, body["reason"])


@bp.route("/users/<user_id>/2fa", methods=["DELETE"])
@admin_required
@bp.response(204)
@bp.alt_response(409, description="Two-factor authentication is not enabled")
def reset_two_factor(user_id):
    """Turn off the two-factor of a user who lost phone and recovery codes (audited; the user
    is mailed)."""
    two_factor.reset_by_admin(current_actor(), user_id)


@bp.route("/users/<user_id>/unban", methods=["POST"])
@admin_required
@bp.response(200, AdminUserSchema)
def unban_user(user_id):
    """Lift a suspension."""
    return users.unban_user(current_actor(), user_id)


# -- moderation -------------------------------------------------------------------------------


@bp.route("/reports")
@admin_required
@bp.arguments(ReportListQuerySchema, location="query")
@bp.response(200, AdminReportSchema(many=True), headers=PAGE_HEADERS_DOC)
def list_reports(query):
    """Message reports, newest first."""
    return paged(moderation.list_reports(query["limit"], query.get("cursor"), query.get("status")), query["limit"])


@bp.route("/reports/<report_id>/resolve", methods=["POST"])
@admin_required
@bp.arguments(ResolveReportSchema)
@bp.response(200, AdminReportSchema)
@bp.alt_response(409, description="Already resolved")
def resolve_report(body, report_id):
    """Dismiss a report or delete the reported message."""
    return moderation.resolve_report(current_actor(), report_id, body["action"], body.get("notes"))


@bp.route("/messages/<message_id>", methods=["DELETE"])
@admin_required
@bp.response(204)
def delete_message(message_id):
    """Soft-delete any message; the room hears message_deleted."""
    moderation.admin_delete_message(current_actor(), message_id)


# -- audit and stats --------------------------------------------------------------------------


@bp.route("/actions")
@admin_required
@bp.arguments(ActionListQuerySchema, location="query")
@bp.response(200, AdminActionSchema(many=True), headers=PAGE_HEADERS_DOC)
def list_actions(query):
    """The audit log, newest first."""
    return paged(
        services.list_actions(
            query["limit"], query.get("cursor"), query.get("adminId"), query.get("action"), query.get("targetId")
        ),
        query["limit"],
    )


@bp.route("/stats")
@admin_required
@bp.response(200, AdminStatsSchema)
def stats():
    """Users, rooms, messages and verifications in numbers."""
    return services.platform_stats()
