"""graphite-web's "Combine" functions: many series in, fewer series out.

Everything that reduces series point by point goes through `aggregate` (as graphite-web's
1.1 functions do), so the xFilesFactor rule, the naming and the tags are the same for
sumSeries, averageSeries, groupByNode and the rest. The reducers keep graphite's `None`
semantics (NaN here): see `reduce_rows`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from render_web.functions.aggfuncs import AGG_FUNCS
from render_web.functions.common import normalize
from render_web.functions.registry import Context, InputError, Param, ParamType, series_function
from render_web.series import TimeSeries

GROUP = "Combine"

AGG_FUNC_OPTIONS = tuple(sorted(AGG_FUNCS))

# graphite-web lists every aggregation function and every function marked as an
# aggregator as a valid groupByNode callback.
AGG_OR_SERIES_FUNC_OPTIONS = (
    "asPercent", "average", "averageSeries", "averageSeriesWithWildcards", "avg", "avg_zero",
    "count", "countSeries", "current", "diff", "diffSeries", "diffSeriesLists", "last", "max",
    "maxSeries", "median", "min", "minSeries", "multiply", "multiplySeries",
    "multiplySeriesLists", "multiplySeriesWithWildcards", "pct", "powSeries", "range",
    "rangeOf", "rangeOfSeries", "stddev", "stddevSeries", "sum", "sumSeries",
    "sumSeriesLists", "sumSeriesWithWildcards", "total",
)

SERIES_LISTS = Param("seriesLists", ParamType.SERIES_LIST, required=True, multiple=True)
SERIES_LIST = Param("seriesList", ParamType.SERIES_LIST, required=True)
POSITIONS = Param("position", ParamType.NODE, multiple=True)
FIRST_POS = Param("seriesListFirstPos", ParamType.SERIES_LIST, required=True)
SECOND_POS = Param("seriesListSecondPos", ParamType.SERIES_LIST, required=True)

SeriesList = list[TimeSeries]


# --- reducers -------------------------------------------------------------------------

def check_agg_func(func: str, raw: str | None = None) -> str:
    if func not in AGG_FUNCS:
        raise InputError(f"Unsupported aggregation function: {raw or func}")
    return func


def reduce_rows(matrix: np.ndarray, func: str) -> np.ndarray:
    """`func` over each row, with graphite's answers for rows of nulls: None for every
    function but `count` and `avg_zero` (0), and `multiply` is None as soon as one factor
    is (graphite's `safeMul`)."""
    matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    reducer = AGG_FUNCS[check_agg_func(func)]
    if matrix.shape[1] == 0:
        return np.full(matrix.shape[0], 0.0 if func == "count" else np.nan)
    present = ~np.isnan(matrix)
    count = present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = reducer(matrix)
    if func in ("count", "avg_zero"):
        return out
    keep = count > 0
    if func == "multiply":
        keep &= present.all(axis=1)
    return np.where(keep, out, np.nan)


def series_value(series: TimeSeries, func: str) -> float:
    """One number for a whole series (for sorting and filtering); NaN for graphite's
    None."""
    return float(reduce_rows(series.values[None, :], func)[0])


# --- naming and grouping helpers ------------------------------------------------------

def format_path_expressions(series_list: Sequence[TimeSeries]) -> str:
    """The distinct path expressions in order of first appearance, comma-joined: how
    graphite-web names an aggregate (it does not sort them)."""
    return ",".join(dict.fromkeys(s.path_expression for s in series_list))


_CALL_START = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\(\s*")
_SCALAR = re.compile(r"(?:-?\d+(?:\.\d+)?(?:e-?\d+)?|true|false|none|inf)\s*[,)]",
                     re.IGNORECASE)
_PATH_STOP = set("(),'\"|") | {" ", "\t"}


def first_path_expression(name: str) -> str | None:
    """The path inside the first argument of nested calls ("a.b" for
    `sumSeries(scale(a.b,2),c)`), or None when that argument is not a path."""
    position = 0
    while match := _CALL_START.match(name, position):
        position = match.end()
    if name[position:position + 1] in ("'", '"') or _SCALAR.match(name, position):
        return None
    depth = 0
    end = position
    while end < len(name):
        char = name[end]
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif char in _PATH_STOP and not (depth and char == ","):
            break
        end += 1
    return name[position:end] or None


def node_or_tag(series: TimeSeries, node: Any, path: str | None = None) -> str:
    """Path node `node` of the series (negative counts from the end) or, when `node` is
    not an integer or is out of range, the value of the tag of that name ('' if none)."""
    if isinstance(node, bool) or not isinstance(node, int | float) or node != int(node):
        return series.tags.get(str(node), "")
    parts = (path or series.name).split(";", 2)[0].split(".")
    try:
        return parts[int(node)]
    except IndexError:
        return series.tags.get(str(node), "")


def agg_key(series: TimeSeries, nodes: Sequence[Any]) -> str:
    """graphite-web's grouping key: the chosen nodes/tags joined by dots, read from the
    first path inside the name when the name is a function call."""
    path = first_path_expression(series.name) if series.name.endswith(")") else None
    return ".".join(node_or_tag(series, node, path) for node in nodes)


def group_by(series_list: Sequence[TimeSeries], key: Callable[[TimeSeries], str]
             ) -> dict[str, SeriesList]:
    """Series grouped by `key`, groups in order of first appearance."""
    groups: dict[str, SeriesList] = {}
    for series in series_list:
        groups.setdefault(key(series), []).append(series)
    return groups


def wildcard_key(series: TimeSeries, positions: Sequence[int]) -> str:
    """The name with the nodes at `positions` left out."""
    return ".".join(part for i, part in enumerate(series.name.split("."))
                    if i not in positions)


def common_tags(series_list: Sequence[TimeSeries]) -> dict[str, str]:
    tags = dict(series_list[0].tags)
    for series in series_list[1:]:
        tags = {k: v for k, v in tags.items() if k in series.tags and series.tags[k] == v}
    return tags


def new_series(ctx: Context, name: str, start: int, step: int, values: np.ndarray,
               **kwargs: Any) -> TimeSeries:
    """A fresh result series, as graphite-web's `TimeSeries(name, ...)` makes one."""
    return TimeSeries(name, int(start), int(step), values, path_expression=name,
                      x_files_factor=ctx.x_files_factor, **kwargs)


def _flatten(series_lists: Sequence[Sequence[TimeSeries]]) -> SeriesList:
    return [s for series_list in series_lists for s in series_list]


# --- aggregate and its aliases --------------------------------------------------------

@series_function("aggregate", GROUP, [
    SERIES_LIST,
    Param("func", ParamType.AGG_FUNC, required=True, options=AGG_FUNC_OPTIONS),
    Param("xFilesFactor", ParamType.FLOAT, default=None),
])
def aggregate(ctx: Context, seriesList: Sequence[TimeSeries], func: str,
              xFilesFactor: float | None = None) -> SeriesList:
    """Combine the series into one, point by point, with an aggregation function
    (`sumSeries` and friends are this with a fixed function)."""
    raw = func
    if func.endswith("Series"):
        func = func[:-6]
    check_agg_func(func, raw)
    series_list = list(seriesList)
    if not series_list:
        return []
    matrix, start, step = normalize(series_list)
    xff = ctx.x_files_factor if xFilesFactor is None else xFilesFactor
    rows = matrix.T
    count = (~np.isnan(rows)).sum(axis=1)
    keep = (count > 0) & (count / rows.shape[1] >= xff)
    values = np.where(keep, reduce_rows(rows, func), np.nan)
    name = f"{func}Series({format_path_expressions(series_list)})"
    tags = common_tags(series_list)
    tags.setdefault("name", name)
    tags["aggregatedBy"] = func
    return [TimeSeries(name, int(start), int(step), values, path_expression=name,
                       x_files_factor=xff, tags=tags)]


def _aggregate_lists(ctx: Context, series_lists: Sequence[Sequence[TimeSeries]], func: str
                     ) -> SeriesList:
    return aggregate(ctx, _flatten(series_lists), func)


@series_function("sumSeries", GROUP, [SERIES_LISTS], aliases=["sum"], aggregator=True)
def sum_series(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """Add the series together point by point."""
    return _aggregate_lists(ctx, seriesLists, "sum")


@series_function("averageSeries", GROUP, [SERIES_LISTS], aliases=["avg"], aggregator=True)
def average_series(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """Average of the series at each point, nulls left out."""
    return _aggregate_lists(ctx, seriesLists, "average")


@series_function("maxSeries", GROUP, [SERIES_LISTS], aggregator=True)
def max_series(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """Highest value among the series at each point."""
    return _aggregate_lists(ctx, seriesLists, "max")


@series_function("minSeries", GROUP, [SERIES_LISTS], aggregator=True)
def min_series(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """Lowest value among the series at each point."""
    return _aggregate_lists(ctx, seriesLists, "min")


@series_function("diffSeries", GROUP, [SERIES_LISTS], aggregator=True)
def diff_series(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """The first non-null value at each point minus the other non-null ones."""
    return _aggregate_lists(ctx, seriesLists, "diff")


@series_function("stddevSeries", GROUP, [SERIES_LISTS], aggregator=True)
def stddev_series(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """Population standard deviation across the series at each point."""
    return _aggregate_lists(ctx, seriesLists, "stddev")


@series_function("rangeOfSeries", GROUP, [SERIES_LISTS], aggregator=True)
def range_of_series(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """Spread (max - min) across the series at each point."""
    return _aggregate_lists(ctx, seriesLists, "rangeOf")


@series_function("multiplySeries", GROUP, [SERIES_LISTS], aggregator=True)
def multiply_series(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """Product of the series at each point (null if any factor is null); a lone series
    comes back untouched, as graphite-web has always done."""
    if len(seriesLists) == 1 and len(seriesLists[0]) == 1:
        return list(seriesLists[0])
    return _aggregate_lists(ctx, seriesLists, "multiply")


@series_function("countSeries", GROUP, [
    Param("seriesLists", ParamType.SERIES_LIST, multiple=True),
], aggregator=True)
def count_series(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """A constant line at the number of series given (0 when called with nothing)."""
    if not seriesLists:
        # graphite-web answers with its constantLine(0): three points over the window.
        step = max(1, (ctx.end - ctx.start) // 2)
        return [TimeSeries("0", ctx.start, step, np.zeros(3), path_expression="countSeries()",
                           x_files_factor=ctx.x_files_factor)]
    series_list = _flatten(seriesLists)
    if not series_list:
        return []
    matrix, start, step = normalize(series_list)
    name = f"countSeries({format_path_expressions(series_list)})"
    values = np.full(matrix.shape[1], float(len(series_list)))
    return [new_series(ctx, name, start, step, values)]


@series_function("powSeries", GROUP, [
    Param("seriesList", ParamType.SERIES_LIST, required=True, multiple=True),
], aggregator=True)
def pow_series(ctx: Context, *seriesList: Sequence[TimeSeries]) -> SeriesList:
    """The first series raised to the power of the next, and so on, point by point;
    null wherever an operand is null or the power is undefined."""
    series_list = _flatten(seriesList)
    if not series_list:
        return []
    matrix, start, step = normalize(series_list)
    values = matrix[0].copy()
    with np.errstate(all="ignore"):
        for exponent in matrix[1:]:
            values = np.power(values, exponent)
    values[~np.isfinite(values)] = np.nan
    name = f"powSeries({','.join(s.name for s in series_list)})"
    return [new_series(ctx, name, start, step, values)]


@series_function("group", GROUP, [
    Param("seriesLists", ParamType.SERIES_LIST, multiple=True),
])
def group(ctx: Context, *seriesLists: Sequence[TimeSeries]) -> SeriesList:
    """Several series lists as one list, for functions that take a single list."""
    return _flatten(seriesLists)


# --- wildcards and node grouping ------------------------------------------------------

@series_function("aggregateWithWildcards", GROUP, [
    SERIES_LIST,
    Param("func", ParamType.AGG_FUNC, required=True, options=AGG_FUNC_OPTIONS),
    POSITIONS,
])
def aggregate_with_wildcards(ctx: Context, seriesList: Sequence[TimeSeries], func: str,
                             *position: int) -> SeriesList:
    """Aggregate the series whose names agree once the nodes at the given positions are
    ignored; each result is named by what is left of the name."""
    results = []
    for key, members in group_by(seriesList, lambda s: wildcard_key(s, position)).items():
        [combined] = aggregate(ctx, members, func)
        results.append(combined.copy(name=key))
    return results


@series_function("sumSeriesWithWildcards", GROUP, [SERIES_LIST, POSITIONS], aggregator=True)
def sum_series_with_wildcards(ctx: Context, seriesList: Sequence[TimeSeries],
                              *position: int) -> SeriesList:
    """sumSeries over the groups that agree outside the given node positions."""
    return aggregate_with_wildcards(ctx, seriesList, "sum", *position)


@series_function("averageSeriesWithWildcards", GROUP, [SERIES_LIST, POSITIONS],
                 aggregator=True)
def average_series_with_wildcards(ctx: Context, seriesList: Sequence[TimeSeries],
                                  *position: int) -> SeriesList:
    """averageSeries over the groups that agree outside the given node positions."""
    return aggregate_with_wildcards(ctx, seriesList, "average", *position)


@series_function("multiplySeriesWithWildcards", GROUP, [SERIES_LIST, POSITIONS],
                 aggregator=True)
def multiply_series_with_wildcards(ctx: Context, seriesList: Sequence[TimeSeries],
                                   *position: int) -> SeriesList:
    """multiplySeries over the groups that agree outside the given node positions."""
    return aggregate_with_wildcards(ctx, seriesList, "multiply", *position)


def _apply_callback(ctx: Context, members: SeriesList, callback: str) -> SeriesList:
    if ctx.registry is not None and callback in ctx.registry:
        return ctx.call(callback, members)
    return aggregate(ctx, members, callback)


@series_function("groupByNodes", GROUP, [
    SERIES_LIST,
    Param("callback", ParamType.AGG_OR_SERIES_FUNC, required=True,
          options=AGG_OR_SERIES_FUNC_OPTIONS),
    Param("nodes", ParamType.NODE_OR_TAG, multiple=True),
])
def group_by_nodes(ctx: Context, seriesList: Sequence[TimeSeries], callback: str,
                   *nodes: int | str) -> SeriesList:
    """Group the series by the given nodes (or tags) and reduce each group with an
    aggregation function or a registered series function; results are named by the
    group key."""
    results = []
    for key, members in group_by(seriesList, lambda s: agg_key(s, nodes)).items():
        combined = _apply_callback(ctx, members, callback)
        if combined:
            results.append(combined[0].copy(name=key))
    return results


@series_function("groupByNode", GROUP, [
    SERIES_LIST,
    Param("nodeNum", ParamType.NODE_OR_TAG, required=True),
    Param("callback", ParamType.AGG_OR_SERIES_FUNC, default="average",
          options=AGG_OR_SERIES_FUNC_OPTIONS),
])
def group_by_node(ctx: Context, seriesList: Sequence[TimeSeries], nodeNum: int | str,
                  callback: str = "average") -> SeriesList:
    """groupByNodes with a single node."""
    return group_by_nodes(ctx, seriesList, callback, nodeNum)


@series_function("groupByTags", GROUP, [
    SERIES_LIST,
    Param("callback", ParamType.AGG_OR_SERIES_FUNC, required=True,
          options=AGG_OR_SERIES_FUNC_OPTIONS),
    Param("tags", ParamType.TAG, required=True, multiple=True),
])
def group_by_tags(ctx: Context, seriesList: Sequence[TimeSeries], callback: str,
                  *tags: str) -> SeriesList:
    """Group tagged series by the values of the given tags and reduce each group; each
    result is named as a tagged series, `name;tag=value;...`."""
    if not tags:
        raise InputError("groupByTags(): no tags specified")
    names = {s.tags.get("name", s.name) for s in seriesList}
    common_name = next(iter(names)) if len(names) == 1 else callback

    def key(series: TimeSeries) -> str:
        pairs = sorted(f"{tag}={series.tags.get(tag, '')}" for tag in tags if tag != "name")
        head = series.tags.get("name", series.name) if "name" in tags else common_name
        return ";".join([head, *pairs])

    results = []
    for name, members in group_by(seriesList, key).items():
        combined = _apply_callback(ctx, members, callback)
        if combined:
            results.append(combined[0].copy(name=name, path_expression=name,
                                            tags=_parse_tagged(name)))
    return results


def _parse_tagged(name: str) -> dict[str, str]:
    head, *pairs = name.split(";")
    tags = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    return {"name": head, **{k: v for k, v in sorted(tags.items()) if v}}


# --- series lists paired element by element -------------------------------------------

@series_function("aggregateSeriesLists", GROUP, [
    FIRST_POS, SECOND_POS,
    Param("func", ParamType.AGG_FUNC, required=True, options=AGG_FUNC_OPTIONS),
    Param("xFilesFactor", ParamType.FLOAT, default=None),
])
def aggregate_series_lists(ctx: Context, seriesListFirstPos: Sequence[TimeSeries],
                           seriesListSecondPos: Sequence[TimeSeries], func: str,
                           xFilesFactor: float | None = None) -> SeriesList:
    """Aggregate the i-th series of the first list with the i-th of the second."""
    if len(seriesListFirstPos) != len(seriesListSecondPos):
        raise InputError("seriesListFirstPos and seriesListSecondPos argument must have "
                         "equal length")
    results = []
    for first, second in zip(seriesListFirstPos, seriesListSecondPos, strict=True):
        [combined] = aggregate(ctx, [first, second], func, xFilesFactor)
        prefix = combined.name[:combined.name.find("Series(")]
        results.append(combined.copy(name=f"{prefix}Series({first.name},{second.name})"))
    return results


@series_function("sumSeriesLists", GROUP, [FIRST_POS, SECOND_POS], aggregator=True)
def sum_series_lists(ctx: Context, seriesListFirstPos: Sequence[TimeSeries],
                     seriesListSecondPos: Sequence[TimeSeries]) -> SeriesList:
    """Pairwise sums of two equally long series lists."""
    return aggregate_series_lists(ctx, seriesListFirstPos, seriesListSecondPos, "sum")


@series_function("diffSeriesLists", GROUP, [FIRST_POS, SECOND_POS], aggregator=True)
def diff_series_lists(ctx: Context, seriesListFirstPos: Sequence[TimeSeries],
                      seriesListSecondPos: Sequence[TimeSeries]) -> SeriesList:
    """Pairwise differences of two equally long series lists."""
    return aggregate_series_lists(ctx, seriesListFirstPos, seriesListSecondPos, "diff")


@series_function("multiplySeriesLists", GROUP, [FIRST_POS, SECOND_POS], aggregator=True)
def multiply_series_lists(ctx: Context, seriesListFirstPos: Sequence[TimeSeries],
                          seriesListSecondPos: Sequence[TimeSeries]) -> SeriesList:
    """Pairwise products of two equally long series lists."""
    return aggregate_series_lists(ctx, seriesListFirstPos, seriesListSecondPos, "multiply")


# --- division and percentages ---------------------------------------------------------

def safe_divide(dividend: np.ndarray, divisor: np.ndarray) -> np.ndarray:
    """graphite's safeDiv: null when either side is null or the divisor is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(divisor == 0, np.nan, dividend / divisor)


def _divide_pair(ctx: Context, dividend: TimeSeries, divisor: TimeSeries) -> TimeSeries:
    matrix, start, step = normalize([dividend, divisor])
    name = f"divideSeries({dividend.name},{divisor.name})"
    return new_series(ctx, name, start, step, safe_divide(matrix[0], matrix[1]))


@series_function("divideSeries", GROUP, [
    Param("dividendSeriesList", ParamType.SERIES_LIST, required=True),
    Param("divisorSeries", ParamType.SERIES_LIST, required=True),
])
def divide_series(ctx: Context, dividendSeriesList: Sequence[TimeSeries],
                  divisorSeries: Sequence[TimeSeries]) -> SeriesList:
    """Each series divided by the one divisor series; with no divisor at all every
    dividend becomes null and is marked MISSING."""
    if not divisorSeries:
        missing = []
        for series in dividendSeriesList:
            name = f"divideSeries({series.name},MISSING)"
            missing.append(series.copy(name=name, path_expression=name,
                                       values=np.full(len(series), np.nan)))
        return missing
    if len(divisorSeries) > 1:
        raise InputError("divideSeries second argument must reference exactly 1 series "
                         f"(got {len(divisorSeries)})")
    return [_divide_pair(ctx, series, divisorSeries[0]) for series in dividendSeriesList]


@series_function("divideSeriesLists", GROUP, [
    Param("dividendSeriesList", ParamType.SERIES_LIST, required=True),
    Param("divisorSeriesList", ParamType.SERIES_LIST, required=True),
])
def divide_series_lists(ctx: Context, dividendSeriesList: Sequence[TimeSeries],
                        divisorSeriesList: Sequence[TimeSeries]) -> SeriesList:
    """The i-th dividend divided by the i-th divisor."""
    if len(dividendSeriesList) != len(divisorSeriesList):
        raise InputError("dividendSeriesList and divisorSeriesList argument must have "
                         "equal length")
    return [_divide_pair(ctx, a, b)
            for a, b in zip(dividendSeriesList, divisorSeriesList, strict=True)]


def _percent(values: np.ndarray, totals: np.ndarray) -> np.ndarray:
    return safe_divide(values, totals) * 100.0


def _row_sum(matrix: np.ndarray) -> np.ndarray:
    """graphite's safeSum down the columns: null only where every series is null."""
    present = ~np.isnan(matrix)
    return np.where(present.any(axis=0), np.where(present, matrix, 0.0).sum(axis=0), np.nan)


def _sum_group(ctx: Context, members: SeriesList) -> TimeSeries:
    """The total of a group for asPercent: the series itself when alone."""
    if len(members) == 1:
        return members[0]
    matrix, start, step = normalize(members)
    name = f"sumSeries({format_path_expressions(members)})"
    return new_series(ctx, name, start, step, _row_sum(matrix))


def _percent_pair(ctx: Context, series: TimeSeries, total: TimeSeries) -> TimeSeries:
    matrix, start, step = normalize([series, total])
    name = f"asPercent({series.name},{total.name})"
    return new_series(ctx, name, start, step, _percent(matrix[0], matrix[1]))


def _all_null(ctx: Context, name: str, like: TimeSeries) -> TimeSeries:
    return new_series(ctx, name, like.start, like.step, np.full(len(like), np.nan))


def _as_percent_by_nodes(ctx: Context, series_list: SeriesList, total: Any,
                         nodes: Sequence[Any]) -> SeriesList:
    groups = group_by(series_list, lambda s: agg_key(s, nodes))
    keys = list(groups)
    if total is None:
        totals = {key: _sum_group(ctx, members) for key, members in groups.items()}
    elif isinstance(total, list):
        total_groups = group_by(total, lambda s: agg_key(s, nodes))
        keys += [key for key in total_groups if key not in groups]
        totals = {key: _sum_group(ctx, members) for key, members in total_groups.items()}
    else:
        raise InputError("total must be None or a seriesList")
    results = []
    for key in keys:
        if key not in groups:
            results.append(_all_null(ctx, f"asPercent(MISSING,{totals[key].name})",
                                     totals[key]))
            continue
        for series in groups[key]:
            if key in totals:
                results.append(_percent_pair(ctx, series, totals[key]))
            else:
                results.append(_all_null(ctx, f"asPercent({series.name},MISSING)", series))
    return results


@series_function("asPercent", GROUP, [
    SERIES_LIST,
    Param("total", ParamType.ANY, default=None),
    Param("nodes", ParamType.NODE_OR_TAG, multiple=True),
], aliases=["pct"], aggregator=True)
def as_percent(ctx: Context, seriesList: Sequence[TimeSeries], total: Any = None,
               *nodes: int | str) -> SeriesList:
    """Each series as a percentage of a total: the sum of the list, a number, one series,
    a list paired by name, or (with `nodes`) the matching group's total."""
    series_list = list(seriesList)
    if not series_list:
        return []
    if nodes:
        return _as_percent_by_nodes(ctx, series_list, total, nodes)
    if isinstance(total, list):
        if len(total) not in (1, len(series_list)):
            raise InputError("asPercent second argument must be missing, a single digit, "
                             "reference exactly 1 series or reference the same number of "
                             "series as the first argument")
        if len(total) == len(series_list):
            pairs = zip(sorted(series_list, key=lambda s: s.name),
                        sorted(total, key=lambda s: s.name), strict=True)
            return [_percent_pair(ctx, series, divisor) for series, divisor in pairs]
        matrix, start, step = normalize([*series_list, total[0]])
        totals, total_text = matrix[-1], total[0].name
        matrix = matrix[:-1]
    elif total is None:
        matrix, start, step = normalize(series_list)
        totals = _row_sum(matrix)
        total_text = f"sumSeries({format_path_expressions(series_list)})"
    elif isinstance(total, int | float) and not isinstance(total, bool):
        matrix, start, step = normalize(series_list)
        totals, total_text = np.full(matrix.shape[1], float(total)), str(total)
    else:
        raise InputError(f"asPercent total must be a number or a seriesList, not {total!r}")
    return [new_series(ctx, f"asPercent({series.name},{total_text})", start, step,
                       _percent(row, totals))
            for series, row in zip(series_list, matrix, strict=True)]


@series_function("weightedAverage", GROUP, [
    Param("seriesListAvg", ParamType.SERIES_LIST, required=True),
    Param("seriesListWeight", ParamType.SERIES_LIST, required=True),
    Param("nodes", ParamType.NODE_OR_TAG, multiple=True),
])
def weighted_average(ctx: Context, seriesListAvg: Sequence[TimeSeries],
                     seriesListWeight: Sequence[TimeSeries], *nodes: int | str) -> SeriesList:
    """Average of the first list weighted by the second, series matched on the given
    nodes (or tags): sum(avg * weight) / sum(weight) at each point."""
    if len(seriesListAvg) != len(seriesListWeight):
        raise InputError("weightedAverage must receive the same number of series for "
                         "seriesListAvg and seriesListWeight but received respectively "
                         f"{len(seriesListAvg)} and {len(seriesListWeight)}")
    pairs: dict[str, dict[str, TimeSeries]] = {}
    for average, weight in zip(seriesListAvg, seriesListWeight, strict=True):
        pairs.setdefault(agg_key(average, nodes), {})["avg"] = average
        pairs.setdefault(agg_key(weight, nodes), {})["weight"] = weight
    products = []
    for pair in pairs.values():
        if "avg" in pair and "weight" in pair:
            matrix, start, step = normalize([pair["avg"], pair["weight"]])
            name = f"product({pair['weight'].name},{pair['avg'].name})"
            products.append(new_series(ctx, name, start, step, matrix[0] * matrix[1]))
    if not products:
        return []
    [numerator] = aggregate(ctx, products, "sum")
    [denominator] = aggregate(ctx, list(seriesListWeight), "sum")
    matrix, start, step = normalize([numerator, denominator])
    averages = ",".join(sorted({s.path_expression for s in seriesListAvg}))
    weights = ",".join(sorted({s.path_expression for s in seriesListWeight}))
    name = f"weightedAverage({averages}, {weights}, {','.join(map(str, nodes))})"
    return [new_series(ctx, name, start, step, safe_divide(matrix[0], matrix[1]))]


# --- percentiles ----------------------------------------------------------------------

def row_percentiles(matrix: np.ndarray, n: float, interpolate: bool = False) -> np.ndarray:
    """The n-th percentile of each row's non-null values by the nearest-rank method
    graphite-web uses (NIST), optionally interpolating to the next value."""
    matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    if matrix.shape[1] == 0:
        return np.full(matrix.shape[0], np.nan)
    ordered = np.sort(matrix, axis=1)  # nulls (NaN) sort last
    count = (~np.isnan(matrix)).sum(axis=1)
    fractional = (n / 100.0) * (count + 1)
    rank = np.floor(fractional).astype(np.int64)
    fraction = fractional - rank
    if not interpolate:
        rank = rank + (fraction > 0)
    last = np.maximum(count - 1, 0)
    rows = np.arange(matrix.shape[0])
    # rank 0 is the lowest value; ranks past the end (graphite errors there) clip to it.
    value = ordered[rows, np.clip(rank - 1, 0, last)]
    if interpolate:
        following = ordered[rows, np.clip(rank, 0, last)]
        value = np.where(rank < count, value + fraction * (following - value), value)
    return np.where(count > 0, value, np.nan)


@series_function("percentileOfSeries", GROUP, [
    SERIES_LIST,
    Param("n", ParamType.FLOAT, required=True),
    Param("interpolate", ParamType.BOOLEAN, default=False),
])
def percentile_of_series(ctx: Context, seriesList: Sequence[TimeSeries], n: float,
                         interpolate: bool = False) -> SeriesList:
    """The n-th percentile across the series at each point (an actual value of one of
    them unless `interpolate`)."""
    if n <= 0:
        raise InputError("The requested percent is required to be greater than 0")
    if not seriesList:
        return []
    matrix, start, step = normalize(seriesList)
    name = f"percentileOfSeries({seriesList[0].path_expression},{n:g})"
    return [new_series(ctx, name, start, step, row_percentiles(matrix.T, n, interpolate))]



# --- map / reduce ---------------------------------------------------------------------

@series_function("mapSeries", GROUP, [
    SERIES_LIST,
    Param("mapNodes", ParamType.NODE_OR_TAG, required=True, multiple=True),
], aliases=["map"])
def map_series(ctx: Context, seriesList: Sequence[TimeSeries], *mapNodes: int | str
               ) -> list[SeriesList]:
    """Split the series into lists sharing the same `mapNodes` (nodes or tags), in order
    of first appearance: a list of series lists, meant for reduceSeries."""
    return list(group_by(seriesList, lambda s: agg_key(s, mapNodes)).values())


def _reduce_slots(series_lists: Sequence[Sequence[TimeSeries]], function: str, node: int,
                  matchers: Sequence[str]) -> dict[str, list[TimeSeries | None]]:
    """reduce name -> one slot per matcher, filled with the series whose node `node`
    equals that matcher (a later match replaces an earlier one, as in graphite-web)."""
    slots: dict[str, list[TimeSeries | None]] = {}
    for series in _flatten(series_lists):
        parts = series.name.split(".")
        try:
            value = parts[node]
        except IndexError:
            raise InputError(f"reduceSeries(): series {series.name!r} has no node "
                             f"{node}") from None
        if value not in matchers:
            continue
        key = ".".join(parts[:node]) + ".reduce." + function
        slots.setdefault(key, [None] * len(matchers))[matchers.index(value)] = series
    return slots


@series_function("reduceSeries", GROUP, [
    Param("seriesLists", ParamType.SERIES_LISTS, required=True),
    Param("reduceFunction", ParamType.STRING, required=True),
    Param("reduceNode", ParamType.NODE, required=True),
    Param("reduceMatchers", ParamType.STRING, required=True, multiple=True),
], aliases=["reduce"])
def reduce_series(ctx: Context, seriesLists: Sequence[Sequence[TimeSeries]],
                  reduceFunction: str, reduceNode: int, *reduceMatchers: str) -> SeriesList:
    """Pair up the series that differ only at `reduceNode` (one per matcher, in matcher
    order) and apply `reduceFunction` to each set, naming each result after the shared
    prefix plus `.reduce.<function>` so that it can be mapped again."""
    if all(isinstance(s, TimeSeries) for s in seriesLists):
        seriesLists = [seriesLists]  # a plain series list: one list, same pairing
    results = []
    for key, members in _reduce_slots(seriesLists, reduceFunction, reduceNode,
                                      reduceMatchers).items():
        missing = [m for m, s in zip(reduceMatchers, members, strict=True) if s is None]
        if missing:
            # graphite-web fails on the missing argument (a 500); say which one it is.
            raise InputError(f"reduceSeries(): no series for {', '.join(missing)} "
                             f"under {key.rsplit('.reduce.', 1)[0]!r}")
        reduced = ctx.call(reduceFunction, *[[s] for s in members])
        if not reduced:
            raise InputError(f"reduceSeries(): {reduceFunction}() gave no series for "
                             f"{key!r}")
        results.append(reduced[0].copy(name=key))
    return results
