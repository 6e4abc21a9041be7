"""graphite-web's "Graph" functions: they change how series are drawn (colour, width,
dashes, axis, stacking) by setting `series.options`, which only the image renderer reads.

Names and tags follow graphite-web 1.1.10: some of these rename their series
(`secondYAxis(x)`, `dashed(x, 5)`, `drawAsInfinite(x)`, `stacked(x)`) and record the
change in a tag, leaving the `name` tag and the path expression as they were; the others
(`color`, `alpha`, `lineWidth`) leave names alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from render_web.functions.common import format_number
from render_web.functions.registry import Context, InputError, Param, ParamType, series_function
from render_web.functions.special import constant_series
from render_web.series import TimeSeries

_SERIES_LIST = Param("seriesList", ParamType.SERIES_LIST, required=True)
_DEFAULT_STACK = "__DEFAULT__"


def _tagged(series: TimeSeries, key: str, value: Any) -> dict[str, str]:
    """The series' tags plus `key` (graphite stores tag values as strings)."""
    tags = dict(series.tags)
    tags[key] = str(value)
    return tags


def _with_options(series: TimeSeries, **options: Any) -> TimeSeries:
    return series.copy(options={**series.options, **options})


@series_function("color", "Graph", [
    _SERIES_LIST,
    Param("theColor", ParamType.STRING, required=True),
])
def color(ctx: Context, seriesList: list[TimeSeries], theColor: str) -> list[TimeSeries]:
    """Draw these series in one colour (a graphite colour name or hex RRGGBB[AA])."""
    return [_with_options(s, color=theColor) for s in seriesList]


@series_function("alpha", "Graph", [
    _SERIES_LIST,
    Param("alpha", ParamType.FLOAT, required=True),
])
def alpha(ctx: Context, seriesList: list[TimeSeries], alpha: float) -> list[TimeSeries]:
    """Draw these series with this opacity, from 0 (invisible) to 1."""
    return [_with_options(s, alpha=float(alpha)) for s in seriesList]


@series_function("lineWidth", "Graph", [
    _SERIES_LIST,
    Param("width", ParamType.FLOAT, required=True),
])
def line_width(ctx: Context, seriesList: list[TimeSeries], width: float) -> list[TimeSeries]:
    """Draw these series with lines of this width (pixels), overriding `lineWidth`."""
    return [_with_options(s, lineWidth=float(width)) for s in seriesList]


@series_function("dashed", "Graph", [
    _SERIES_LIST,
    Param("dashLength", ParamType.INTEGER, default=5),
])
def dashed(ctx: Context, seriesList: list[TimeSeries], dashLength: float = 5
           ) -> list[TimeSeries]:
    """Draw these series dashed, with dashes (and gaps) of this many pixels."""
    if dashLength <= 0:
        raise InputError("dashed: dashLength must be positive")
    return [
        _with_options(s, dashed=dashLength).copy(
            name=f"dashed({s.name}, {format_number(dashLength)})",
            tags=_tagged(s, "dashed", dashLength))
        for s in seriesList
    ]


@series_function("secondYAxis", "Graph", [_SERIES_LIST])
def second_y_axis(ctx: Context, seriesList: list[TimeSeries]) -> list[TimeSeries]:
    """Draw these series against a second y axis, on the right."""
    return [
        _with_options(s, secondYAxis=True).copy(
            name=f"secondYAxis({s.name})", tags=_tagged(s, "secondYAxis", 1))
        for s in seriesList
    ]


@series_function("drawAsInfinite", "Graph", [_SERIES_LIST])
def draw_as_infinite(ctx: Context, seriesList: list[TimeSeries]) -> list[TimeSeries]:
    """Draw a full-height vertical line wherever the value is above zero (on/off events
    such as deploys or failed checks)."""
    return [
        _with_options(s, drawAsInfinite=True).copy(
            name=f"drawAsInfinite({s.name})", tags=_tagged(s, "drawAsInfinite", 1))
        for s in seriesList
    ]


