"""The API's documents: the OpenAPI document at /api/docs/openapi.json and Swagger UI at /api/docs
(its assets served by the app itself so the page renders offline); the AsyncAPI document of the
Socket.IO namespace at /api/docs/asyncapi.json and a page of its events at /api/docs/events."""

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, current_app, render_template, send_from_directory, url_for

from seda.common import ratelimit
from seda.common.api import api
from seda.docs.asyncapi import asyncapi_document
from seda.docs.openapi import openapi_document

SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).parent / "dist"

bp = Blueprint("docs", __name__, template_folder="templates")


@bp.route("/api/docs")
@bp.route("/api/docs/")
@ratelimit.exempt
def swagger_ui():
    return render_template(
        "seda_swagger_ui.html",
        spec_url=url_for("docs.openapi_json"),
        asset_base="/api/docs/assets",
    )


@bp.route("/api/docs/assets/<path:filename>")
@ratelimit.exempt
def swagger_ui_asset(filename):
    return send_from_directory(SWAGGER_UI_DIST, filename, max_age=86400)


@bp.route("/api/docs/openapi.json")
def openapi_json():
    """The OpenAPI 3 document of every REST route."""
    return current_app.response_class(
        current_app.json.dumps(openapi_document(api), indent=2, sort_keys=False), mimetype="application/json"
    )


@bp.route("/api/docs/asyncapi.json")
def asyncapi_json():
    """The AsyncAPI 3 document of the /chat Socket.IO namespace."""
    return current_app.response_class(
        current_app.json.dumps(asyncapi_document(), indent=2, sort_keys=False), mimetype="application/json"
    )


@bp.route("/api/docs/events")
@ratelimit.exempt
def events_page():
    """The Socket.IO events, rendered from the AsyncAPI document."""
    return render_template("seda_events.html", document=asyncapi_document())
