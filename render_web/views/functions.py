"""`/functions`: every series function with its parameters, as Grafana reads them."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, request

from render_web.app import state
from render_web.params import RequestParams
from render_web.views.common import dumps, json_response

blueprint = Blueprint("functions", __name__)
INFINITY = "__statsgraph_infinity__"


def _finite(value: Any) -> Any:
    """Infinite defaults as 1e9999: a bare `Infinity` is not JSON (graphite-web 1.1.7
    sent one, and Grafana had to patch around it)."""
    if isinstance(value, float) and math.isinf(value):
        return INFINITY if value > 0 else "-" + INFINITY
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json(value: Any) -> str:
    text = dumps(_finite(value))
    return text.replace(f'"-{INFINITY}"', "-1e9999").replace(f'"{INFINITY}"', "1e9999")


@blueprint.route("/functions", methods=["GET", "POST"])
@blueprint.route("/functions/", methods=["GET", "POST"])
def functions() -> Response:
    params = RequestParams.of(request)
    metadata = state().registry.metadata(grouped=params.flag("grouped"))
    return json_response(_json(metadata), params)


@blueprint.route("/functions/<name>", methods=["GET", "POST"])
def function(name: str) -> Response:
    params = RequestParams.of(request)
    spec = state().registry.get(name)
    if spec is None:
        return json_response(dumps({"error": f"unknown function {name!r}"}), params, 404)
    entry = spec.metadata()
    entry["name"] = name
    return json_response(_json(entry), params)
