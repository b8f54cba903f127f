"""Swagger UI at /api/docs, its assets served by the app itself so the page renders offline."""

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, render_template, send_from_directory, url_for

from seda.common import ratelimit

SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).parent / "dist"

bp = Blueprint("docs", __name__, template_folder="templates")


@bp.route("/api/docs")
@bp.route("/api/docs/")
@ratelimit.exempt
def swagger_ui():
    return render_template(
        "seda_swagger_ui.html",
        spec_url=url_for("api-docs.openapi_json"),
        asset_base="/api/docs/assets",
    )


@bp.route("/api/docs/assets/<path:filename>")
@ratelimit.exempt
def swagger_ui_asset(filename):
    return send_from_directory(SWAGGER_UI_DIST, filename, max_age=86400)
