"""graphite-web's "Transform" functions: per-point arithmetic, differences, time buckets
and time shifts.

Every function returns new series and leaves its input alone. Like graphite-web, a
renamed series keeps its `name` tag (the metric it came from) and gains a tag named after
the function; the path expression becomes the new name except where graphite-web keeps
the fetched one (timeShift).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from render_web.attime import localize, parse_attime, parse_offset, to_epoch
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


def _day_shift(ctx: Context, moment: int) -> int:
    """Seconds the request's time zone is ahead of UTC at `moment`."""
    offset = datetime.fromtimestamp(moment, ctx.tz).utcoffset()
    return int(offset.total_seconds()) if offset else 0


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
    the interval since the epoch, or start at each series' start with `alignToFrom`.

    On purpose unlike graphite-web (a known complaint, graphite-web#1207/#2663): buckets
    of whole days start at midnight in the request's time zone (its UTC offset at the
    series' start), not at midnight UTC; in UTC the two are the same."""
    interval = interval_seconds(intervalString, "summarize")
    check_agg_func(func)
    out = []
    for s in seriesList:
        if alignToFrom:
            new_start, new_end = s.start, s.end
        else:
            shift = _day_shift(ctx, s.start) if interval % 86400 == 0 else 0
            new_start = s.start - (s.start + shift) % interval
            new_end = s.end - (s.end + shift) % interval + interval
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


# --- more point-wise arithmetic (issue 8) ----------------------------------------------


def _finite_or_null(values: np.ndarray) -> np.ndarray:
    """graphite's math raises on overflow, poles and complex results and answers None
    (or fails); numpy gives inf or NaN, all of which become null here."""
    return np.where(np.isfinite(values), values, np.nan)


def _math(values: np.ndarray, func: Any) -> np.ndarray:
    with np.errstate(all="ignore"):
        return _finite_or_null(func(values))


@series_function("add", GROUP, [SERIES_LIST, Param("constant", ParamType.FLOAT, required=True)])
def add(ctx: Context, seriesList: SeriesList, constant: float) -> SeriesList:
    """Adds a constant to every value; graphite names it with the constant truncated to
    an integer (`add(x,2)` for 2.5), which is kept for compatibility."""
    return [derived(s, f"add({s.name},{int(constant)})", s.values + constant,
                    tags={"add": constant}) for s in seriesList]


@series_function("exp", GROUP, [SERIES_LIST])
def exp(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """e to the power of every value. An overflow is null (graphite-web fails the whole
    request with a 500 there)."""
    return [derived(s, f"exp({s.name})", _math(s.values, np.exp), tags={"exp": "e"})
            for s in seriesList]


@series_function("pow", GROUP, [SERIES_LIST, Param("factor", ParamType.FLOAT, required=True)])
def pow_(ctx: Context, seriesList: SeriesList, factor: float) -> SeriesList:
    """Every value raised to `factor`; undefined or overflowing results are null."""
    return [derived(s, f"pow({s.name},{format_number(float(factor))})",
                    _math(s.values, lambda v: np.power(v, float(factor))),
                    tags={"pow": factor}) for s in seriesList]


@series_function("squareRoot", GROUP, [SERIES_LIST])
def square_root(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """The square root of every value; negative values give null."""
    return [derived(s, f"squareRoot({s.name})", _math(s.values, lambda v: np.power(v, 0.5)),
                    tags={"squareRoot": 1}) for s in seriesList]


@series_function("invert", GROUP, [SERIES_LIST])
def invert(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """1/x for every value; zero gives null."""
    return [derived(s, f"invert({s.name})", _math(s.values, lambda v: np.power(v, -1.0)),
                    tags={"invert": 1}) for s in seriesList]


@series_function("sigmoid", GROUP, [SERIES_LIST])
def sigmoid(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """1 / (1 + e^-x) of every value, squashing it into (0, 1). Very negative values give
    0 (graphite-web fails with a 500 on the overflow)."""
    with np.errstate(all="ignore"):
        return [derived(s, f"sigmoid({s.name})", 1 / (1 + np.exp(-s.values)),
                        tags={"sigmoid": "sigmoid"}) for s in seriesList]


@series_function("logit", GROUP, [SERIES_LIST])
def logit(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """log(x / (1 - x)), the inverse of sigmoid; values outside (0, 1) give null."""
    out = []
    for s in seriesList:
        inside = (s.values > 0) & (s.values < 1)
        with np.errstate(all="ignore"):
            values = np.where(inside, np.log(s.values / (1 - s.values)), np.nan)
        out.append(derived(s, f"logit({s.name})", values, tags={"logit": "logit"}))
    return out


@series_function("log", GROUP, [SERIES_LIST, Param("base", ParamType.INTEGER, default=10)])
def logarithm(ctx: Context, seriesList: SeriesList, base: int = 10) -> SeriesList:
    """The logarithm of every value in `base`; zero and negative values give null. A base
    of 1 or less is refused (graphite-web answers a 500)."""
    if base is None or base <= 0 or base == 1:
        raise InputError(f"log: base must be positive and not 1, got {base!r}")
    out = []
    for s in seriesList:
        with np.errstate(all="ignore"):
            values = np.where(s.values > 0, np.log(s.values) / math.log(base), np.nan)
        out.append(derived(s, f"log({s.name}, {base})", values, tags={"log": base}))
    return out


@series_function("round", GROUP, [SERIES_LIST, Param("precision", ParamType.INTEGER, default=0)])
def round_(ctx: Context, seriesList: SeriesList, precision: int | None = None) -> SeriesList:
    """Every value rounded to `precision` decimals (half to even, negative precision
    rounds to tens, hundreds...). The name shows the precision only when given."""
    digits = int(precision or 0)
    out = []
    for s in seriesList:
        name = f"round({s.name})" if precision is None else f"round({s.name},{int(precision)})"
        # Python's round, as graphite's: it rounds the exact binary value (1.85 is a hair
        # above, so 1.9), where numpy rounds the scaled product (18.5, so 1.8).
        values = np.array([round(v, digits) for v in s.values.tolist()], dtype=np.float64)
        out.append(derived(s, name, values, tags={"round": digits}))
    return out


@series_function("offsetToZero", GROUP, [SERIES_LIST])
def offset_to_zero(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """Subtracts each series' minimum, so series at different levels compare by shape."""
    out = []
    for s in seriesList:
        present = s.values[~np.isnan(s.values)]
        minimum = float(present.min()) if len(present) else None
        values = s.values - minimum if minimum is not None else s.values.copy()
        out.append(derived(s, f"offsetToZero({s.name})", values,
                           tags={"offsetToZero": minimum}))
    return out


@series_function("minMax", GROUP, [SERIES_LIST])
def min_max(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """Scales each series to [0, 1] between its own minimum and maximum (all 0 when the
    series is flat)."""
    out = []
    for s in seriesList:
        present = s.values[~np.isnan(s.values)]
        low = float(present.min()) if len(present) else 0.0
        high = float(present.max()) if len(present) else 0.0
        if high == low:
            values = np.where(np.isnan(s.values), np.nan, 0.0)
        else:
            values = (s.values - low) / (high - low)
        name = f"minMax({s.name})"
        out.append(s.copy(name=name, path_expression=name, values=values))
    return out


@series_function("isNonNull", GROUP, [SERIES_LIST])
def is_non_null(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """1 where a series has a value, 0 where it is null (sum them to count live series)."""
    return [derived(s, f"isNonNull({s.name})", (~np.isnan(s.values)).astype(np.float64),
                    tags={"isNonNull": 1}) for s in seriesList]


# --- shifting, gaps and running totals --------------------------------------------------


@series_function("delay", GROUP, [SERIES_LIST, Param("steps", ParamType.INTEGER, required=True)])
def delay(ctx: Context, seriesList: SeriesList, steps: int) -> SeriesList:
    """Moves every value `steps` points later (earlier when negative), padding with
    nulls; the timestamps stay. `delay(x,0)` is the series itself (graphite-web 1.1.10
    returns an empty series there, a slicing slip)."""
    steps = int(steps)
    out = []
    for s in seriesList:
        values = np.full(len(s), np.nan)
        shift = min(abs(steps), len(s))
        if steps >= 0:
            values[shift:] = s.values[:len(s) - shift]
        else:
            values[:len(s) - shift] = s.values[shift:]
        out.append(derived(s, f"delay({s.name},{steps})", values, tags={"delay": steps}))
    return out


def interpolate_gaps(values: np.ndarray, limit: float) -> np.ndarray:
    """Runs of at most `limit` nulls with a value on both sides become the straight line
    between those values; leading and trailing runs stay null."""
    out = values.copy()
    missing = np.isnan(out)
    if not missing.any():
        return out
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)          # index of the value after each run
    lengths = ends - starts
    fill = (starts > 0) & (ends < len(out)) & (lengths <= limit)
    starts, ends, lengths = starts[fill], ends[fill], lengths[fill]
    if not len(starts):
        return out
    index = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])
    before = np.repeat(starts - 1, lengths)
    after = np.repeat(ends, lengths)
    prev, nxt = out[before], out[after]
    # The same operations, in the same order, as graphite-web's loop.
    out[index] = prev + (index - before) * (nxt - prev) / np.repeat(lengths + 1, lengths)
    return out


@series_function("interpolate", GROUP,
                 [SERIES_LIST, Param("limit", ParamType.INT_OR_INF, default=math.inf)])
def interpolate(ctx: Context, seriesList: SeriesList, limit: float = math.inf) -> SeriesList:
    """Bridges gaps of at most `limit` nulls with a straight line between the values
    around them (keepLastValue draws a step instead)."""
    limit = math.inf if limit is None else limit
    out = []
    for s in seriesList:
        name = f"interpolate({s.name})"
        out.append(s.copy(name=name, path_expression=name,
                          values=interpolate_gaps(s.values, limit)))
    return out


@series_function("integralByInterval", GROUP, [
    SERIES_LIST, Param("intervalUnit", ParamType.STRING, required=True)])
def integral_by_interval(ctx: Context, seriesList: SeriesList, intervalUnit: str
                         ) -> SeriesList:
    """A running total that restarts at 0 every `intervalUnit`, counted from the request
    start (totals per hour, per day...). Nulls repeat the running total."""
    interval = abs(parse_offset(intervalUnit)) if isinstance(intervalUnit, str) else 0
    if interval <= 0:
        raise InputError(f"integralByInterval: invalid interval {intervalUnit!r}")
    out = []
    for s in seriesList:
        offsets = s.timestamps() - ctx.start
        resets = offsets // interval != (offsets - s.step) // interval
        resets[:1] = True
        values = np.where(np.isnan(s.values), 0.0, s.values)
        bounds = np.flatnonzero(resets)
        totals = np.concatenate([np.cumsum(part) for part in np.split(values, bounds[1:])]) \
            if len(values) else values
        out.append(derived(s, f"integralByInterval({s.name},'{intervalUnit}')", totals,
                           tags={"integralByInterval": intervalUnit}))
    return out


def compress_periodic_gaps(series: TimeSeries, name: str) -> TimeSeries:
    """graphite-web's guess of a periodic step: the distance between the first two
    values (a zero counts as missing, and a value at index 0 is skipped over), accepted
    when the value one guess further on is there and has nulls on both sides."""
    present = np.flatnonzero(np.nan_to_num(series.values, nan=0.0) != 0)
    first = second = 0
    if len(present):
        rest = present[present > 0] if present[0] == 0 else present
        if len(rest) >= 2:
            first, second = int(rest[0]), int(rest[1])
    guess = second - first
    third = second + guess
    values = series.values
    interval = 0
    if guess > 1 and third <= len(values) - 2 and values[third] and not np.isnan(values[third]) \
            and np.isnan(values[third - 1]) and np.isnan(values[third + 1]):
        interval = guess * series.step
    if not interval:
        return series.copy(name=name, path_expression=name)
    new_start = series.start + first * series.step
    new_values = summarize_values(series, "last", interval, new_start, series.end)
    return series.copy(name=name, path_expression=name, start=new_start, step=interval,
                       values=new_values)


@series_function("compressPeriodicGaps", GROUP, [SERIES_LIST])
def compress_periodic_gaps_function(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """Re-steps a series that only has a value every N points (a metric written less
    often than its retention), so that derivatives see consecutive values."""
    return [compress_periodic_gaps(s, f"compressPeriodicGaps({s.name})") for s in seriesList]


# --- time windows ----------------------------------------------------------------------


def at_time(ctx: Context, value: Any) -> int:
    """A `date` argument (`"-1h"`, `"20231114"`, an epoch) as epoch seconds, read in the
    request's time zone and relative to its `now` (graphite-web uses the server zone
    and the wall clock here, so relative times ignore `now=`)."""
    now = datetime.fromtimestamp(ctx.now, ctx.tz)
    return to_epoch(parse_attime(str(value), ctx.tz, now))


@series_function("timeSlice", GROUP, [
    SERIES_LIST, Param("startSliceAt", ParamType.DATE, required=True),
    Param("endSliceAt", ParamType.DATE, default="now")])
def time_slice(ctx: Context, seriesList: SeriesList, startSliceAt: Any,
               endSliceAt: Any = "now") -> SeriesList:
    """Nulls every point outside [startSliceAt, endSliceAt]. As in graphite-web, point i
    is placed at request start + i*step for the comparison."""
    start, end = at_time(ctx, startSliceAt), at_time(ctx, endSliceAt)
    out = []
    for s in seriesList:
        when = ctx.start + s.step * np.arange(len(s), dtype=np.int64)
        values = np.where((when >= start) & (when <= end), s.values, np.nan)
        out.append(derived(s, f"timeSlice({s.name}, {start}, {end})", values,
                           path_expression=s.path_expression,
                           tags={"timeSliceStart": start, "timeSliceEnd": end}))
    return out


@series_function("timeStack", GROUP, [
    SERIES_LIST,
    Param("timeShiftUnit", ParamType.INTERVAL, default="1d", suggestions=SHIFT_SUGGESTIONS),
    Param("timeShiftStart", ParamType.INTEGER, default=0),
    Param("timeShiftEnd", ParamType.INTEGER, default=7)])
def time_stack(ctx: Context, seriesList: SeriesList, timeShiftUnit: str = "1d",
               timeShiftStart: int = 0, timeShiftEnd: int = 7) -> SeriesList:
    """The target over the windows shifted by timeShiftStart..timeShiftEnd-1 times
    `timeShiftUnit` (into the past unless signed "+"), all drawn on the requested window:
    this week's days on top of each other."""
    if not isinstance(timeShiftUnit, str) or not timeShiftUnit:
        raise InputError(f"timeStack: invalid timeShiftUnit {timeShiftUnit!r}")
    unit = "-" + timeShiftUnit if timeShiftUnit[0].isdigit() else timeShiftUnit
    delta = parse_offset(unit)
    if not seriesList:
        return []
    reference = seriesList[0]
    out = []
    for shift in range(int(timeShiftStart), int(timeShiftEnd)):
        moved = delta * shift
        for s in ctx.refetch(0, ctx.start + moved, ctx.end + moved):
            # graphite draws the shifted values from the first series' start to its end.
            values = s.values[:(reference.end - reference.start) // s.step + 1]
            name = f"timeShift({s.name}, {unit}, {shift})"
            out.append(derived(s, name, values, start=reference.start,
                               tags={"timeShiftUnit": unit, "timeShift": shift}))
    return out


def _aligned_start(ctx: Context, unit: str) -> int:
    """The request start truncated to the year, month, week (ISO weekday given by a
    trailing digit, Monday by default), day, hour, minute or second, in the request's
    time zone."""
    try:
        kind = next(name for prefix, name in (
            ("s", "seconds"), ("min", "minutes"), ("h", "hours"), ("d", "days"),
            ("w", "weeks"), ("mon", "months"), ("y", "years")) if unit.startswith(prefix))
    except StopIteration:
        raise InputError(f"smartSummarize: invalid alignTo {unit!r}") from None
    s = datetime.fromtimestamp(ctx.start, ctx.tz).replace(tzinfo=None)
    if kind == "years":
        wall = datetime(s.year, 1, 1)
    elif kind == "months":
        wall = datetime(s.year, s.month, 1)
    elif kind == "weeks":
        weekday = int(unit[-1]) if unit[-1].isdigit() else 1
        back = (s.isoweekday() - weekday) % 7
        wall = datetime(s.year, s.month, s.day) - timedelta(days=back)
    elif kind == "days":
        wall = datetime(s.year, s.month, s.day)
    elif kind == "hours":
        wall = datetime(s.year, s.month, s.day, s.hour)
    elif kind == "minutes":
        wall = datetime(s.year, s.month, s.day, s.hour, s.minute)
    else:
        wall = datetime(s.year, s.month, s.day, s.hour, s.minute, s.second)
    return to_epoch(localize(wall, ctx.tz))


@series_function("smartSummarize", GROUP, [
    SERIES_LIST,
    Param("intervalString", ParamType.INTERVAL, required=True,
          suggestions=INTERVAL_SUGGESTIONS),
    Param("func", ParamType.AGG_FUNC, default="sum", options=AGG_FUNC_OPTIONS),
    Param("alignTo", ParamType.STRING, options=(
        False, None, True, "days", "hours", "minutes", "months", "seconds", "weeks",
        "years"))])
def smart_summarize(ctx: Context, seriesList: SeriesList, intervalString: str,
                    func: str = "sum", alignTo: Any = None) -> SeriesList:
    """summarize with buckets starting at the series start, or with `alignTo` at the
    request start truncated to a calendar unit in the request's time zone (the data is
    fetched again from there). graphite-web builds the truncated time with pytz's zone
    as tzinfo, which puts it off by the zone's historic local mean time offset outside
    UTC; here it is the real local midnight/hour. A boolean alignTo is ignored."""
    interval = interval_seconds(intervalString, "smartSummarize")
    check_agg_func(func)
    if isinstance(alignTo, str):
        seriesList = ctx.refetch(0, _aligned_start(ctx, alignTo), ctx.end)
    out = []
    for s in seriesList:
        values = summarize_values(s, func, interval, s.start, s.end)
        name = f'smartSummarize({s.name}, "{intervalString}", "{func}")'
        out.append(derived(s, name, values, step=interval,
                           tags={"smartSummarize": intervalString,
                                 "smartSummarizeFunction": func}))
    return out


# --- series made from the clock --------------------------------------------------------


def _clock_points(ctx: Context, step: int) -> np.ndarray:
    if step is None or int(step) <= 0:
        raise InputError(f"step must be a positive number of seconds, got {step!r}")
    return np.arange(ctx.start, ctx.end, int(step), dtype=np.int64)


@series_function("timeFunction", GROUP, [
    Param("name", ParamType.STRING, required=True), Param("step", ParamType.INTEGER, default=60)],
    aliases=("time",))
def time_function(ctx: Context, name: str, step: int = 60) -> SeriesList:
    """A series whose value is its own timestamp, every `step` seconds from the request
    start. (graphite-web computes the values through the server's local zone, which is
    off by its UTC offset when that zone is not UTC; these are true epoch seconds.)"""
    points = _clock_points(ctx, step)
    return [TimeSeries(name, ctx.start, int(step), points.astype(np.float64),
                       x_files_factor=ctx.x_files_factor)]


@series_function("sinFunction", GROUP, [
    Param("name", ParamType.STRING, required=True),
    Param("amplitude", ParamType.INTEGER, default=1),
    Param("step", ParamType.INTEGER, default=60)], aliases=("sin",))
def sin_function(ctx: Context, name: str, amplitude: int = 1, step: int = 60) -> SeriesList:
    """A sine wave of the timestamp (in seconds) times `amplitude`, every `step`
    seconds: test data without storage."""
    points = _clock_points(ctx, step)
    return [TimeSeries(name, ctx.start, int(step), np.sin(points.astype(np.float64)) * amplitude,
                       x_files_factor=ctx.x_files_factor)]
