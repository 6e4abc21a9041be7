"""graphite-web's "Transform" functions: per-point arithmetic, differences, time buckets
and time shifts.

Every function returns new series and leaves its input alone. Like graphite-web, a
renamed series keeps its `name` tag (the metric it came from) and gains a tag named after
the function; the path expression becomes the new name except where graphite-web keeps
the fetched one (timeShift).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from render_web.attime import parse_offset
from render_web.functions.aggfuncs import AGG_FUNCS, get_reducer
from render_web.functions.common import format_number
from render_web.functions.registry import Context, InputError, Param, ParamType, series_function
from render_web.series import TimeSeries

GROUP = "Transform"

SeriesList = list[TimeSeries]

AGG_FUNC_OPTIONS = (
    "average", "avg", "avg_zero", "count", "current", "diff", "last", "max", "median", "min",
    "multiply", "range", "rangeOf", "stddev", "sum", "total",
)
INTERVAL_SUGGESTIONS = ("10min", "1h", "1d")
SHIFT_SUGGESTIONS = ("1h", "6h", "12h", "1d", "2d", "7d", "14d", "30d")

SERIES_LIST = Param("seriesList", ParamType.SERIES_LIST, required=True)


# --- helpers shared with calculate.py and alias.py ------------------------------------


def tag_value(value: Any) -> str:
    """graphite-web stores tag values with `str()` of the argument as the function got
    it: a float parameter arrives as a float, so `scale(x,10)` tags `scale=10.0`."""
    return str(value)


def derived(series: TimeSeries, name: str, values: np.ndarray | None = None, *,
            tags: dict[str, Any] | None = None, path_expression: str | None = None,
            **changes: Any) -> TimeSeries:
    """A new series computed from `series`: named `name`, path expression `name` unless
    given, the input's tags plus `tags` (the `name` tag is left as it was)."""
    new_tags = dict(series.tags)
    for key, value in (tags or {}).items():
        new_tags[key] = tag_value(value)
    return series.copy(
        name=name,
        path_expression=name if path_expression is None else path_expression,
        tags=new_tags,
        values=series.values.copy() if values is None else np.asarray(values, np.float64),
        **changes,
    )


def check_agg_func(func: str) -> str:
    if func not in AGG_FUNCS:
        raise InputError(f"Unsupported aggregation function: {func}")
    return func


