"""The HTML pages: the composer, saved graphs' permalinks and dashboards.

The pages are thin server-rendered shells: the saved object a page shows is read here
(so a missing one is a real 404 and every name goes through Jinja's autoescaping), and
the JavaScript in static/ does the rest through /metrics/find, /functions, /render and
the JSON API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, url_for

from render_web.app import state
from render_web.graphstore import NotFoundError

blueprint = Blueprint("pages", __name__)

TIME_PRESETS = (("5m", "-5min"), ("15m", "-15min"), ("1h", "-1h"), ("3h", "-3h"),
                ("6h", "-6h"), ("12h", "-12h"), ("1d", "-1d"), ("2d", "-2d"),
                ("7d", "-7d"), ("30d", "-30d"))
PERMALINK_SIZE = (800, 400)


def _prefix() -> str:
    """Where the app lives, for the scripts (they build API paths from it)."""
    return request.script_root + state().settings.url_prefix


def _page(template: str, status: int = 200, **context: Any) -> Response:
    html = render_template(template, prefix=_prefix(), presets=TIME_PRESETS, **context)
    return Response(html, status, mimetype="text/html")


def _saved(kind: str, name: str) -> dict[str, Any] | None:
    try:
        return state().store.get(kind, name)
    except NotFoundError:
        return None


def _not_found(kind: str, name: str, back_url: str, back_label: str) -> Response:
    return _page("error.html", 404, nav="", heading=f"No such {kind}",
                 message=f"There is no saved {kind} named \u201c{name}\u201d.",
                 back_url=back_url, back_label=back_label)


@blueprint.route("/", methods=["GET"])
def composer() -> Response:
    name = request.args.get("graph")
    if name is None:
        return _page("composer.html", nav="composer", initial_graph=None, notice=None)
    graph = _saved("graphs", name)
    if graph is None:
        return _page("composer.html", 404, nav="composer", initial_graph=None,
                     notice=f"There is no saved graph named \u201c{name}\u201d.")
    return _page("composer.html", nav="composer", initial_graph=graph, notice=None)


@blueprint.route("/graphs/<name>", methods=["GET"])
def graph(name: str) -> Response:
    saved = _saved("graphs", name)
    if saved is None:
        return _not_found("graph", name, url_for("pages.composer"), "Back to the composer")
    width, height = PERMALINK_SIZE
    image = url_for("pages.graph", name=name) + ".png"
    sized = f"{image}?{urlencode({'width': width, 'height': height})}"
    return _page("graph.html", nav="", graph=saved, width=width, height=height,
                 image_url=sized,
                 embed_url=url_for("pages.graph", name=name, _external=True) + ".png",
                 composer_url=url_for("pages.composer", graph=name))


@blueprint.route("/dashboards", methods=["GET"])
def dashboards() -> Response:
    return _page("dashboards.html", nav="dashboards",
                 dashboards=state().store.list_all("dashboards"))


@blueprint.route("/dashboards/<name>", methods=["GET"])
def dashboard(name: str) -> Response:
    saved = _saved("dashboards", name)
    if saved is None:
        return _not_found("dashboard", name, url_for("pages.dashboards"),
                          "All dashboards")
    return _page("dashboard.html", nav="dashboards", dashboard=saved)
