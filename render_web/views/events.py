"""`/events/get_data`: graphite's annotation events. No event store exists yet, so the
answer is an empty list (the shape Grafana's annotation query reads)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from render_web.params import RequestParams
from render_web.views.common import json_response

blueprint = Blueprint("events", __name__)


@blueprint.route("/events/get_data", methods=["GET", "POST"])
def get_data() -> Response:
    return json_response("[]", RequestParams(request))
