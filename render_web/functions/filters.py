"""graphite-web's "Filter Series", "Filter Data" and "Sorting" functions.

Series are ranked by one number each (an aggregation function over the whole series);
graphite-web ranks a series whose number is None below every other (-inf), and its sorts
are stable, so ties keep their input order. Filtering series never changes them; the
Filter Data functions return renamed copies.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence

import numpy as np

from render_web.functions.combine import (
    AGG_FUNC_OPTIONS,
    check_agg_func,
    row_percentiles,
    series_value,
)
from render_web.functions.common import format_number
from render_web.functions.registry import Context, InputError, Param, ParamType, series_function
from render_web.series import TimeSeries

FILTER_SERIES = "Filter Series"
FILTER_DATA = "Filter Data"
SORTING = "Sorting"

SERIES_LIST = Param("seriesList", ParamType.SERIES_LIST, required=True)
N_INTEGER = Param("n", ParamType.INTEGER, required=True)
N_FLOAT = Param("n", ParamType.FLOAT, required=True)

SeriesList = list[TimeSeries]


def sort_key(func: str) -> Callable[[TimeSeries], float]:
    """The series' `func` value, None (NaN) ranking as -inf."""
    check_agg_func(func)

    def key(series: TimeSeries) -> float:
        value = series_value(series, func)
        return -math.inf if math.isnan(value) else value
    return key


# --- Filter Series --------------------------------------------------------------------

@series_function("highest", FILTER_SERIES, [
    SERIES_LIST, N_INTEGER,
    Param("func", ParamType.AGG_FUNC, default="average", options=AGG_FUNC_OPTIONS),
])
def highest(ctx: Context, seriesList: Sequence[TimeSeries], n: int = 1,
            func: str = "average") -> SeriesList:
    """The n series with the largest `func` value over the window."""
    return sorted(seriesList, key=sort_key(func), reverse=True)[:int(n)]


@series_function("lowest", FILTER_SERIES, [
    SERIES_LIST, N_INTEGER,
    Param("func", ParamType.AGG_FUNC, default="average", options=AGG_FUNC_OPTIONS),
])
def lowest(ctx: Context, seriesList: Sequence[TimeSeries], n: int = 1,
           func: str = "average") -> SeriesList:
    """The n series with the smallest `func` value over the window (all-null series
    count as the smallest)."""
    return sorted(seriesList, key=sort_key(func))[:int(n)]


@series_function("highestCurrent", FILTER_SERIES, [SERIES_LIST, N_INTEGER])
def highest_current(ctx: Context, seriesList: Sequence[TimeSeries], n: int) -> SeriesList:
    """The n series whose last non-null value is largest."""
    return highest(ctx, seriesList, n, "current")


@series_function("highestAverage", FILTER_SERIES, [SERIES_LIST, N_INTEGER])
def highest_average(ctx: Context, seriesList: Sequence[TimeSeries], n: int) -> SeriesList:
    """The n series with the largest average."""
    return highest(ctx, seriesList, n, "average")


@series_function("highestMax", FILTER_SERIES, [SERIES_LIST, N_INTEGER])
def highest_max(ctx: Context, seriesList: Sequence[TimeSeries], n: int) -> SeriesList:
    """The n series with the largest peak."""
    return highest(ctx, seriesList, n, "max")


@series_function("lowestCurrent", FILTER_SERIES, [SERIES_LIST, N_INTEGER])
def lowest_current(ctx: Context, seriesList: Sequence[TimeSeries], n: int) -> SeriesList:
    """The n series whose last non-null value is smallest."""
    return lowest(ctx, seriesList, n, "current")


@series_function("lowestAverage", FILTER_SERIES, [SERIES_LIST, N_INTEGER])
def lowest_average(ctx: Context, seriesList: Sequence[TimeSeries], n: int) -> SeriesList:
    """The n series with the smallest average."""
    return lowest(ctx, seriesList, n, "average")


