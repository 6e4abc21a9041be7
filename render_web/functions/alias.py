"""graphite-web's "Alias" functions: they change only the displayed name.

As in graphite-web, the path expression and the tags stay as they were, so a later
aggregate still names itself after the metrics it was given, not after their aliases.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from render_web.functions.aggfuncs import AGG_FUNCS, get_reducer
from render_web.functions.registry import Context, InputError, Param, ParamType, series_function
from render_web.functions.transform import SERIES_LIST, SeriesList
from render_web.series import TimeSeries

GROUP = "Alias"

LEGEND_OPTIONS = (
    "average", "averageSeries", "avg", "avgSeries", "avg_zero", "avg_zeroSeries", "binary",
    "count", "countSeries", "current", "currentSeries", "diff", "diffSeries", "last",
    "lastSeries", "max", "maxSeries", "median", "medianSeries", "min", "minSeries",
    "multiply", "multiplySeries", "range", "rangeOf", "rangeOfSeries", "rangeSeries", "si",
    "stddev", "stddevSeries", "sum", "sumSeries", "total", "totalSeries",
)

# graphite-web's glyph.UnitSystems for the two systems legendValue accepts.
UNIT_SYSTEMS: dict[str, tuple[tuple[str, float], ...]] = {
    "binary": (("Pi", 1024.0 ** 5), ("Ti", 1024.0 ** 4), ("Gi", 1024.0 ** 3),
               ("Mi", 1024.0 ** 2), ("Ki", 1024.0)),
    "si": (("P", 1000.0 ** 5), ("T", 1000.0 ** 4), ("G", 1000.0 ** 3),
           ("M", 1000.0 ** 2), ("k", 1000.0)),
}


def renamed(series: TimeSeries, name: str) -> TimeSeries:
    return series.copy(name=name, path_expression=series.path_expression,
                       tags=dict(series.tags))


# --- first path expression of a function-call name -----------------------------------

_CALL = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*\(")
_KWARG = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*=")
_LITERAL = re.compile(r"-?\d+(\.\d+)?([eE]-?\d+)?|(?i:true|false|none|inf)")


def _first_argument(text: str) -> str | None:
    """The text of the first argument in `text` (what follows a call's "("): up to the
    first top-level "," or ")", with quotes, calls and {a,b} lists kept whole."""
    depth, quote = 0, ""
    for position, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "({":
            depth += 1
        elif char in ")}":
            if depth == 0:
                return text[:position].strip() if char == ")" else None
            depth -= 1
        elif char == "," and depth == 0:
            return text[:position].strip()
    return None


def first_path_expression(name: str) -> str | None:
    """The metric path a name like `scale(sumSeries(a.b.*),2)` starts with (`a.b.*`):
    the first argument, descending into calls. None when that argument is a literal."""
    expression = name.strip()
    while (match := _CALL.match(expression)) is not None:
        argument = _first_argument(expression[match.end():])
        if argument is None:
            return None
        expression = argument
    if (not expression or expression[0] in "'\"" or _KWARG.match(expression)
            or _LITERAL.fullmatch(expression)):
        return None
    return expression


def node_or_tag(series: TimeSeries, node: Any, path: str | None = None) -> str:
    """An integer picks a dot-separated node of the path (tags after ";" cut off,
    negative counts from the end); anything else, or a node out of range, is read as a
    tag name ("" when absent)."""
    if isinstance(node, float) and node.is_integer():
        node = int(node)
    if isinstance(node, int) and not isinstance(node, bool):
        parts = (path or series.name).split(";", 2)[0].split(".")
        if -len(parts) <= node < len(parts):
            return parts[node]
    return series.tags.get(str(node), "")


def agg_key(series: TimeSeries, nodes: Sequence[Any]) -> str:
    """The name aliasByNode gives: the chosen nodes joined by "."; a name that looks like
    a function call is read through its first path expression."""
    path = first_path_expression(series.name) if series.name.endswith(")") else None
    return ".".join(node_or_tag(series, node, path) for node in nodes)


# --- the functions ---------------------------------------------------------------------


@series_function("alias", GROUP,
                 [SERIES_LIST, Param("newName", ParamType.STRING, required=True)])
def alias(ctx: Context, seriesList: SeriesList, newName: str) -> SeriesList:
    """Shows `newName` instead of the series name."""
    return [renamed(s, newName) for s in seriesList]


@series_function("aliasByNode", GROUP, [
    SERIES_LIST, Param("nodes", ParamType.NODE_OR_TAG, required=True, multiple=True)])
def alias_by_node(ctx: Context, seriesList: SeriesList, *nodes: int | str) -> SeriesList:
    """Names each series by some nodes of its path (0-based, negative from the end) or
    by tag values (string nodes)."""
    return [renamed(s, agg_key(s, nodes)) for s in seriesList]


@series_function("aliasByTags", GROUP, [
    SERIES_LIST, Param("tags", ParamType.NODE_OR_TAG, required=True, multiple=True)])
def alias_by_tags(ctx: Context, seriesList: SeriesList, *tags: int | str) -> SeriesList:
    """aliasByNode under the name tag users look for: tag names, or node numbers."""
    return [renamed(s, agg_key(s, tags)) for s in seriesList]


def metric_name(name: str) -> str:
    """graphite-web's aliasByMetric (substr(-1)): the last node of the text between the
    last "(" and the first ")", cut at the first ","."""
    left = name.rfind("(") + 1
    right = name.find(")")
    if right < 0:
        right = len(name) + 1
    last = name[left:right].split(".")[-1]
    return re.sub(",.*$", "", last)


@series_function("aliasByMetric", GROUP, [SERIES_LIST])
def alias_by_metric(ctx: Context, seriesList: SeriesList) -> SeriesList:
    """Names each series by the last node of its metric path."""
    return [renamed(s, metric_name(s.name)) for s in seriesList]


@series_function("aliasSub", GROUP, [
    SERIES_LIST, Param("search", ParamType.STRING, required=True),
    Param("replace", ParamType.STRING, required=True)])
def alias_sub(ctx: Context, seriesList: SeriesList, search: str, replace: str) -> SeriesList:
    """A Python `re.sub` over each name (`\\1` back-references work); Grafana wraps every
    target in one to tag series with its query letter."""
    try:
        pattern = re.compile(search)
        return [renamed(s, pattern.sub(replace, s.name)) for s in seriesList]
    except (re.error, IndexError) as error:
        raise InputError(f"aliasSub: {error}") from None


def format_units(value: float, system: str) -> tuple[float, str]:
    """graphite-web's glyph.format_units without a step: the value divided by the largest
    unit it reaches, and that unit's prefix."""
    def snapped(number: float) -> float:
        if math.isfinite(number) and number - math.floor(number) < 1e-11 and value > 1:
            return float(math.floor(number))
        return number

    for prefix, size in UNIT_SYSTEMS[system]:
        if abs(value) >= size:
            return snapped(value / size), prefix
    return snapped(value), ""


def series_stat(values: np.ndarray, func: str) -> float | int | str | None:
    """graphite-web's aggregation function applied to a whole series, nulls included:
    "(?)" for an unknown name, None where graphite-web gets None."""
    if func not in AGG_FUNCS:
        return "(?)"
    present = ~np.isnan(values)
    if func == "count":
        return int(present.sum())
    if func == "avg_zero":
        return float(np.where(present, values, 0.0).sum() / len(values)) if len(values) else None
    if func == "multiply":
        return float(np.prod(values)) if len(values) and present.all() else None
    if not present.any():
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(get_reducer(func)(values[None, :])[0])


@series_function("legendValue", GROUP, [
    SERIES_LIST,
    Param("valuesTypes", ParamType.STRING, multiple=True, options=LEGEND_OPTIONS)])
def legend_value(ctx: Context, seriesList: SeriesList, *valuesTypes: str) -> SeriesList:
    """Appends statistics of each series (avg, total, min, max, last, ...) to its name;
    a trailing "si" or "binary" formats them with unit prefixes in fixed columns."""
    if not valuesTypes:
        raise InputError("legendValue: no value type given")
    system = None
    if valuesTypes[-1] in UNIT_SYSTEMS:
        system = valuesTypes[-1]
        valuesTypes = valuesTypes[:-1]
    out = []
    for s in seriesList:
        name = s.name
        for value_type in valuesTypes:
            value = series_stat(s.values, value_type)
            if system is None:
                name += f" ({value_type}: {value})"
                continue
            formatted: str | None = None
            if isinstance(value, str):
                formatted = value
            elif value is not None:
                number, prefix = format_units(value, system)
                formatted = f"{number:.2f}{prefix}"
            name = f"{name:<20}{value_type:<5}{formatted!s:<10}"
        out.append(renamed(s, name))
    return out


def _recased(name: str, positions: Sequence[int], change: Any) -> str:
    if not positions:
        return change(name)
    letters = list(name)
    for position in positions:
        if -len(letters) <= position < len(letters):
            letters[position] = change(letters[position])
    return "".join(letters)


@series_function("upper", GROUP, [SERIES_LIST, Param("pos", ParamType.INTEGER, multiple=True)])
def upper(ctx: Context, seriesList: SeriesList, *pos: int) -> SeriesList:
    """Upper-cases the name, or only the characters at the given positions (negative
    from the end; positions past the end are ignored)."""
    return [s.copy(name=_recased(s.name, pos, str.upper)) for s in seriesList]


@series_function("lower", GROUP, [SERIES_LIST, Param("pos", ParamType.INTEGER, multiple=True)])
def lower(ctx: Context, seriesList: SeriesList, *pos: int) -> SeriesList:
    """Lower-cases the name, or only the characters at the given positions (negative
    from the end; positions past the end are ignored)."""
    return [s.copy(name=_recased(s.name, pos, str.lower)) for s in seriesList]