def interval_seconds(text: Any, what: str) -> int:
    """A positive interval such as `"1h"`; graphite-web loops forever or divides by zero
    on anything else, so it is refused here."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{what}: invalid interval {text!r}")
    seconds = parse_offset(text)
    if seconds <= 0:
        raise InputError(f"{what}: interval must be positive, got {text!r}")
    return seconds


# --- point-wise arithmetic -------------------------------------------------------------


@series_function("scale", GROUP, [SERIES_LIST, Param("factor", ParamType.FLOAT, required=True)])
def scale(ctx: Context, seriesList: SeriesList, factor: float) -> SeriesList:
    """Multiplies every value by a constant."""
    return [derived(s, f"scale({s.name},{format_number(float(factor))})",
                    s.values * factor, tags={"scale": factor}) for s in seriesList]


@series_function("scaleToSeconds", GROUP,
                 [SERIES_LIST, Param("seconds", ParamType.FLOAT, required=True)])
def scale_to_seconds(ctx: Context, seriesList: SeriesList, seconds: float) -> SeriesList:
    """Turns per-step values into per-`seconds` values, so series of different
    resolutions compare (rounded to 6 decimals, as graphite-web does)."""
    return [derived(s, f"scaleToSeconds({s.name},{int(seconds)})",
                    np.round(s.values * (seconds / s.step), 6),
                    tags={"scaleToSeconds": seconds}) for s in seriesList]


@series_function("offset", GROUP, [SERIES_LIST, Param("factor", ParamType.FLOAT, required=True)])
def offset(ctx: Context, seriesList: SeriesList, factor: float) -> SeriesList:
    """Adds a constant to every value."""
    return [derived(s, f"offset({s.name},{format_number(float(factor))})",
                    s.values + factor, tags={"offset": factor}) for s in seriesList]


@series_function("absolute", GROUP, [SERIES_LIST])
def absolute(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """The absolute value of every point."""
    return [derived(s, f"absolute({s.name})", np.abs(s.values), tags={"absolute": 1})
            for s in seriesList]


# --- differences and sums over time ----------------------------------------------------


def _previous(values: np.ndarray) -> np.ndarray:
    prev = np.full_like(values, np.nan)
    prev[1:] = values[:-1]
    return prev


def non_negative_delta(values: np.ndarray, max_value: float | None,
                       min_value: float | None) -> np.ndarray:
    """graphite-web's counter delta: a rise is the difference; a fall is a wrap past
    `max_value` (or a restart at `min_value`), or null when neither is known. A value out
    of [min, max] is null and also forgets the previous value."""
    current = values.copy()
    if max_value is not None:
        current[current > max_value] = np.nan
    if min_value is not None:
        current[current < min_value] = np.nan
    prev = _previous(current)
    delta = current - prev
    wrapped = current < prev
    if max_value is not None:
        delta[wrapped] = (max_value + 1 + current - prev - (min_value or 0))[wrapped]
    elif min_value is not None:
        delta[wrapped] = (current - min_value)[wrapped]
    else:
        delta[wrapped] = np.nan
    return delta


@series_function("derivative", GROUP, [SERIES_LIST])
def derivative(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """The change from each point to the next, not divided by time (a null on either
    side gives null)."""
    return [derived(s, f"derivative({s.name})", s.values - _previous(s.values),
                    tags={"derivative": 1}) for s in seriesList]


@series_function("nonNegativeDerivative", GROUP, [
    SERIES_LIST, Param("maxValue", ParamType.FLOAT), Param("minValue", ParamType.FLOAT)])
def non_negative_derivative(ctx: Context, seriesList: SeriesList, maxValue: float | None = None,
                            minValue: float | None = None) -> SeriesList:
    """The per-step increase of a counter, treating a decrease as a wrap or reset."""
    return [derived(s, f"nonNegativeDerivative({s.name})",
                    non_negative_delta(s.values, maxValue, minValue),
                    tags={"nonNegativeDerivative": 1}) for s in seriesList]


@series_function("perSecond", GROUP, [
    SERIES_LIST, Param("maxValue", ParamType.FLOAT), Param("minValue", ParamType.FLOAT)])
def per_second(ctx: Context, seriesList: SeriesList, maxValue: float | None = None,
               minValue: float | None = None) -> SeriesList:
    """nonNegativeDerivative divided by the step: a counter as a rate per second."""
    return [derived(s, f"perSecond({s.name})",
                    np.round(non_negative_delta(s.values, maxValue, minValue) / s.step, 6),
                    tags={"perSecond": 1}) for s in seriesList]


@series_function("integral", GROUP, [SERIES_LIST])
def integral(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """The running total; nulls stay null and do not reset the total."""
    out = []
    for s in seriesList:
        present = ~np.isnan(s.values)
        running = np.cumsum(np.where(present, s.values, 0.0))
        out.append(derived(s, f"integral({s.name})", np.where(present, running, np.nan),
                           tags={"integral": 1}))
    return out


# --- nulls -----------------------------------------------------------------------------


def fill_gaps(values: np.ndarray, limit: float) -> np.ndarray:
    """Every run of at most `limit` nulls that follows a value takes that value (a
    trailing run too); leading nulls and longer runs stay null."""
    out = values.copy()
    missing = np.isnan(out)
    if not missing.any():
        return out
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    lengths = np.flatnonzero(edges == -1) - starts
    fill = (starts > 0) & (lengths <= limit)
    holes = np.flatnonzero(missing)
    chosen = np.repeat(fill, lengths)
    sources = np.repeat(starts - 1, lengths)
    out[holes[chosen]] = out[sources[chosen]]
    return out


@series_function("keepLastValue", GROUP,
                 [SERIES_LIST, Param("limit", ParamType.INT_OR_INF, default=math.inf)])
def keep_last_value(ctx: Context, seriesList: SeriesList, limit: float = math.inf
                    ) -> SeriesList:
    """Carries the last value across gaps of at most `limit` nulls, so a line is not
    broken by a few missed reports."""
    limit = math.inf if limit is None else limit
    return [derived(s, f"keepLastValue({s.name})", fill_gaps(s.values, limit))
            for s in seriesList]


def _padded(values: np.ndarray, length: int) -> np.ndarray:
    out = np.full(length, np.nan)
    out[:len(values)] = values
    return out


@series_function("transformNull", GROUP, [
    SERIES_LIST, Param("default", ParamType.FLOAT, default=0),
    Param("referenceSeries", ParamType.SERIES_LIST)])
def transform_null(ctx: Context, seriesList: SeriesList, default: float = 0,
                   referenceSeries: SeriesList | None = None) -> SeriesList:
    """Replaces nulls by `default`; with `referenceSeries`, only at indexes where some
    reference series has a value (reference points are matched by index, not time)."""
    defaults = None
    if referenceSeries:
        width = max(len(r) for r in referenceSeries)
        if width:
            matrix = np.vstack([_padded(r.values, width) for r in referenceSeries])
            defaults = np.where((~np.isnan(matrix)).any(axis=0), float(default), np.nan)
    out = []
    for s in seriesList:
        tags: dict[str, Any] = {"transformNull": default}
        suffix = ""
        if referenceSeries:
            tags["referenceSeries"] = 1
            suffix = ",referenceSeries"
        name = f"transformNull({s.name},{format_number(float(default))}{suffix})"
        if defaults is None:
            values = np.where(np.isnan(s.values), float(default), s.values)
        else:
            # graphite-web zips to the longer of the two, padding with nulls.
            length = max(len(s), len(defaults))
            own, fill = _padded(s.values, length), _padded(defaults, length)
            values = np.where(np.isnan(own), fill, own)
        out.append(derived(s, name, values, tags=tags))
    return out


# --- buckets over time -----------------------------------------------------------------


def _bucket_reduce(matrix: np.ndarray, sizes: np.ndarray, func: str) -> np.ndarray:
    """`func` over each row's real points (rows are NaN-padded to a common width).
    graphite-web hands each bucket its nulls too: avg_zero counts them as zeros and
    multiply gives null if any is null."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if func == "avg_zero":
            return np.where(np.isnan(matrix), 0.0, matrix).sum(axis=1) / sizes
        if func == "multiply":
            real = np.arange(matrix.shape[1]) < sizes[:, None]
            has_null = (np.isnan(matrix) & real).any(axis=1)
            product = np.where(np.isnan(matrix), 1.0, matrix).prod(axis=1)
            return np.where(has_null, np.nan, product)
        return get_reducer(func)(matrix)


