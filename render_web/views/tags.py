"""`/tags`: graphite's tag API over the store's tag index (Grafana's tag editor and its
`tags()`/`tag_values()` template variables)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, request

from carbon_store.tagindex import TagIndex
from render_web.app import state
from render_web.functions.registry import InputError
from render_web.params import RequestParams
from render_web.views.common import dumps, json_response

blueprint = Blueprint("tags", __name__)
T = TypeVar("T")


def _index() -> TagIndex | None:
    return state().tags


def _exprs(params: RequestParams) -> list[str]:
    """`expr` repeated, or the `expr[]` form some clients send."""
    return params.getlist("expr") or params.getlist("expr[]")


def _answer(value: object, params: RequestParams) -> Response:
    return json_response(dumps(value), params)


def _query(run: Callable[[], T]) -> T:
    try:
        return run()
    except ValueError as exc:  # a bad tag expression, regex or limit
        raise InputError(str(exc)) from None


@blueprint.route("/tags", methods=["GET"])
@blueprint.route("/tags/", methods=["GET"])
def tag_list() -> Response:
    params = RequestParams.of(request)
    index = _index()
    tags = [] if index is None else _query(
        lambda: index.list_tags(params.get("filter"), params.get("limit")))
    return _answer([{"tag": tag} for tag in tags], params)


@blueprint.route("/tags/findSeries", methods=["GET", "POST"])
def find_series() -> Response:
    params = RequestParams.of(request)
    exprs = _exprs(params)
    if not exprs:
        raise InputError("no tag expressions specified")
    index = _index()
    names = [] if index is None else _query(lambda: index.find_series(exprs))
    return _answer(names, params)


@blueprint.route("/tags/autoComplete/tags", methods=["GET", "POST"])
def auto_complete_tags() -> Response:
    params = RequestParams.of(request)
    index = _index()
    tags = [] if index is None else _query(lambda: index.auto_complete_tags(
        _exprs(params), params.get("tagPrefix"), params.get("limit")))
    return _answer(tags, params)


@blueprint.route("/tags/autoComplete/values", methods=["GET", "POST"])
def auto_complete_values() -> Response:
    params = RequestParams.of(request)
    tag = params.get("tag")
    if not tag:
        raise InputError("no tag specified")
    index = _index()
    values = [] if index is None else _query(lambda: index.auto_complete_values(
        _exprs(params), tag, params.get("valuePrefix"), params.get("limit")))
    return _answer(values, params)


@blueprint.route("/tags/<tag>", methods=["GET"])
def tag_details(tag: str) -> Response:
    """graphite answers null for an unknown tag."""
    params = RequestParams.of(request)
    index = _index()
    values = [] if index is None else _query(
        lambda: index.list_values(tag, params.get("filter"), params.get("limit")))
    if not values:
        return _answer(None, params)
    return _answer({"tag": tag, "values": [{"value": v, "count": n} for v, n in values]},
                   params)
