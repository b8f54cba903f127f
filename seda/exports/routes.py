from flask import send_file

from seda.common.api import Blueprint
from seda.common.auth import current_user, login_required
from seda.exports import services
from seda.exports.schemas import ExportSchema

bp = Blueprint("exports", __name__, url_prefix="/users/me/exports", description="My data, to take with me")


@bp.route("", methods=["POST"])
@login_required
@bp.response(202, ExportSchema)
@bp.alt_response(429, description="One export per day (a failed one does not count), with Retry-After")
def request_export():
    """Ask for a zip of my data: built in the background; `export_updated` and a mail say when
    it is READY."""
    return services.request_export(current_user())


@bp.route("")
@login_required
@bp.response(200, ExportSchema(many=True))
def list_exports():
    """My exports, newest first."""
    return services.exports_of(current_user())


@bp.route("/<export_id>")
@login_required
@bp.response(200, ExportSchema)
@bp.alt_response(404, description="Export not found (or not mine)")
def get_export(export_id):
    """One of my exports."""
    return services.export_of(current_user(), export_id)


@bp.route("/<export_id>/download")
@login_required
@bp.response(200, description="application/zip: manifest.json and one JSON file per kind of data")
@bp.alt_response(404, description="Export not found (or not mine)")
@bp.alt_response(409, description="Export is not ready")
@bp.alt_response(410, description="Export expired")
def download_export(export_id):
    """The zip of a READY export (with the Authorization header, like every route)."""
    path, name = services.download(current_user(), export_id)
    response = send_file(path, mimetype="application/zip", max_age=0)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
