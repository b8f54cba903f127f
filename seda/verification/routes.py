from seda.common.api import Blueprint
from seda.common.auth import current_user, login_required
from seda.verification import claims
from seda.verification.schemas import (
    NewVerificationRequestSchema,
    SubmitSchema,
    VerificationRequestSchema,
)

bp = Blueprint(
    "verification", __name__, url_prefix="/artist/verification", description="Artist verification by claim code"
)


@bp.route("/request", methods=["POST"])
@login_required
@bp.response(201, NewVerificationRequestSchema)
@bp.alt_response(403, description="Verify your email first")
@bp.alt_response(409, description="An open request exists, or the profile is already verified")
@bp.alt_response(429, description="3 requests per rolling 24 hours")
def request_code():
    """Get a claim code to put on a page you control."""
    return claims.request_code(current_user())


@bp.route("/submit", methods=["POST"])
@login_required
@bp.arguments(SubmitSchema)
@bp.response(202, VerificationRequestSchema)
@bp.alt_response(404, description="Unknown claim code, or someone else's")
@bp.alt_response(409, description="The request is APPROVED, DENIED or EXPIRED")
@bp.alt_response(410, description="The claim code expired")
def submit(body):
    """Submit the https URL of the page carrying your code; a check is queued."""
    return claims.submit(current_user(), body["claimCode"], body["targetUrl"])


@bp.route("/status/<request_id>")
@login_required
@bp.response(200, VerificationRequestSchema)
def status(request_id):
    """One of your verification requests."""
    return claims.get_own(current_user(), request_id)


@bp.route("/my-requests")
@login_required
@bp.response(200, VerificationRequestSchema(many=True))
def my_requests():
    """Your verification requests, newest first."""
    return claims.list_own(current_user())
