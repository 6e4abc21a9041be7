"""graphite-web's "Special" functions: consolidation settings (consolidateBy,
xFilesFactor), series made from nothing (constantLine, randomWalk), and label tricks
(cactiStyle, substr)."""

from __future__ import annotations

import math
import re

import numpy as np

from render_web.functions.registry import Context, InputError, Param, ParamType, series_function
from render_web.graphoptions import UNIT_PREFIXES, format_units
from render_web.series import CONSOLIDATIONS, TimeSeries

_SERIES_LIST = Param("seriesList", ParamType.SERIES_LIST, required=True)


def _consolidated_by(series_list: list[TimeSeries], func: str) -> list[TimeSeries]:
    if func not in CONSOLIDATIONS:
        raise InputError(f"consolidateBy: invalid consolidation function {func!r} "
                         f"(one of {', '.join(CONSOLIDATIONS)})")
    results = []
    for series in series_list:
        name = f'consolidateBy({series.name},"{func}")'
        tags = dict(series.tags)
        tags["consolidateBy"] = func
        results.append(series.copy(name=name, path_expression=name, tags=tags,
                                   consolidation=func))
    return results


@series_function("consolidateBy", "Special", [
    _SERIES_LIST,
    Param("consolidationFunc", ParamType.STRING, required=True,
          options=("average", "avg", "avg_zero", "first", "last", "max", "min", "sum")),
])
def consolidate_by(ctx: Context, seriesList: list[TimeSeries], consolidationFunc: str
                   ) -> list[TimeSeries]:
    """How points are merged when there are more than pixels (or than maxDataPoints):
    `sum` for counts, `max` to keep spikes, `average` (the default) otherwise."""
    return _consolidated_by(seriesList, consolidationFunc)


@series_function("cumulative", "Special", [_SERIES_LIST])
def cumulative(ctx: Context, seriesList: list[TimeSeries]) -> list[TimeSeries]:
    """Merge points by summing them: `consolidateBy(seriesList, "sum")`."""
    return _consolidated_by(seriesList, "sum")


@series_function("setXFilesFactor", "Special", [
    _SERIES_LIST,
    Param("xFilesFactor", ParamType.FLOAT, required=True),
], aliases=("xFilesFactor",))
def set_x_files_factor(ctx: Context, seriesList: list[TimeSeries], xFilesFactor: float
                       ) -> list[TimeSeries]:
    """The share of non-null points (0 to 1) a group needs for its merged point not to be
    null, used when these series are consolidated or aggregated."""
    ratio = float(xFilesFactor)
    if not 0.0 <= ratio <= 1.0:
        raise InputError(f"xFilesFactor must be between 0 and 1, not {xFilesFactor!r}")
    results = []
    for series in seriesList:
        tags = dict(series.tags)
        tags["xFilesFactor"] = str(xFilesFactor)
        results.append(series.copy(x_files_factor=ratio, tags=tags))
    return results


