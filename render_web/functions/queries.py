"""Functions that reach beyond their arguments: tagged series from the tag index, events
from the event store, and functions whose arguments are new targets to evaluate
(aliasQuery, applyByNode, useSeriesAbove). Every fetch goes through the request's limits
(`Context.fetch_names`, `Context.evaluate_target`)."""

from __future__ import annotations

import re

import numpy as np

from carbon_store.tagindex import parse_tags
from render_web.functions.registry import Context, InputError, Param, ParamType, series_function
from render_web.series import TimeSeries

SeriesList = list[TimeSeries]
SERIES_LIST = Param("seriesList", ParamType.SERIES_LIST, required=True)
# A per-second events series longer than this (about 116 days) is refused.
MAX_EVENT_POINTS = 10_000_000


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InputError(f"invalid regular expression {pattern!r}: {exc}") from None


def _sub(pattern: re.Pattern[str], replace: str, name: str) -> str:
    try:
        return pattern.sub(replace, name)
    except (re.error, IndexError) as exc:
        raise InputError(f"invalid replacement {replace!r}: {exc}") from None


def _quoted_call(name: str, args: tuple[str, ...]) -> str:
    return f"{name}(" + ",".join(repr(a) for a in args) + ")"


@series_function("seriesByTag", "Special", [
    Param("tagExpressions", ParamType.STRING, required=True, multiple=True)])
def series_by_tag(ctx: Context, *tagExpressions: str) -> SeriesList:
    """The tagged series passing every expression (`tag=v`, `tag!=v`, `tag=~re`,
    `tag!=~re`); each keeps the call as its path expression and its tags parsed from
    its name. Without a tag index, nothing matches."""
    if not tagExpressions:
        raise InputError("seriesByTag(): at least one tag expression is required")
    if ctx.tag_index is None:
        return []
    try:
        names = ctx.tag_index.find_series(tagExpressions)
    except ValueError as exc:
        raise InputError(f"seriesByTag(): {exc}") from None
    expression = ctx.call_text or _quoted_call("seriesByTag", tagExpressions)
    return [s.copy(path_expression=expression, tags=parse_tags(s.name))
            for s in ctx.fetch_names(names)]


@series_function("events", "Special", [
    Param("tags", ParamType.STRING, required=True, multiple=True)])
def events(ctx: Context, *tags: str) -> SeriesList:
    """How many events carrying all `tags` (or any event for `"*"`) happened in each
    second of the window; for drawAsInfinite. graphite fails on an event at the very
    end of the window (an index past the series); such an event is left out here."""
    if not tags:
        raise InputError("events(): at least one tag is required")
    name = 'events("' + '", "'.join(tags) + '")'
    start, end = int(ctx.start), int(ctx.end)
    points = max(end - start, 0)
    if points > MAX_EVENT_POINTS:
        raise InputError(f"events(): the window is longer than {MAX_EVENT_POINTS} seconds")
    values = np.full(points, np.nan)
    if ctx.event_store is not None and points:
        wanted = None if tags == ("*",) else list(tags)
        found = ctx.event_store.find(start, end - 1, tags=wanted)
        offsets = np.array([e["when"] - start for e in found], dtype=np.int64)
        if offsets.size:
            counts = np.bincount(offsets, minlength=points).astype(float)
            values = np.where(counts > 0, counts, np.nan)
    return [TimeSeries(name, start, 1, values, consolidation="sum",
                       x_files_factor=ctx.x_files_factor)]


@series_function("aliasQuery", "Alias", [
    SERIES_LIST,
    Param("search", ParamType.STRING, required=True),
    Param("replace", ParamType.STRING, required=True),
    Param("newName", ParamType.STRING, required=True),
])
def alias_query(ctx: Context, seriesList: SeriesList, search: str, replace: str,
                newName: str) -> SeriesList:
    """Names each series by the last value of another query, the series name rewritten
    by `search`/`replace`, formatted into `newName` with `%`."""
    pattern = _regex(search)
    out = []
    for series in seriesList:
        query = _sub(pattern, replace, series.name)
        found = ctx.evaluate_target(query)
        if not found:
            raise InputError(f"aliasQuery(): no series found with query: {query}")
        present = found[0].values[~np.isnan(found[0].values)]
        if not present.size:
            raise InputError(f"aliasQuery(): cannot get last value of series: "
                             f"{found[0].name}")
        current = float(present[-1])
        try:
            label = newName % current
        except (TypeError, ValueError) as exc:
            raise InputError(f"aliasQuery(): cannot format {newName!r}: {exc}") from None
        out.append(series.copy(name=label))
    return out


@series_function("applyByNode", "Combine", [
    SERIES_LIST,
    Param("nodeNum", ParamType.NODE, required=True),
    Param("templateFunction", ParamType.STRING, required=True),
    Param("newName", ParamType.STRING),
])
def apply_by_node(ctx: Context, seriesList: SeriesList, nodeNum: int, templateFunction: str,
                  newName: str | None = None) -> SeriesList:
    """Evaluates `templateFunction` once per distinct name prefix (nodes 0..nodeNum), `%`
    standing for the prefix; results take the prefix as path expression, and `newName`
    (with `%` replaced) as name. graphite also overwrites each result's start and end
    with those of the last input series, which misaligns values whenever the two
    differ; results keep their own time axis here."""
    prefixes = sorted({".".join(s.name.split(".")[:nodeNum + 1]) for s in seriesList})
    out = []
    for prefix in prefixes:
        for result in ctx.evaluate_target(templateFunction.replace("%", prefix)):
            name = newName.replace("%", prefix) if newName else result.name
            out.append(result.copy(name=name, path_expression=prefix))
    return out


@series_function("useSeriesAbove", "Filter Series", [
    SERIES_LIST,
    Param("value", ParamType.FLOAT, required=True),
    Param("search", ParamType.STRING, required=True),
    Param("replace", ParamType.STRING, required=True),
])
def use_series_above(ctx: Context, seriesList: SeriesList, value: float, search: str,
                     replace: str) -> SeriesList:
    """For each series whose maximum exceeds `value`, the series its name becomes under
    `search`/`replace` (a related metric drawn only when this one is high). graphite
    fails on a series holding nulls (comparing None in max); nulls are skipped here."""
    pattern = _regex(search)
    names = []
    for series in seriesList:
        present = series.values[~np.isnan(series.values)]
        if present.size and present.max() > value:
            names.append(_sub(pattern, replace, series.name))
    if not names:
        return []
    found = ctx.evaluate_target(f"group({','.join(names)})")
    return [s for s in found if len(s) > 0]
