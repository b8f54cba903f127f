import hmac

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, request

from seda.common import ratelimit
from seda.common.admission import admission
from seda.common.api import Blueprint
from seda.common.errors import Unauthorized, iso_now
from seda.common.metrics import render_metrics
from seda.extensions import db
from seda.health.schemas import HealthSchema, LivenessSchema
from seda.health.services import health_report

bp = Blueprint("health", __name__, description="Liveness and readiness of this process")


@bp.route("/health")
@ratelimit.exempt
@bp.response(200, HealthSchema)
@bp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
def health():
    """Report the database, Redis and Celery worker checks, and this process's turns: `degraded`
    while a request or socket event has waited more than 5 s for one."""
    config = current_app.config
    report = health_report(current_app.extensions["celery"], config["REDIS_URL"], config["VERSION"], admission())
    report["timestamp"] = iso_now()
    return report, (503 if report["status"] == "unhealthy" else 200)


@bp.route("/health/live")
@ratelimit.exempt
@bp.response(200, LivenessSchema)
def live():
    """Answer without touching any dependency."""
    return {"status": "ok"}


ops_bp = FlaskBlueprint("ops", __name__)


@ops_bp.route("/metrics")
@ratelimit.exempt
def prometheus_metrics():
    """Prometheus text format; guarded by METRICS_TOKEN when it is set."""
    token = current_app.config["METRICS_TOKEN"]
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        raise Unauthorized("Missing authentication token")
    body, content_type = render_metrics(db.engine.pool)
    return Response(body, content_type=content_type)
