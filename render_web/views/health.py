"""`/health`: whether this renderer can serve, and whether the store it reads from
answers, for load balancers and `statsgraph run`'s operators. 200 when all is well,
503 (with the same JSON) when something is not."""

from __future__ import annotations

import os

from flask import Blueprint, Response

from carbon_store.reader import CarbonLinkClient
from render_web.app import state
from render_web.views.common import dumps

blueprint = Blueprint("health", __name__)


def cache_answers(address: tuple[str, int]) -> bool:
    """Ask the cache a real question on a connection of its own (a failure here must
    not mark the serving threads' clients as down)."""
    client = CarbonLinkClient(*address, timeout=1.0, retry_delay=0.0)
    try:
        reply = client.request({"type": "cache-query", "metric": "statsgraph.health"})
    finally:
        client.close()
    return isinstance(reply, dict) and "datapoints" in reply


@blueprint.route("/health", methods=["GET"])
def health() -> Response:
    settings = state().settings
    storage = settings.storage
    readable = os.path.isdir(storage) and os.access(storage, os.R_OK | os.X_OK)
    report: dict[str, object] = {"storage": {"path": os.path.abspath(storage),
                                             "readable": readable}}
    healthy = readable
    if settings.cache_query is not None:
        host, port = settings.cache_query
        answering = cache_answers(settings.cache_query)
        report["cache_query"] = {"address": f"{host}:{port}", "answering": answering}
        healthy = healthy and answering
    else:
        report["cache_query"] = None
    report["status"] = "ok" if healthy else "degraded"
    return Response(dumps(report), 200 if healthy else 503, mimetype="application/json")
