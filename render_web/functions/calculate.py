"""graphite-web's "Calculate" functions: moving windows and percentiles.

A moving window needs points from before the requested start, so it evaluates its
series argument again over a window widened by the window length, then drops that
history again (graphite-web's `movingWindow`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from render_web.attime import parse_offset
from render_web.functions.aggfuncs import aggregate_rows
from render_web.functions.common import format_number
from render_web.functions.registry import Context, InputError, Param, ParamType, series_function
from render_web.functions.transform import (
    AGG_FUNC_OPTIONS,
    SERIES_LIST,
    SeriesList,
    check_agg_func,
    derived,
)
from render_web.series import TimeSeries

GROUP = "Calculate"

WINDOW_SUGGESTIONS = (5, 7, 10, "1min", "5min", "10min", "30min", "1hour")
WINDOW_SIZE = Param("windowSize", ParamType.INT_OR_INTERVAL, required=True,
                    suggestions=WINDOW_SUGGESTIONS)
X_FILES_FACTOR = Param("xFilesFactor", ParamType.FLOAT)
MOVING_PARAMS = [SERIES_LIST, WINDOW_SIZE, X_FILES_FACTOR]

# Window rows reduced at once: bounds the temporary copies the reducers make.
_CHUNK_CELLS = 1 << 20


def window_values(values: np.ndarray, points: int, func: str, x_files_factor: float
                  ) -> np.ndarray:
    """graphite-web 1.1.10's window: output j is `func` over values[j+1 : j+1+points],
    i.e. the point at the output's own time and the `points - 1` before it (the fetch
    starts `points` steps early, and the first fetched point is never used). Null
    unless non-null/points reaches `x_files_factor`. The output has
    `len(values) - points` values; a zero-point window gives all nulls."""
    if points <= 0:
        return np.full(len(values), np.nan)
    count = len(values) - points
    if count <= 0:
        return np.full(0, np.nan)
    windows = sliding_window_view(values[1:], points)
    rows = max(1, _CHUNK_CELLS // points)
    return np.concatenate([
        _reduce_windows(windows[i:i + rows], func, x_files_factor)
        for i in range(0, count, rows)
    ])


def _reduce_windows(windows: np.ndarray, func: str, x_files_factor: float) -> np.ndarray:
    """graphite-web hands the function only the window's non-null values: avg_zero is a
    plain average there, and multiply skips nulls instead of turning null."""
    if func != "multiply":
        reducer = "average" if func == "avg_zero" else func
        return aggregate_rows(windows, reducer, x_files_factor)
    present = ~np.isnan(windows)
    count = present.sum(axis=1)
    product = np.where(present, windows, 1.0).prod(axis=1)
    keep = (count > 0) & (count / windows.shape[1] >= x_files_factor)
    return np.where(keep, product, np.nan)


def _preview_seconds(series_list: SeriesList, windowSize: Any) -> int:
    if isinstance(windowSize, str):
        return abs(parse_offset(windowSize))
    if isinstance(windowSize, bool) or not isinstance(windowSize, int | float):
        raise InputError(f"invalid windowSize {windowSize!r}")
    if windowSize < 0:
        raise InputError(f"windowSize must not be negative, got {windowSize!r}")
    return max(s.step for s in series_list) * int(windowSize)


def moving(ctx: Context, series_list: SeriesList, windowSize: int | str, func: str,
           xFilesFactor: float | None) -> SeriesList:
    """The shared body of movingWindow and its named forms."""
    if not series_list:
        return []
    check_agg_func(func)
    preview = _preview_seconds(series_list, windowSize)
    tag_name = "moving" + func.capitalize()
    out = []
    for s in ctx.refetch(0, ctx.start - preview, ctx.end):
        if isinstance(windowSize, str):
            name = f'{tag_name}({s.name},"{windowSize}")'
            points = preview // s.step
        else:
            name = f"{tag_name}({s.name},{windowSize})"
            points = int(windowSize)
        xff = s.x_files_factor if xFilesFactor is None else xFilesFactor
        out.append(derived(s, name, window_values(s.values, points, func, xff),
                           start=s.start + preview, tags={tag_name: windowSize}))
    return out


@series_function("movingWindow", GROUP, [
    SERIES_LIST, WINDOW_SIZE,
    Param("func", ParamType.AGG_FUNC, default="average", options=AGG_FUNC_OPTIONS),
    X_FILES_FACTOR])
def moving_window(ctx: Context, seriesList: SeriesList, windowSize: int | str,
                  func: str = "average", xFilesFactor: float | None = None) -> SeriesList:
    """`func` over the points (an int) or the time (an interval string) ending at each
    point, fetching that much history before the requested start."""
    return moving(ctx, seriesList, windowSize, func, xFilesFactor)


@series_function("movingAverage", GROUP, MOVING_PARAMS)
def moving_average(ctx: Context, seriesList: SeriesList, windowSize: int | str,
                   xFilesFactor: float | None = None) -> SeriesList:
    """The mean of the window ending at each point (movingWindow with "average")."""
    return moving(ctx, seriesList, windowSize, "average", xFilesFactor)


@series_function("movingMedian", GROUP, MOVING_PARAMS)
def moving_median(ctx: Context, seriesList: SeriesList, windowSize: int | str,
                  xFilesFactor: float | None = None) -> SeriesList:
    """The median of the window ending at each point, robust to single spikes."""
    return moving(ctx, seriesList, windowSize, "median", xFilesFactor)


@series_function("movingSum", GROUP, MOVING_PARAMS)
def moving_sum(ctx: Context, seriesList: SeriesList, windowSize: int | str,
               xFilesFactor: float | None = None) -> SeriesList:
    """The total of the window ending at each point."""
    return moving(ctx, seriesList, windowSize, "sum", xFilesFactor)


@series_function("movingMin", GROUP, MOVING_PARAMS)
def moving_min(ctx: Context, seriesList: SeriesList, windowSize: int | str,
               xFilesFactor: float | None = None) -> SeriesList:
    """The smallest value of the window ending at each point."""
    return moving(ctx, seriesList, windowSize, "min", xFilesFactor)


@series_function("movingMax", GROUP, MOVING_PARAMS)
def moving_max(ctx: Context, seriesList: SeriesList, windowSize: int | str,
               xFilesFactor: float | None = None) -> SeriesList:
    """The largest value of the window ending at each point."""
    return moving(ctx, seriesList, windowSize, "max", xFilesFactor)


def percentile(sorted_values: np.ndarray, n: float) -> float:
    """graphite-web's nearest-rank percentile (NIST method, no interpolation) over
    sorted non-null values."""
    fractional = (n / 100.0) * (len(sorted_values) + 1)
    rank = int(fractional)
    rank += math.ceil(fractional - rank)
    if rank == 0:
        return float(sorted_values[0])
    if rank - 1 == len(sorted_values):
        return float(sorted_values[-1])
    if not -len(sorted_values) <= rank - 1 < len(sorted_values):
        raise InputError(f"nPercentile: percentile {format_number(n)} is out of range")
    return float(sorted_values[rank - 1])


@series_function("nPercentile", GROUP,
                 [SERIES_LIST, Param("n", ParamType.FLOAT, required=True)])
def n_percentile(ctx: Context, seriesList: SeriesList, n: float) -> SeriesList:
    """A flat line at the n-th percentile of each series' values (series without any
    value are dropped)."""
    if not n:
        raise InputError("The requested percent is required to be greater than 0")
    out: list[TimeSeries] = []
    for s in seriesList:
        present = np.sort(s.values[~np.isnan(s.values)])
        if len(present) == 0:
            continue
        value = percentile(present, n)
        out.append(derived(s, f"nPercentile({s.name}, {format_number(float(n))})",
                           np.full(len(s), value), tags={"nPercentile": n}))
    return out
