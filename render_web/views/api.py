"""`/api/graphs` and `/api/dashboards`: saved graphs and dashboards as JSON, for the
composer's pages and for scripts.

Writes are guarded against cross-site requests without a token: each must be sent as
`application/json` (a cross-site form cannot send that type, and a cross-site `fetch`
needs a CORS preflight, which is never granted) and, when the browser names an
`Origin`, from this very origin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, jsonify, request, url_for
from werkzeug.exceptions import Forbidden

from render_web.app import state
from render_web.attime import time_window
from render_web.functions.registry import InputError
from render_web.grammar import parse_target
from render_web.graphstore import Record, check_dashboard, check_graph
from render_web.params import RequestParams
from render_web.views.common import no_cache
from render_web.views.render import read_request

blueprint = Blueprint("api", __name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY = 1024 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}


# -- the cross-site request check ---------------------------------------------------------


def origin_key(url: str) -> tuple[str, str, int | None] | None:
    """scheme, host and port of an origin, with the default port filled in, so
    `http://Host:80` and `http://host` compare equal; None if it is no origin."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS.get(scheme)


@blueprint.before_request
def refuse_cross_site() -> None:
    request.max_content_length = MAX_BODY
    if request.method in SAFE_METHODS:
        return
    if request.mimetype != "application/json":
        raise Forbidden("state-changing requests must be sent as application/json")
    origin = request.headers.get("Origin")
    if origin is not None:
        own = origin_key(f"{request.scheme}://{request.host}")
        if origin_key(origin) is None or origin_key(origin) != own:
            raise Forbidden(f"cross-origin request refused (Origin {origin!r} is not "
                            f"{request.scheme}://{request.host})")


@blueprint.after_request
def fresh(response: Response) -> Response:
    return no_cache(response)


# -- what a saved body means --------------------------------------------------------------


def _check_targets(targets: list[str], field: str) -> None:
    for i, target in enumerate(targets):
        try:
            parse_target(target)
        except InputError as exc:
            raise InputError(f"{field}[{i}]: {exc}") from None


def _check_params(params: dict[str, str], field: str) -> None:
    """The saved parameters must make a drawable request, or the graph could never be
    shown; checked the way /render reads them."""
    try:
        read_request(RequestParams(params), "png")
    except InputError as exc:
        raise InputError(f"{field}: {exc}") from None


def check_graph_meaning(graph: Record, prefix: str = "") -> None:
    _check_targets(graph["targets"], f"{prefix}targets")
    _check_params(graph["params"], f"{prefix}params")


def check_dashboard_meaning(dashboard: Record) -> None:
    web = state()
    try:
        time_window(dashboard["from"], dashboard["until"], None, web.settings.tz, web.clock())
    except InputError as exc:
        raise InputError(f"from/until: {exc}") from None
    for i, panel in enumerate(dashboard["panels"]):
        if "targets" in panel:
            check_graph_meaning(panel, f"panels[{i}].")


CHECKS = {"graphs": (check_graph, check_graph_meaning),
          "dashboards": (check_dashboard, check_dashboard_meaning)}


# -- answers ------------------------------------------------------------------------------


def page_path(kind: str, name: str) -> str:
    """The page of a saved object, under the app's prefix (names are one path segment,
    percent-encoded entirely so nothing in them is read as URL syntax)."""
    return f"{request.script_root}{state().settings.url_prefix}/{kind}/{quote(name, safe='')}"


def decorated(kind: str, record: Record) -> Record:
    """A record with the links a client needs."""
    links: dict[str, Any] = {"url": page_path(kind, record["name"])}
    if kind == "graphs":
        links["image"] = page_path(kind, record["name"]) + ".png"
    return {**record, **links}


def _body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise InputError("body: must be a JSON object")
    return body


KIND = "<any(graphs, dashboards):kind>"


@blueprint.get(f"/api/{KIND}")
def list_all(kind: str) -> Response:
    return jsonify([decorated(kind, r) for r in state().store.list_all(kind)])


@blueprint.get(f"/api/{KIND}/<name>")
def get_one(kind: str, name: str) -> Response:
    return jsonify(decorated(kind, state().store.get(kind, name)))


@blueprint.put(f"/api/{KIND}/<name>")
def put_one(kind: str, name: str) -> Response:
    """Create (201) or replace (200): the body is checked for shape, then for meaning
    (targets parse, parameters make a drawable request) before anything is written."""
    check_shape, check_meaning = CHECKS[kind]
    body = check_shape(_body())
    check_meaning(body)
    record, created = state().store.put(kind, name, body)
    response = jsonify(decorated(kind, record))
    if created:
        response.status_code = 201
        response.headers["Location"] = url_for("api.get_one", kind=kind, name=name)
    return response


@blueprint.delete(f"/api/{KIND}/<name>")
def delete_one(kind: str, name: str) -> Response:
    state().store.delete(kind, name)
    return Response(status=204)


@blueprint.post(f"/api/{KIND}/<name>/rename")
def rename_one(kind: str, name: str) -> Response:
    body = _body()
    if not isinstance(body, dict):
        raise InputError("body: must be a JSON object")
    unknown = sorted(set(body) - {"name"})
    if unknown:
        raise InputError(f"body: unknown field {unknown[0]!r}")
    if body.get("name") is None:
        raise InputError("name: required (the new name)")
    return jsonify(decorated(kind, state().store.rename(kind, name, body["name"])))