def _stack_totals(ctx: Context) -> dict[str, np.ndarray]:
    """Running totals per stack name. graphite keeps them for the whole request, so that
    `stacked()` in two targets stacks onto one another; that needs a request-scoped
    `ctx.state` dict, without which the totals last for one call."""
    state = getattr(ctx, "state", None)
    if isinstance(state, dict):
        return state.setdefault("totalStack", {})
    return {}


@series_function("stacked", "Graph", [
    _SERIES_LIST,
    Param("stack", ParamType.STRING),
])
def stacked(ctx: Context, seriesList: list[TimeSeries], stack: str | None = None
            ) -> list[TimeSeries]:
    """Stack these series on one another (each point adds to the ones below it), drawn as
    filled areas, without stacking the rest of the graph. Series stacked under another
    `stack` name form a separate pile."""
    name = stack or _DEFAULT_STACK
    totals = _stack_totals(ctx)
    total = totals.get(name, np.zeros(0))
    results = []
    for series in seriesList:
        values = series.values
        if len(total) < len(values):
            total = np.concatenate([total, np.zeros(len(values) - len(total))])
        present = ~np.isnan(values)
        head = total[:len(values)]
        head[present] += values[present]
        stacked_values = np.where(present, head, np.nan)
        if name == _DEFAULT_STACK:
            renamed = series.copy(name=f"stacked({series.name})",
                                  tags=_tagged(series, "stacked", name))
        else:
            renamed = series.copy()
        results.append(renamed.copy(values=stacked_values,
                                    options={**series.options, "stacked": True}))
    totals[name] = total
    return results


@series_function("areaBetween", "Graph", [_SERIES_LIST])
def area_between(ctx: Context, seriesList: list[TimeSeries]) -> list[TimeSeries]:
    """Fill the band between exactly two series (say a minimum and a maximum), e.g. as the
    expected range of a third."""
    if len(seriesList) != 2:
        raise InputError("areaBetween series argument must reference *exactly* 2 series")
    lower, upper = seriesList
    tags = _tagged(upper, "areaBetween", 1)
    name = f"areaBetween({upper.path_expression})"
    return [
        lower.copy(name=name, tags=dict(tags),
                   options={**lower.options, "stacked": True, "invisible": True}),
        upper.copy(name=name, tags=dict(tags), options={**upper.options, "stacked": True}),
    ]


@series_function("threshold", "Graph", [
    Param("value", ParamType.FLOAT, required=True),
    Param("label", ParamType.STRING),
    Param("color", ParamType.STRING),
])
def threshold(ctx: Context, value: float, label: str | None = None,
              color: str | None = None) -> list[TimeSeries]:
    """A horizontal line at `value` across the graph, optionally named and coloured."""
    series = constant_series(ctx, value)
    if label:
        # graphite renames the series only: its tags and path expression stay.
        series = series.copy(name=label, tags=dict(series.tags))
    if color:
        series = _with_options(series, color=color)
    return [series]


def _timestamp(ctx: Context, ts: Any) -> int:
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return int(ts)
    text = str(ts)
    if text.isdigit():
        return int(text)
    from render_web import attime

    parse = getattr(attime, "parse_attime", None)
    if parse is None:
        raise InputError(f"verticalLine: cannot read the time {text!r}")
    when = parse(text, ctx.tz, datetime.fromtimestamp(ctx.now, ctx.tz))
    return int(when.timestamp())


@series_function("verticalLine", "Graph", [
    Param("ts", ParamType.DATE, required=True),
    Param("label", ParamType.STRING),
    Param("color", ParamType.STRING),
])
def vertical_line(ctx: Context, ts: Any, label: str | None = None,
                  color: str | None = None) -> list[TimeSeries]:
    """A full-height vertical line at time `ts` (an absolute or relative time, as `from`
    takes), optionally named and coloured; the time must be inside the graph's range."""
    when = _timestamp(ctx, ts)
    if when < ctx.start:
        raise InputError(f"verticalLine(): timestamp {when} exists before start of range")
    if when > ctx.end:
        raise InputError(f"verticalLine(): timestamp {when} exists after end of range")
    options: dict[str, Any] = {"drawAsInfinite": True}
    if color:
        options["color"] = color
    return [TimeSeries(label or "", when, 1, np.ones(2), x_files_factor=ctx.x_files_factor,
                       options=options)]