def constant_series(ctx: Context, value: float) -> TimeSeries:
    """graphite's constant line: three points, at the start, the middle and the end of
    the request window (so it spans the graph whatever the consolidation)."""
    value = float(value)
    step = max(1, (ctx.end - ctx.start) // 2)
    name = str(value)
    return TimeSeries(name, ctx.start, step, np.full(3, value),
                      path_expression=f"constantLine({name})",
                      x_files_factor=ctx.x_files_factor, tags={"name": name})


@series_function("constantLine", "Special", [
    Param("value", ParamType.FLOAT, required=True),
])
def constant_line(ctx: Context, value: float) -> list[TimeSeries]:
    """A horizontal line at `value` across the whole requested time range."""
    return [constant_series(ctx, value)]


def _cacti_formatter(system: str | None, units: str | None):
    if system:
        if system not in UNIT_PREFIXES:
            raise InputError(f"cactiStyle: unknown unit system {system!r}")
        if units:
            return lambda x: "{:.2f} {}".format(*format_units(x, system=system, units=units))
        return lambda x: "{:.2f}{}".format(*format_units(x, system=system))
    if units:
        return lambda x: f"{x:.2f} {units}"
    return lambda x: f"{x:.2f}"


def _last(values: np.ndarray) -> float | None:
    present = values[~np.isnan(values)]
    return float(present[-1]) if len(present) else None


def _max(values: np.ndarray) -> float | None:
    present = values[~np.isnan(values)]
    return float(present.max()) if len(present) else None


def _min(values: np.ndarray) -> float | None:
    present = values[~np.isnan(values)]
    return float(present.min()) if len(present) else None


@series_function("cactiStyle", "Special", [
    _SERIES_LIST,
    Param("system", ParamType.STRING, options=("binary", "si")),
    Param("units", ParamType.STRING),
])
def cacti_style(ctx: Context, seriesList: list[TimeSeries], system: str | None = None,
                units: str | None = None) -> list[TimeSeries]:
    """Legend names with the current, maximum and minimum values in aligned columns
    (best with a monospace font), optionally scaled by an si/binary unit system and
    suffixed with `units`."""
    if not seriesList:
        return []
    fmt = _cacti_formatter(system, units)
    stats = [(_last(s.values), _max(s.values), _min(s.values)) for s in seriesList]

    def width(column: int) -> int:
        # graphite sizes columns from the integer part of each value (3 when missing or 0).
        return max(len(fmt(int(row[column] or 3))) for row in stats) + 3

    name_width = max(len(s.name) for s in seriesList)
    widths = [width(0), width(1), width(2)]
    results = []
    for series, row in zip(seriesList, stats, strict=True):
        cells = ["nan" if v is None else fmt(v) for v in row]
        name = (f"{series.name:<{name_width}} Current:{cells[0]:<{widths[0]}} "
                f"Max:{cells[1]:<{widths[1]}} Min:{cells[2]:<{widths[2]}} ")
        results.append(series.copy(name=name, tags=dict(series.tags)))
    return results


@series_function("changed", "Special", [_SERIES_LIST])
def changed(ctx: Context, seriesList: list[TimeSeries]) -> list[TimeSeries]:
    """1 where the value differs from the previous non-null one, else 0 (nulls give 0)."""
    results = []
    for series in seriesList:
        values = series.values
        present = ~np.isnan(values)
        index = np.where(present, np.arange(len(values)), -1)
        last_seen = np.maximum.accumulate(index) if len(values) else index
        previous = np.concatenate([[-1], last_seen[:-1]]) if len(values) else index
        before = values[np.maximum(previous, 0)]
        flags = present & (previous >= 0) & (values != before)
        name = f"changed({series.name})"
        results.append(series.copy(name=name, path_expression=name, tags=dict(series.tags),
                                   values=flags.astype(np.float64)))
    return results


@series_function("fallbackSeries", "Special", [
    _SERIES_LIST,
    Param("fallback", ParamType.SERIES_LIST, required=True),
])
def fallback_series(ctx: Context, seriesList: list[TimeSeries], fallback: list[TimeSeries]
                    ) -> list[TimeSeries]:
    """`seriesList`, or `fallback` when it matched nothing (e.g. a zero line)."""
    return list(seriesList) if seriesList else list(fallback)


def _substr_name(name: str, start: int, stop: int) -> str:
    left = name.rfind("(") + 1
    right = name.find(")")
    if right < 0:
        right = len(name) + 1
    parts = name[left:right].split(".")
    kept = parts[start:] if stop == 0 else parts[start:stop]
    return re.sub(",.*$", "", ".".join(kept))


@series_function("substr", "Special", [
    _SERIES_LIST,
    Param("start", ParamType.NODE, default=0),
    Param("stop", ParamType.NODE, default=0),
])
def substr(ctx: Context, seriesList: list[TimeSeries], start: int = 0, stop: int = 0
           ) -> list[TimeSeries]:
    """Name each series by a slice of its path's nodes (`stop` 0 means to the end), taken
    from the innermost path of a function-wrapped name."""
    try:
        first, last = int(start), int(stop)
    except (TypeError, ValueError):
        raise InputError("substr: start and stop must be integers") from None
    return [s.copy(name=_substr_name(s.name, first, last), tags=dict(s.tags))
            for s in seriesList]


@series_function("randomWalkFunction", "Special", [
    Param("name", ParamType.STRING, required=True),
    Param("step", ParamType.INTEGER, default=60),
], aliases=("randomWalk",))
def random_walk(ctx: Context, name: str, step: int = 60) -> list[TimeSeries]:
    """A random walk from 0 (each point moves by up to ±0.5): test data without storage."""
    if step <= 0:
        raise InputError("randomWalk: step must be positive")
    count = max(0, math.ceil((ctx.end - ctx.start) / step))
    moves = np.random.default_rng().random(count) - 0.5
    values = np.concatenate([[0.0], np.cumsum(moves)[:-1]]) if count else np.zeros(0)
    return [TimeSeries(name, ctx.start, int(step), values, x_files_factor=ctx.x_files_factor)]
