"""`/tags`: graphite's tag API. Tagged series are not stored yet, so every lookup
answers an empty list, which Grafana's tag editor and template variables accept."""

from __future__ import annotations

from flask import Blueprint, Response, request

from render_web.params import RequestParams
from render_web.views.common import dumps, json_response

blueprint = Blueprint("tags", __name__)


@blueprint.route("/tags", methods=["GET", "POST"])
@blueprint.route("/tags/", methods=["GET", "POST"])
@blueprint.route("/tags/autoComplete/tags", methods=["GET", "POST"])
@blueprint.route("/tags/autoComplete/values", methods=["GET", "POST"])
@blueprint.route("/tags/findSeries", methods=["GET", "POST"])
def empty_list() -> Response:
    return json_response("[]", RequestParams(request))


@blueprint.route("/tags/<tag>", methods=["GET"])
def tag_values(tag: str) -> Response:
    return json_response(dumps({"tag": tag, "values": []}), RequestParams(request))
