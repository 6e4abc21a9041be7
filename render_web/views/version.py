"""`/version`: the graphite-web version whose API this renderer speaks. Grafana reads it
to turn on what 1.1 offers (the /functions list, tags)."""

from __future__ import annotations

from flask import Blueprint, Response

blueprint = Blueprint("version", __name__)
GRAPHITE_API_VERSION = "1.1.10"


@blueprint.route("/version", methods=["GET"])
@blueprint.route("/version/", methods=["GET"])
def version() -> Response:
    return Response(GRAPHITE_API_VERSION, mimetype="text/plain")