def summarize_values(series: TimeSeries, func: str, interval: int, new_start: int,
                     new_end: int) -> np.ndarray:
    """One value per `interval` bucket from `new_start` until `new_end`: `func` over the
    points whose timestamps fall in the bucket, null unless the non-null points reach
    `x_files_factor` of the points an interval should hold."""
    buckets = max(0, -(-(new_end - new_start) // interval))
    out = np.full(buckets, np.nan)
    if buckets == 0 or len(series) == 0:
        return out
    index = (series.timestamps() - new_start) // interval
    inside = (index >= 0) & (index < buckets)
    index, values = index[inside], series.values[inside]
    sizes = np.bincount(index, minlength=buckets)
    firsts = np.cumsum(sizes) - sizes
    matrix = np.full((buckets, max(int(sizes.max()), 1)), np.nan)
    matrix[index, np.arange(len(index)) - firsts[index]] = values
    non_null = (~np.isnan(matrix)).sum(axis=1)
    reduced = _bucket_reduce(matrix, sizes, func)
    keep = (non_null > 0) & (non_null / (interval / series.step) >= series.x_files_factor)
    return np.where(keep, reduced, np.nan)


@series_function("summarize", GROUP, [
    SERIES_LIST,
    Param("intervalString", ParamType.INTERVAL, required=True,
          suggestions=INTERVAL_SUGGESTIONS),
    Param("func", ParamType.AGG_FUNC, default="sum", options=AGG_FUNC_OPTIONS),
    Param("alignToFrom", ParamType.BOOLEAN, default=False)])
def summarize(ctx: Context, seriesList: SeriesList, intervalString: str, func: str = "sum",
              alignToFrom: bool = False) -> SeriesList:
    """Buckets of `intervalString`, each reduced by `func`. Buckets sit on multiples of
    the interval since the epoch (UTC days for "1d"), or start at each series' start
    with `alignToFrom`."""
    interval = interval_seconds(intervalString, "summarize")
    check_agg_func(func)
    out = []
    for s in seriesList:
        if alignToFrom:
            new_start, new_end = s.start, s.end
        else:
            new_start = s.start - s.start % interval
            new_end = s.end - s.end % interval + interval
        values = summarize_values(s, func, interval, new_start, new_end)
        suffix = ", true" if alignToFrom else ""
        name = f'summarize({s.name}, "{intervalString}", "{func}"{suffix})'
        out.append(derived(s, name, values, start=new_start, step=interval,
                           tags={"summarize": intervalString, "summarizeFunction": func}))
    return out


def hitcount_values(values: np.ndarray, start: int, step: int, new_start: int,
                    interval: int, buckets: int) -> np.ndarray:
    """Spreads each point's `value * seconds` over the buckets its step overlaps (the
    part past the last bucket is dropped); a bucket nothing reached is null. Pieces are
    summed per bucket in point order, as graphite-web adds them."""
    present = np.flatnonzero(~np.isnan(values))
    if buckets <= 0:
        return np.full(0, np.nan)
    if len(present) == 0:
        return np.full(buckets, np.nan)
    value = values[present]
    first_time = start + present.astype(np.int64) * step
    first_bucket, first_mod = np.divmod(first_time - new_start, interval)
    last_bucket, last_mod = np.divmod(first_time + step - new_start, interval)
    clipped = last_bucket >= buckets
    last_bucket[clipped] = buckets - 1
    last_mod[clipped] = interval
    single = first_bucket == last_bucket
    pieces = np.where(single, 1, last_bucket - first_bucket + (last_mod > 0))
    owner = np.repeat(np.arange(len(present)), pieces)
    rank = np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    bucket = first_bucket[owner] + rank
    v = value[owner]
    weight = np.where(
        single[owner], v * (last_mod - first_mod)[owner],
        np.where(rank == 0, v * (interval - first_mod[owner]),
                 np.where(bucket == last_bucket[owner], v * last_mod[owner], v * interval)))
    valid = (bucket >= 0) & (bucket < buckets)
    sums = np.bincount(bucket[valid], weights=weight[valid], minlength=buckets)
    counts = np.bincount(bucket[valid], minlength=buckets)
    return np.where(counts > 0, sums, np.nan)


def _truncate_start(start: int, interval: int, tz: Any) -> int:
    """The request start truncated to the day, hour or minute (by interval size) in the
    request's time zone: where hitcount's aligned buckets begin."""
    when = datetime.fromtimestamp(start, tz)
    if interval >= 86400:
        when = when.replace(hour=0, minute=0, second=0, microsecond=0)
    elif interval >= 3600:
        when = when.replace(minute=0, second=0, microsecond=0)
    elif interval >= 60:
        when = when.replace(second=0, microsecond=0)
    return int(when.timestamp())


@series_function("hitcount", GROUP, [
    SERIES_LIST,
    Param("intervalString", ParamType.INTERVAL, required=True,
          suggestions=INTERVAL_SUGGESTIONS),
    Param("alignToInterval", ParamType.BOOLEAN, default=False)])
def hitcount(ctx: Context, seriesList: SeriesList, intervalString: str,
             alignToInterval: bool = False) -> SeriesList:
    """Reads values as hits per second and counts hits per interval, splitting a point
    across bucket boundaries. Buckets end at the series end, or with `alignToInterval`
    start at the request start truncated to the day/hour/minute (data re-fetched)."""
    interval = interval_seconds(intervalString, "hitcount")
    if alignToInterval:
        seriesList = ctx.refetch(0, _truncate_start(ctx.start, interval, ctx.tz), ctx.end)
    out = []
    for s in seriesList:
        end = s.end
        if alignToInterval:
            end = s.start + ((s.end - s.start) // interval) * interval + interval
        buckets = -(-(end - s.start) // interval)
        new_start = end - buckets * interval
        values = hitcount_values(s.values, s.start, s.step, new_start, interval, buckets)
        suffix = ", true" if alignToInterval else ""
        out.append(derived(s, f'hitcount({s.name}, "{intervalString}"{suffix})', values,
                           start=new_start, step=interval,
                           tags={"hitcount": intervalString}))
    return out


# --- time shift ------------------------------------------------------------------------


def _in_dst(timestamp: int, tz: Any) -> bool:
    return bool(datetime.fromtimestamp(timestamp, tz).dst())


def dst_correction(start: int, end: int, shifted_start: int, shifted_end: int,
                   tz: Any) -> int:
    """Seconds to add to a shifted window so that wall-clock hours line up when the
    request lies wholly inside DST and the shifted window wholly outside (or the
    reverse); mixed windows are left alone."""
    request = (_in_dst(start, tz), _in_dst(end, tz))
    shifted = (_in_dst(shifted_start, tz), _in_dst(shifted_end, tz))
    if all(request) and not any(shifted):
        return 3600
    if not any(request) and all(shifted):
        return -3600
    return 0


@series_function("timeShift", GROUP, [
    SERIES_LIST,
    Param("timeShift", ParamType.INTERVAL, required=True, suggestions=SHIFT_SUGGESTIONS),
    Param("resetEnd", ParamType.BOOLEAN, default=True),
    Param("alignDst", ParamType.BOOLEAN, default=False)])
def time_shift(ctx: Context, seriesList: SeriesList, timeShift: str, resetEnd: bool = True,
               alignDst: bool = False, alignDST: bool | None = None) -> SeriesList:
    """The same target over an earlier (unsigned or "-") or later ("+") window, drawn
    on the requested one. With `resetEnd` it stops where the unshifted series stops.
    (graphite-web publishes the flag as `alignDst` but its Python keyword is
    `alignDST`; both are accepted.)"""
    if not isinstance(timeShift, str) or not timeShift:
        raise InputError(f"timeShift: invalid shift {timeShift!r}")
    if not seriesList:
        return []
    shift = "-" + timeShift if timeShift[0].isdigit() else timeShift
    delta = parse_offset(shift)
    start, end = ctx.start + delta, ctx.end + delta
    align = alignDst if alignDST is None else alignDST
    if align:
        correction = dst_correction(ctx.start, ctx.end, start, end, ctx.tz)
        start, end = start + correction, end + correction
    reference = seriesList[0]
    out = []
    for s in ctx.refetch(0, start, end):
        values = s.values.copy()
        if resetEnd:
            values = values[:max(0, -(-(reference.end - reference.start) // s.step))]
        out.append(derived(s, f'timeShift({s.name}, "{shift}")', values,
                           start=reference.start, path_expression=s.path_expression,
                           tags={"timeShift": shift}))
    return out
