"""`/graphs/<name>.png`: a saved graph as an image, for embedding (a wiki, a chat).

The saved parameters are the defaults; the query string overrides any of them
(`from`, `until`, `width`, `height`, or any other /render option), but never the targets
or the format: the URL names one saved graph as a PNG.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from render_web.app import state
from render_web.graphstore import NOT_PARAMS
from render_web.params import RequestParams
from render_web.views.common import no_cache
from render_web.views.render import render_graph

blueprint = Blueprint("images", __name__)


def merged_params(saved: dict[str, str], query: MultiDict[str, str]) -> MultiDict[str, str]:
    """`saved` with each parameter the query gives replaced by the query's values."""
    merged: MultiDict[str, str] = MultiDict(saved)
    for key, values in query.lists():
        if key not in NOT_PARAMS:
            merged.setlist(key, values)
    return merged


@blueprint.get("/graphs/<name>.png")
def graph_image(name: str) -> Response:
    graph = state().store.get("graphs", name)
    params = RequestParams(merged_params(graph["params"], request.args))
    image = render_graph(params, graph["targets"], "png")
    return no_cache(Response(image, mimetype="image/png"))