@series_function("limit", FILTER_SERIES, [SERIES_LIST, N_INTEGER])
def limit(ctx: Context, seriesList: Sequence[TimeSeries], n: int) -> SeriesList:
    """The first n series, in the order given."""
    return list(seriesList[0:int(n)])


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise InputError(f"invalid regular expression {pattern!r}: {error}") from None


@series_function("exclude", FILTER_SERIES, [
    SERIES_LIST, Param("pattern", ParamType.STRING, required=True),
])
def exclude(ctx: Context, seriesList: Sequence[TimeSeries], pattern: str) -> SeriesList:
    """Drop the series whose name matches the regular expression anywhere."""
    regex = _compile(pattern)
    return [s for s in seriesList if not regex.search(s.name)]


@series_function("grep", FILTER_SERIES, [
    SERIES_LIST, Param("pattern", ParamType.STRING, required=True),
])
def grep(ctx: Context, seriesList: Sequence[TimeSeries], pattern: str) -> SeriesList:
    """Keep only the series whose name matches the regular expression anywhere."""
    regex = _compile(pattern)
    return [s for s in seriesList if regex.search(s.name)]


def _nullable(compare: Callable[[float, float], bool], null_passes: bool
              ) -> Callable[[float, float], bool]:
    def test(value: float, threshold: float) -> bool:
        return null_passes if math.isnan(value) else compare(value, threshold)
    return test


# graphite-web counts a null value as passing "!=", "<" and "<=" and failing the others.
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "!=": _nullable(operator.ne, True),
    "<": _nullable(operator.lt, True),
    "<=": _nullable(operator.le, True),
    "=": _nullable(operator.eq, False),
    ">": _nullable(operator.gt, False),
    ">=": _nullable(operator.ge, False),
}


@series_function("filterSeries", FILTER_SERIES, [
    SERIES_LIST,
    Param("func", ParamType.AGG_FUNC, required=True, options=AGG_FUNC_OPTIONS),
    Param("operator", ParamType.STRING, required=True, options=tuple(OPERATORS)),
    Param("threshold", ParamType.FLOAT, required=True),
])
def filter_series(ctx: Context, seriesList: Sequence[TimeSeries], func: str,
                  operator: str, threshold: float) -> SeriesList:
    """Keep the series whose `func` value compares to `threshold` as `operator` says."""
    check_agg_func(func)
    if operator not in OPERATORS:
        raise InputError(f"Unsupported operator: {operator}")
    test = OPERATORS[operator]
    return [s for s in seriesList if test(series_value(s, func), threshold)]


def _threshold_filter(name: str, func: str, op: str, doc: str) -> Callable[..., SeriesList]:
    def apply(ctx: Context, seriesList: Sequence[TimeSeries], n: float) -> SeriesList:
        return filter_series(ctx, seriesList, func, op, n)
    apply.__doc__ = doc
    apply.__name__ = apply.__qualname__ = name
    return series_function(name, FILTER_SERIES, [SERIES_LIST, N_FLOAT])(apply)


average_above = _threshold_filter(
    "averageAbove", "average", ">", "Keep the series whose average is above n.")
average_below = _threshold_filter(
    "averageBelow", "average", "<=", "Keep the series whose average is at most n.")
current_above = _threshold_filter(
    "currentAbove", "last", ">", "Keep the series whose last value is above n.")
current_below = _threshold_filter(
    "currentBelow", "last", "<=", "Keep the series whose last value is at most n.")
maximum_above = _threshold_filter(
    "maximumAbove", "max", ">", "Keep the series whose peak is above n.")
maximum_below = _threshold_filter(
    "maximumBelow", "max", "<=", "Keep the series whose peak is at most n.")
minimum_above = _threshold_filter(
    "minimumAbove", "min", ">", "Keep the series whose lowest value is above n.")
minimum_below = _threshold_filter(
    "minimumBelow", "min", "<=", "Keep the series whose lowest value is at most n.")


