"""`/render`: targets evaluated over a time window, answered in the requested format."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from flask import Blueprint, Response, g, request

from carbon_store.index import PatternTooComplex
from carbon_store.reader import ReadLimitError
from render_web.app import state
from render_web.attime import Window
from render_web.evaluator import LimitError
from render_web.formats import apply_max_data_points, to_csv, to_json, to_pickle, to_raw
from render_web.functions.registry import Context, InputError
from render_web.graphoptions import GraphOptions, parse_graph_options
from render_web.params import RequestParams
from render_web.series import TimeSeries
from render_web.settings import WebSettings
from render_web.views.common import json_response, request_window

blueprint = Blueprint("render", __name__)

FORMATS = ("png", "svg", "pdf", "json", "csv", "raw", "pickle")
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def request_format(params: RequestParams) -> str:
    fmt = params.get("format")
    if fmt is None:
        if params.flag("rawData"):
            return "raw"
        if params.flag("pickle"):
            return "pickle"
        return "png"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fmt


def targets_of(params: RequestParams) -> list[str]:
    return [t for t in params.getlist("target") + params.getlist("target[]") if t.strip()]


@blueprint.route("/render", methods=["GET", "POST"])
@blueprint.route("/render/", methods=["GET", "POST"])
def render() -> Response:
    params = RequestParams.of(request)
    fmt = request_format(params)
    series_list, window, options = evaluate_request(params, targets_of(params), fmt)
    response = answer(params, fmt, series_list, window, options)
    unreadable = g.get("unreadable")
    if unreadable:
        response.headers["X-Statsgraph-Warning"] = unreadable_text(unreadable)
    return response


def unreadable_text(unreadable: Mapping[str, str]) -> str:
    return "; ".join(f"cannot read metric {name!r} ({why})"
                     for name, why in sorted(unreadable.items()))


def answer(params: RequestParams, fmt: str, series_list: list[TimeSeries], window: Window,
           options: GraphOptions | None) -> Response:

    if fmt == "json":
        max_points = params.integer("maxDataPoints", None, low=1)
        if max_points is not None:
            series_list = apply_max_data_points(series_list, max_points)
        body = to_json(series_list, params.flag("noNullPoints"), params.flag("pretty"))
        return json_response(body, params, jsonp="format" in params)
    if fmt == "csv":
        return Response(to_csv(series_list, window.tz), mimetype="text/csv")
    if fmt == "raw":
        return Response(to_raw(series_list), mimetype="text/plain")
    if fmt == "pickle":
        return Response(to_pickle(series_list), mimetype="application/pickle")
    image = state().graphs.render(series_list, options, fmt, window.start, window.end,
                                  window.tz)
    if fmt == "svg" and params.get("jsonp"):
        from render_web.views.common import dumps
        return json_response(dumps(image.decode("utf-8")), params)
    return Response(image, mimetype=IMAGE_TYPES[fmt])


def read_request(params: RequestParams, fmt: str
                 ) -> tuple[Window, float, GraphOptions | None]:
    """The window, xFilesFactor and (for an image) options of `params`, every one
    checked: what a request must get right before anything is fetched."""
    web = state()
    window = request_window(params, web.settings.tz, web.clock())
    xff = params.number("xFilesFactor", 0.0)
    if not 0.0 <= xff <= 1.0:
        raise InputError("parameter 'xFilesFactor' must be between 0 and 1")
    options = graph_options(params, web.settings) if fmt in IMAGE_TYPES else None
    return window, xff, options


def evaluate_request(params: RequestParams, targets: Sequence[str], fmt: str
                     ) -> tuple[list[TimeSeries], Window, GraphOptions | None]:
    """The series of `targets` over the window `params` names, with `read_request`'s
    window and options."""
    web = state()
    limit = web.settings.max_target_length
    for target in targets:
        if len(target) > limit:
            raise LimitError(f"a target may have at most {limit} characters "
                             f"(max_target_length); this one has {len(target)}")
    window, xff, options = read_request(params, fmt)
    context = Context(window.start, window.end, window.now, window.tz, xff)
    templates = {key[len("template["):-1]: value for key, value in params.single().items()
                 if key.startswith("template[") and key.endswith("]")}
    reader_scope = getattr(web.reader, "scope", None)
    scope = (reader_scope(web.settings.max_series, web.settings.max_points)
             if reader_scope is not None else contextlib.nullcontext())
    with scope as reads:
        try:
            series_list = web.evaluator.evaluate_targets(list(targets), context, templates)
        except ReadLimitError as exc:
            raise LimitError(str(exc)) from None
        except PatternTooComplex as exc:
            raise InputError(str(exc)) from None
    unreadable = reads.unreadable if reads is not None else {}
    if unreadable and not series_list:
        # Nothing to draw, and the reason is files that could not be read: say which.
        raise InputError(unreadable_text(unreadable))
    g.unreadable = unreadable
    if xff:
        for series in series_list:
            series.x_files_factor = xff
    return series_list, window, options


def render_graph(params: RequestParams, targets: Sequence[str], fmt: str = "png") -> bytes:
    """`targets` drawn as /render would draw them with `params`: the saved-graph image
    shares this so both answer the same picture."""
    if fmt not in IMAGE_TYPES:
        raise InputError(f"format: cannot draw an image as {fmt!r}")
    series_list, window, options = evaluate_request(params, targets, fmt)
    return state().graphs.render(series_list, options, fmt, window.start, window.end,
                                 window.tz)


def graph_options(params: RequestParams, settings: WebSettings) -> GraphOptions:
    """The image options of `params`, refused past the configured largest image."""
    options = parse_graph_options(params.single())
    if options.width > settings.max_width or options.height > settings.max_height:
        raise LimitError(f"an image may be at most {settings.max_width}x"
                         f"{settings.max_height} pixels (max_width, max_height); "
                         f"asked for {options.width}x{options.height}")
    return options
