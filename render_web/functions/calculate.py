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
from render_web.functions.combine import series_value
from render_web.functions.common import format_number
from render_web.functions.registry import Context, InputError, Param, ParamType, series_function
from render_web.functions.transform import (
    AGG_FUNC_OPTIONS,
    SERIES_LIST,
    SeriesList,
    at_time,
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


# --- lines from whole series (issue 8) -------------------------------------------------


@series_function("aggregateLine", GROUP, [
    SERIES_LIST,
    Param("func", ParamType.AGG_FUNC, default="average", options=AGG_FUNC_OPTIONS),
    Param("keepStep", ParamType.BOOLEAN, default=False)])
def aggregate_line(ctx: Context, seriesList: SeriesList, func: str = "average",
                   keepStep: bool = False) -> SeriesList:
    """A flat line at `func` of each whole series (its average by default): three points
    across the request like constantLine, or with `keepStep` one per original point."""
    check_agg_func(func)
    out = []
    for s in seriesList:
        number = series_value(s, func) if len(s) else math.nan
        value: float | int | None = None if math.isnan(number) else number
        if func == "count" and value is not None:
            value = int(value)   # graphite counts with len(): an int, "3" in names
        label = "None" if value is None else format_number(value)
        name = f"aggregateLine({s.name}, {label})"
        fill = math.nan if value is None else float(value)
        if keepStep:
            out.append(s.copy(name=name, path_expression=name, values=np.full(len(s), fill)))
            continue
        step = max(1, (ctx.end - ctx.start) // 2)
        out.append(TimeSeries(name, ctx.start, step, np.full(3, fill), path_expression=name,
                              x_files_factor=ctx.x_files_factor, tags={"name": str(value)}))
    return out


@series_function("identity", GROUP, [Param("name", ParamType.STRING, required=True)])
def identity(ctx: Context, name: str) -> SeriesList:
    """A series whose value is its own timestamp, one point a minute from the request
    start: compare it with a series of timestamps to show an age."""
    values = np.arange(ctx.start, ctx.end, 60, dtype=np.int64).astype(np.float64)
    return [TimeSeries(name, ctx.start, 60, values, path_expression=f'identity("{name}")',
                       x_files_factor=ctx.x_files_factor, tags={"name": name})]


# --- exponential moving average and moving standard deviation -------------------------


@series_function("exponentialMovingAverage", GROUP, [SERIES_LIST, WINDOW_SIZE])
def exponential_moving_average(ctx: Context, seriesList: SeriesList, windowSize: int | str
                               ) -> SeriesList:
    """An exponentially weighted average, seeded by the plain average of the window before
    the request start and rounded to 6 decimals. Nulls stay null and do not move the
    average. As in graphite-web, an interval window weights by its length in seconds
    (2 / (seconds + 1)), not in points; the output has one point more than the request,
    the seed, at the request start."""
    if not seriesList:
        return []
    preview = _preview_seconds(seriesList, windowSize)
    # graphite-web's weight: from the seconds of an interval window, the points of a count.
    span = preview if isinstance(windowSize, str) else int(windowSize)
    constant = 2.0 / (span + 1)
    out = []
    for s in ctx.refetch(0, ctx.start - preview, ctx.end):
        if isinstance(windowSize, str):
            name = f'exponentialMovingAverage({s.name},"{windowSize}")'
            points = preview // s.step
        else:
            name = f"exponentialMovingAverage({s.name},{windowSize})"
            points = int(windowSize)
        seed = s.values[:points]
        seed = seed[~np.isnan(seed)]
        ema = float(seed.sum() / len(seed)) if len(seed) else 0.0
        values = [round(ema, 6)]
        # A recurrence: each value needs the previous one.
        for value in s.values[points:].tolist():
            if value != value:
                values.append(math.nan)
            else:
                ema = constant * value + (1 - constant) * ema
                values.append(round(ema, 6))
        # graphite keeps the fetched end: with a window longer than `points` steps (series
        # of several steps) the values past it are not shown.
        values = values[:max(0, (s.end - s.start - preview) // s.step + 1)]
        out.append(derived(s, name, values, start=s.start + preview,
                           tags={"exponentialMovingAverage": windowSize}))
    return out


def moving_stdev(values: np.ndarray, points: int, tolerance: float) -> np.ndarray:
    """Population standard deviation of the last `points` values at each point (fewer
    at the start), from running sums as graphite-web computes it; null when the window's
    non-null share is below `tolerance`, or when rounding makes the variance negative."""
    present = ~np.isnan(values)
    clean = np.where(present, values, 0.0)

    def window_sums(x: np.ndarray) -> np.ndarray:
        total = np.cumsum(x)
        total[points:] = total[points:] - total[:-points]
        return total

    count = window_sums(present.astype(np.float64))
    total = window_sums(clean)
    squares = window_sums(clean * clean)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = count * squares - total * total
        deviation = np.sqrt(variance) / count
    keep = (count > 0) & (count / points >= tolerance) & (variance >= 0)
    return np.where(keep, deviation, np.nan)


@series_function("stdev", GROUP, [
    SERIES_LIST, Param("points", ParamType.INTEGER, required=True),
    Param("windowTolerance", ParamType.FLOAT, default=0.1)])
def stdev(ctx: Context, seriesList: SeriesList, points: int, windowTolerance: float = 0.1
          ) -> SeriesList:
    """The standard deviation of each series over the last `points` points, skipped where
    more than `windowTolerance` of the window is null."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InputError(f"stdev: points must be a positive integer, got {points!r}")
    tolerance = 0.1 if windowTolerance is None else float(windowTolerance)
    return [derived(s, f"stdev({s.name},{points})", moving_stdev(s.values, points, tolerance),
                    tags={"stdev": points}) for s in seriesList]


# --- linear regression -----------------------------------------------------------------


def regression_line(source: TimeSeries) -> tuple[float, float] | None:
    """Least-squares (slope per second, value at epoch 0) of `source`'s non-null points,
    or None with fewer than two distinct points."""
    index = np.flatnonzero(~np.isnan(source.values)).astype(np.float64)
    values = source.values[~np.isnan(source.values)]
    n = len(index)
    sum_i, sum_v = index.sum(), values.sum()
    sum_ii, sum_iv = (index * index).sum(), (index * values).sum()
    denominator = float(n * sum_ii - sum_i * sum_i)
    if denominator == 0:
        return None
    factor = (n * sum_iv - sum_i * sum_v) / denominator / source.step
    offset = (sum_ii * sum_v - sum_iv * sum_i) / denominator - factor * source.start
    return float(factor), float(offset)


@series_function("linearRegression", GROUP, [
    SERIES_LIST, Param("startSourceAt", ParamType.DATE), Param("endSourceAt", ParamType.DATE)])
def linear_regression(ctx: Context, seriesList: SeriesList, startSourceAt: Any = None,
                      endSourceAt: Any = None) -> SeriesList:
    """The least-squares line through each series' points between startSourceAt and
    endSourceAt (the request window by default), drawn over the request window. Series
    with fewer than two points are dropped. Source times are read in the request's time
    zone relative to its `now` (graphite-web: server zone and wall clock)."""
    start = ctx.start if startSourceAt is None else at_time(ctx, startSourceAt)
    end = ctx.end if endSourceAt is None else at_time(ctx, endSourceAt)
    out = []
    for source, s in zip(ctx.refetch(0, start, end), seriesList, strict=False):
        line = regression_line(source)
        if line is None:
            continue
        factor, offset = line
        values = offset + s.timestamps().astype(np.float64) * factor
        out.append(derived(s, f"linearRegression({s.name}, {start}, {end})", values,
                           tags={"linearRegressions": f"{start}, {end}"}))
    return out


# --- Holt-Winters ----------------------------------------------------------------------

HW_ALPHA = HW_GAMMA = 0.1
HW_BETA = 0.0035
BOOTSTRAP = Param("bootstrapInterval", ParamType.INTERVAL, default="7d",
                  suggestions=("7d", "30d"))
SEASONALITY = Param("seasonality", ParamType.INTERVAL, default="1d", suggestions=("1d", "7d"))
DELTA = Param("delta", ParamType.INTEGER, default=3)


def holt_winters(values: list[float | None], season: int) -> tuple[list, list]:
    """graphite-web's triple exponential smoothing (alpha = gamma = 0.1, beta = 0.0035):
    the one-step-ahead prediction and the smoothed absolute deviation at each point.
    A null input gives a null prediction for the next point and zeros for its state."""
    intercepts: list[float | None] = []
    slopes: list[float] = []
    seasonals: list[float] = []
    predictions: list[float | None] = []
    deviations: list[float] = []

    def seasonal_at(i: int) -> float:
        return seasonals[i - season] if i >= season else 0

    def deviation_at(i: int) -> float:
        return deviations[i - season] if i >= season else 0

    next_prediction = None
    for i, actual in enumerate(values):
        if actual is None:
            intercepts.append(None)
            slopes.append(0)
            seasonals.append(0)
            predictions.append(next_prediction)
            deviations.append(0)
            next_prediction = None
            continue
        if i == 0:
            last_intercept, last_slope, prediction = actual, 0, actual
        else:
            last_intercept = intercepts[-1]
            last_slope = slopes[-1]
            if last_intercept is None:
                last_intercept = actual
            prediction = next_prediction
        last_seasonal = seasonal_at(i)
        next_last_seasonal = seasonal_at(i + 1)
        intercept = (HW_ALPHA * (actual - last_seasonal)
                     + (1 - HW_ALPHA) * (last_intercept + last_slope))
        slope = HW_BETA * (intercept - last_intercept) + (1 - HW_BETA) * last_slope
        seasonal = HW_GAMMA * (actual - intercept) + (1 - HW_GAMMA) * last_seasonal
        next_prediction = intercept + slope + next_last_seasonal
        error = math.fabs(actual - (prediction if prediction is not None else 0))
        deviation = HW_GAMMA * error + (1 - HW_GAMMA) * deviation_at(i)
        intercepts.append(intercept)
        slopes.append(slope)
        seasonals.append(seasonal)
        predictions.append(prediction)
        deviations.append(deviation)
    return predictions, deviations


def _interval(text: Any, what: str) -> int:
    if not isinstance(text, str) or not text:
        raise InputError(f"{what}: invalid interval {text!r}")
    return abs(parse_offset(text))


def _hw_analysis(ctx: Context, bootstrapInterval: str, seasonality: str
                 ) -> list[tuple[TimeSeries, np.ndarray, np.ndarray, int]]:
    """The target fetched again from `bootstrapInterval` before the request start, and
    for each series its predictions and deviations with that history dropped (by point
    count, as graphite-web does), plus the history's length in seconds."""
    preview = _interval(bootstrapInterval, "bootstrapInterval")
    season_seconds = _interval(seasonality, "seasonality")
    out = []
    for s in ctx.refetch(0, ctx.start - preview, ctx.end):
        season = season_seconds // s.step
        if season < 2:
            raise InputError(f"seasonality {seasonality!r} must cover at least two points "
                             f"of {s.name} (step {s.step}s)")
        predictions, deviations = holt_winters(s.to_list(), season)
        skip = preview // s.step
        as_array = [np.array([math.nan if v is None else v for v in values[skip:]],
                             dtype=np.float64) for values in (predictions, deviations)]
        out.append((s, as_array[0], as_array[1], preview))
    return out


HW_TAGS = {"holtWintersForecast": 1, "holtWintersDeviation": 1}


@series_function("holtWintersForecast", GROUP, [SERIES_LIST, BOOTSTRAP, SEASONALITY])
def holt_winters_forecast(ctx: Context, seriesList: SeriesList, bootstrapInterval: str = "7d",
                          seasonality: str = "1d") -> SeriesList:
    """The Holt-Winters prediction for each point, learnt from `bootstrapInterval` of
    history with a season of `seasonality`."""
    return [derived(s, f"holtWintersForecast({s.name})", forecast, start=s.start + preview,
                    tags=HW_TAGS)
            for s, forecast, _, preview in _hw_analysis(ctx, bootstrapInterval, seasonality)]


def _bands(ctx: Context, delta: int, bootstrapInterval: str, seasonality: str
           ) -> list[tuple[TimeSeries, TimeSeries]]:
    """(lower, upper) per series: the forecast minus and plus `delta` deviations."""
    delta = 3 if delta is None else delta
    tags = {**HW_TAGS, "holtWintersConfidenceUpper": 1, "holtWintersConfidenceLower": 1}
    pairs = []
    for s, forecast, deviation, preview in _hw_analysis(ctx, bootstrapInterval, seasonality):
        width = min(len(forecast), len(deviation))
        scaled = delta * deviation[:width]
        common = {"start": s.start + preview, "path_expression": s.path_expression,
                  "tags": tags}
        lower = derived(s, f"holtWintersConfidenceLower({s.name})",
                        forecast[:width] - scaled, **common)
        upper = derived(s, f"holtWintersConfidenceUpper({s.name})",
                        forecast[:width] + scaled, **common)
        pairs.append((lower, upper))
    return pairs


@series_function("holtWintersConfidenceBands", GROUP,
                 [SERIES_LIST, DELTA, BOOTSTRAP, SEASONALITY])
def holt_winters_confidence_bands(ctx: Context, seriesList: SeriesList, delta: int = 3,
                                  bootstrapInterval: str = "7d", seasonality: str = "1d"
                                  ) -> SeriesList:
    """Lower and upper bounds `delta` smoothed deviations around the Holt-Winters
    forecast: where the series is expected to stay."""
    return [band for pair in _bands(ctx, delta, bootstrapInterval, seasonality)
            for band in pair]


@series_function("holtWintersAberration", GROUP, [SERIES_LIST, DELTA, BOOTSTRAP, SEASONALITY])
def holt_winters_aberration(ctx: Context, seriesList: SeriesList, delta: int = 3,
                            bootstrapInterval: str = "7d", seasonality: str = "1d"
                            ) -> SeriesList:
    """How far each point lies above the upper or below the lower confidence band (0
    inside the bands and where the series is null)."""
    bands = {lower.name: (lower, upper)
             for lower, upper in _bands(ctx, delta, bootstrapInterval, seasonality)}
    out = []
    for s in seriesList:
        pair = bands.get(f"holtWintersConfidenceLower({s.name})")
        if pair is None:
            raise InputError(f"holtWintersAberration: no forecast for {s.name}")
        lower = np.full(len(s), np.nan)
        upper = np.full(len(s), np.nan)
        width = min(len(s), len(pair[0]))
        lower[:width], upper[:width] = pair[0].values[:width], pair[1].values[:width]
        values = s.values
        with np.errstate(invalid="ignore"):
            result = np.where(values > upper, values - upper,
                              np.where(values < lower, values - lower, 0.0))
        result = np.where(np.isnan(values), 0.0, result)
        out.append(derived(s, f"holtWintersAberration({s.name})", result,
                           tags={"holtWintersAberration": 1}))
    return out


@series_function("holtWintersConfidenceArea", GROUP, [SERIES_LIST, DELTA, BOOTSTRAP, SEASONALITY])
def holt_winters_confidence_area(ctx: Context, seriesList: SeriesList, delta: int = 3,
                                 bootstrapInterval: str = "7d", seasonality: str = "1d"
                                 ) -> SeriesList:
    """The confidence bands drawn as a filled area (the lower band stacked invisibly under
    the upper one). graphite-web accepts a single series only (several fail with a 500);
    here every series gets its own pair."""
    out = []
    for lower, upper in _bands(ctx, delta, bootstrapInterval, seasonality):
        name = f"holtWintersConfidenceArea({upper.path_expression})"
        tags = {**upper.tags, "holtWintersConfidenceArea": "1"}
        out.append(lower.copy(name=name, path_expression=name, tags=dict(tags),
                              options={**lower.options, "stacked": True, "invisible": True}))
        out.append(upper.copy(name=name, path_expression=name, tags=dict(tags),
                              options={**upper.options, "stacked": True}))
    return out