@series_function("removeEmptySeries", FILTER_SERIES, [
    SERIES_LIST, Param("xFilesFactor", ParamType.FLOAT, default=None),
])
def remove_empty_series(ctx: Context, seriesList: Sequence[TimeSeries],
                        xFilesFactor: float | None = None) -> SeriesList:
    """Drop the series without enough non-null values (by default: without any); the
    request's xFilesFactor is deliberately not used, as in graphite-web."""
    xff = 0.0 if xFilesFactor is None else xFilesFactor
    kept = []
    for series in seriesList:
        present = int(np.count_nonzero(~np.isnan(series.values)))
        if present and present / len(series) >= xff:
            kept.append(series)
    return kept


@series_function("unique", FILTER_SERIES, [
    Param("seriesLists", ParamType.SERIES_LIST, required=True, multiple=True),
])
def unique(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """The series of all lists, each name only once (the first one wins)."""
    seen: dict[str, TimeSeries] = {}
    for series_list in seriesLists:
        for series in series_list:
            seen.setdefault(series.name, series)
    return list(seen.values())


@series_function("mostDeviant", FILTER_SERIES, [SERIES_LIST, N_INTEGER])
def most_deviant(ctx: Context, seriesList: Sequence[TimeSeries], n: int) -> SeriesList:
    """The n series with the largest variance; all-null series are left out."""
    ranked = []
    for series in seriesList:
        values = series.values[~np.isnan(series.values)]
        if len(values):
            ranked.append((float(np.mean((values - values.mean()) ** 2)), series))
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    return [series for _, series in ranked][:int(n)]


def _percentile_band(n: float) -> float:
    return 100 - n if n < 50 else n


@series_function("averageOutsidePercentile", FILTER_SERIES, [SERIES_LIST, N_FLOAT])
def average_outside_percentile(ctx: Context, seriesList: Sequence[TimeSeries], n: float
                               ) -> SeriesList:
    """Keep the series whose average is not strictly between the (100-n)th and n-th
    percentiles of all the averages."""
    n = _percentile_band(n)
    averages = np.array([series_value(s, "average") for s in seriesList])
    low = row_percentiles(averages[None, :], 100 - n)[0]
    high = row_percentiles(averages[None, :], n)[0]
    with np.errstate(invalid="ignore"):
        inside = (low < averages) & (averages < high)
    return [s for s, drop in zip(seriesList, inside, strict=True) if not drop]


@series_function("removeBetweenPercentile", FILTER_SERIES, [SERIES_LIST, N_FLOAT])
def remove_between_percentile(ctx: Context, seriesList: Sequence[TimeSeries], n: float
                              ) -> SeriesList:
    """Keep the series that at some point leave the band between the (100-n)th and n-th
    percentiles of all the series' values at that point."""
    if not seriesList:
        return []
    n = _percentile_band(n)
    width = min(len(s) for s in seriesList)
    matrix = np.array([s.values[:width] for s in seriesList])
    low = row_percentiles(matrix.T, 100 - n)
    high = row_percentiles(matrix.T, n)
    with np.errstate(invalid="ignore"):
        inside = (low < matrix) & (matrix < high)
    return [s for s, row in zip(seriesList, inside, strict=True) if not row.all()]


# --- Filter Data ----------------------------------------------------------------------

def _renamed(series: TimeSeries, name: str, values: np.ndarray) -> TimeSeries:
    return series.copy(name=name, path_expression=name, values=values)


@series_function("removeAboveValue", FILTER_DATA, [SERIES_LIST, N_FLOAT])
def remove_above_value(ctx: Context, seriesList: Sequence[TimeSeries], n: float
                       ) -> SeriesList:
    """Null out the points above n."""
    return [_renamed(s, f"removeAboveValue({s.name}, {format_number(n)})",
                     np.where(s.values > n, np.nan, s.values))
            for s in seriesList]


@series_function("removeBelowValue", FILTER_DATA, [SERIES_LIST, N_FLOAT])
def remove_below_value(ctx: Context, seriesList: Sequence[TimeSeries], n: float
                       ) -> SeriesList:
    """Null out the points below n."""
    return [_renamed(s, f"removeBelowValue({s.name}, {format_number(n)})",
                     np.where(s.values < n, np.nan, s.values))
            for s in seriesList]


def _series_percentile(series: TimeSeries, n: float) -> float:
    return float(row_percentiles(series.values[None, :], n)[0])


@series_function("removeAbovePercentile", FILTER_DATA, [SERIES_LIST, N_FLOAT])
def remove_above_percentile(ctx: Context, seriesList: Sequence[TimeSeries], n: float
                            ) -> SeriesList:
    """Null out the points above the series' own n-th percentile."""
    results = []
    for s in seriesList:
        cut = _series_percentile(s, n)
        values = s.values if math.isnan(cut) else np.where(s.values > cut, np.nan, s.values)
        results.append(_renamed(s, f"removeAbovePercentile({s.name}, {format_number(n)})",
                                values.copy()))
    return results


@series_function("removeBelowPercentile", FILTER_DATA, [SERIES_LIST, N_FLOAT])
def remove_below_percentile(ctx: Context, seriesList: Sequence[TimeSeries], n: float
                            ) -> SeriesList:
    """Null out the points below the series' own n-th percentile."""
    results = []
    for s in seriesList:
        cut = _series_percentile(s, n)
        values = s.values if math.isnan(cut) else np.where(s.values < cut, np.nan, s.values)
        results.append(_renamed(s, f"removeBelowPercentile({s.name}, {format_number(n)})",
                                values.copy()))
    return results


# --- Sorting --------------------------------------------------------------------------

@series_function("sortBy", SORTING, [
    SERIES_LIST,
    Param("func", ParamType.AGG_FUNC, default="average", options=AGG_FUNC_OPTIONS),
    Param("reverse", ParamType.BOOLEAN, default=False),
])
def sort_by(ctx: Context, seriesList: Sequence[TimeSeries], func: str = "average",
            reverse: bool = False) -> SeriesList:
    """The series in ascending order of their `func` value (descending with
    `reverse`)."""
    return sorted(seriesList, key=sort_key(func), reverse=bool(reverse))


@series_function("sortByMaxima", SORTING, [SERIES_LIST])
def sort_by_maxima(ctx: Context, seriesList: Sequence[TimeSeries]) -> SeriesList:
    """The series by peak value, highest first."""
    return sorted(seriesList, key=sort_key("max"), reverse=True)


@series_function("sortByTotal", SORTING, [SERIES_LIST])
def sort_by_total(ctx: Context, seriesList: Sequence[TimeSeries]) -> SeriesList:
    """The series by the sum of their values, largest first."""
    return sort_by(ctx, seriesList, "sum", reverse=True)


@series_function("sortByMinima", SORTING, [SERIES_LIST])
def sort_by_minima(ctx: Context, seriesList: Sequence[TimeSeries]) -> SeriesList:
    """The series that rise above 0 somewhere, by lowest value, lowest first."""
    positive = [s for s in seriesList if series_value(s, "max") > 0]
    return sorted(positive, key=sort_key("min"))


def natural_key(name: str) -> str:
    """The name with every run of digits zero-padded to ten places, so that `server2`
    sorts before `server10`."""
    return re.sub(r"\d+", lambda match: f"{int(match.group(0)):010}", name)


@series_function("sortByName", SORTING, [
    SERIES_LIST,
    Param("natural", ParamType.BOOLEAN, default=False),
    Param("reverse", ParamType.BOOLEAN, default=False),
])
def sort_by_name(ctx: Context, seriesList: Sequence[TimeSeries], natural: bool = False,
                 reverse: bool = False) -> SeriesList:
    """The series by name, alphabetically or naturally (numbers by value)."""
    if natural:
        return sorted(seriesList, key=lambda s: natural_key(s.name), reverse=bool(reverse))
    return sorted(seriesList, key=lambda s: s.name, reverse=bool(reverse))

