"""Evaluate parsed targets: fetch the paths, check each call's arguments against its
function's parameters, call it, and keep the request inside its limits.

Pure of HTTP: the data comes from a `SeriesSource` (the store adapter in `datastore.py`,
or a fake in tests), and every failure is an `InputError` (a 400) or a `LimitError`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from render_web.attime import parse_offset
from render_web.functions.aggfuncs import AGG_FUNCS
from render_web.functions.registry import (
    Context,
    FunctionRegistry,
    FunctionSpec,
    InputError,
    Param,
    ParamType,
)
from render_web.grammar import (
    Call,
    Node,
    PathExpr,
    expand_templates,
    parse_target,
    path_expressions,
)
from render_web.series import TimeSeries


class LimitError(InputError):
    """A request beyond a configured limit (series, points, time, image size)."""


class SeriesSource(Protocol):
    def fetch(self, patterns: Sequence[str], start: int, end: int, now: int
              ) -> dict[str, list[TimeSeries]]:
        """Every series matching each pattern over (start, end]."""


@dataclass(frozen=True)
class Limits:
    max_series: int = 10_000
    max_points: int = 50_000_000
    max_seconds: float = 30.0


@dataclass
class Budget:
    """What one request has used of its limits."""

    limits: Limits
    deadline: float
    clock: Callable[[], float]
    series: int = 0
    points: int = 0

    def charge(self, series_list: Sequence[TimeSeries]) -> None:
        self.series += len(series_list)
        self.points += sum(len(s) for s in series_list)
        if self.series > self.limits.max_series:
            raise LimitError(f"the request reads more than {self.limits.max_series} series "
                             "(max_series); narrow the targets")
        if self.points > self.limits.max_points:
            raise LimitError(f"the request reads more than {self.limits.max_points} points "
                             "(max_points); narrow the targets or the time range")
        self.check_time()

    def check_time(self) -> None:
        if self.clock() > self.deadline:
            raise LimitError(f"the request took longer than {self.limits.max_seconds:g} "
                             "seconds (max_seconds); narrow the targets or the time range")


def _is_series_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(s, TimeSeries) for s in value)


def _is_series_lists(value: Any) -> bool:
    """A list of series lists, as mapSeries gives (and reduceSeries takes)."""
    return isinstance(value, list) and all(_is_series_list(v) for v in value)


def _flat(value: Any) -> Any:
    """A mapSeries result flattened to one series list wherever a plain series list is
    wanted (graphite-web's evaluateTarget concatenates a target's result the same way);
    anything else unchanged."""
    if value and _is_series_lists(value):
        return [s for series_list in value for s in series_list]
    return value


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a series list"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if value is None:
        return "None"
    return f"the number {value!r}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def convert(spec: FunctionSpec, param: Param, value: Any) -> Any:
    """`value` checked (and lightly converted) for `param`, as graphite-web's validators
    do; an `InputError` names the function, the parameter and what was given."""
    kind = param.type

    def bad(expected: str) -> InputError:
        return InputError(f"{spec.name}(): parameter {param.name!r} expects {expected}, "
                          f"got {_describe(value)}")

    if value is None and not param.required:
        return None
    if kind is ParamType.SERIES_LISTS:
        # a mapSeries result, or a plain series list (taken as a single list)
        if not (_is_series_list(value) or _is_series_lists(value)):
            raise bad("a series list or a list of series lists (a mapSeries() call)")
        return value
    value = _flat(value)
    if kind in (ParamType.SERIES_LIST, ParamType.SERIES):
        if not _is_series_list(value):
            raise bad("a series list (a metric path or a function call)")
        return value
    if kind is ParamType.ANY:
        return value
    if _is_series_list(value):
        raise bad(f"a {kind} value")
    if kind is ParamType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad("true or false")
    if kind in (ParamType.INTEGER, ParamType.NODE):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("an integer")
        return value
    if kind is ParamType.INT_OR_INF:
        if value == math.inf or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad("an integer or inf")
    if kind is ParamType.FLOAT:
        if not _is_number(value):
            raise bad("a number")
        return float(value)
    if kind is ParamType.NODE_OR_TAG:
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise bad("a node number or a tag name")
    if kind in (ParamType.INTERVAL, ParamType.INT_OR_INTERVAL):
        if kind is ParamType.INT_OR_INTERVAL and isinstance(value, int) \
                and not isinstance(value, bool):
            return value
        if not isinstance(value, str):
            raise bad("an interval such as '5min'")
        parse_offset(value)  # refuses a bad interval here, with its own message
        return value
    if kind is ParamType.AGG_FUNC:
        if not isinstance(value, str) or value not in AGG_FUNCS:
            raise bad(f"one of {', '.join(sorted(AGG_FUNCS))}")
        return value
    if kind is ParamType.AGG_OR_SERIES_FUNC:
        if not isinstance(value, str):
            raise bad("an aggregation or series function name")
        return value
    if kind is ParamType.DATE:
        if isinstance(value, str) or _is_number(value):
            return value
        raise bad("a time")
    # string, tag
    if isinstance(value, bool) and param.options is not None and value in param.options:
        return value  # smartSummarize's alignTo takes true/false as well as a unit
    if not isinstance(value, str):
        raise bad("a string")
    if param.options is not None and value not in param.options:
        raise bad(f"one of {', '.join(map(str, param.options))}")
    return value


def bind(spec: FunctionSpec, args: list[Any], kwargs: dict[str, Any]
         ) -> tuple[list[Any], dict[str, Any]]:
    """Match evaluated arguments to parameters, checking each one."""
    params = spec.params
    positional: list[Any] = []
    given: set[str] = set()
    remaining = list(args)
    for param in params:
        if not remaining:
            break
        if param.multiple:
            positional.extend(convert(spec, param, value) for value in remaining)
            remaining = []
        else:
            positional.append(convert(spec, param, remaining.pop(0)))
        given.add(param.name)
    if remaining:
        raise InputError(f"{spec.name}() takes at most {len(params)} arguments, "
                         f"got {len(args)}")
    names = {p.name: p for p in params}
    # graphite-web publishes some names in another case than its code accepts
    # (timeShift's `alignDst` is `alignDST` in Python): both spellings work here.
    folded = {p.name.lower(): p for p in params}
    keywords: dict[str, Any] = {}
    for given_name, value in kwargs.items():
        param = names.get(given_name) or folded.get(given_name.lower())
        name = param.name if param is not None else given_name
        if param is None or param.multiple:
            raise InputError(f"{spec.name}() has no parameter {name!r}")
        if name in given:
            raise InputError(f"{spec.name}(): parameter {name!r} given twice")
        keywords[name] = convert(spec, param, value)
        given.add(name)
    for param in params:
        if param.required and param.name not in given:
            raise InputError(f"{spec.name}(): missing required parameter {param.name!r}")
    return positional, keywords


class Evaluator:
    """Evaluates the targets of one request."""

    def __init__(self, registry: FunctionRegistry, source: SeriesSource,
                 limits: Limits = Limits(), clock: Callable[[], float] = time.monotonic,
                 tag_index: Any = None, event_store: Any = None) -> None:
        self.registry = registry
        self.source = source
        self.limits = limits
        self.clock = clock
        self.tag_index = tag_index
        self.event_store = event_store

    def evaluate_targets(self, targets: Sequence[str], context: Context,
                         templates: dict[str, str] | None = None) -> list[TimeSeries]:
        """Every series of every target, in order. All paths of the window are fetched
        in one batch first (one cache query, one pass over the index). `templates` are
        the request's `template[name]=value` parameters."""
        trees = [expand_templates(parse_target(target), templates) for target in targets]
        budget = Budget(self.limits, self.clock() + self.limits.max_seconds, self.clock)
        prefetched: dict[tuple[str, int, int], list[TimeSeries]] = {}

        def fetch(patterns: Sequence[str], ctx: Context) -> None:
            wanted = [p for p in dict.fromkeys(patterns)
                      if (p, ctx.start, ctx.end) not in prefetched]
            if not wanted:
                return
            found = self.source.fetch(wanted, ctx.start, ctx.end, ctx.now)
            for pattern in wanted:
                series_list = found.get(pattern, [])
                budget.charge(series_list)
                prefetched[pattern, ctx.start, ctx.end] = series_list

        def evaluate_raw(ctx: Context, node: Node) -> list[Any]:
            """A series list, or the list of series lists of a mapSeries call."""
            budget.check_time()
            if isinstance(node, PathExpr):
                key = (node.text, ctx.start, ctx.end)
                if key not in prefetched:
                    fetch(list(path_expressions(node)), ctx)
                # Functions own their results: hand out copies of what is cached.
                return [s.copy() for s in prefetched[key]]
            if isinstance(node, Call):
                return self._call(ctx, node, evaluate_raw, fetch)
            raise InputError(f"{_describe(node)} is not a series expression")

        def evaluate(ctx: Context, node: Node) -> list[TimeSeries]:
            return _flat(evaluate_raw(ctx, node))

        def evaluate_text(ctx: Context, text: str) -> list[TimeSeries]:
            tree = parse_target(text)
            fetch(list(path_expressions(tree)), ctx)
            return evaluate(ctx, tree)

        def fetch_names(ctx: Context, names: list[str]) -> list[TimeSeries]:
            budget.check_time()
            found = self.source.fetch(list(dict.fromkeys(names)), ctx.start, ctx.end,
                                      ctx.now)
            out = [s for name in dict.fromkeys(names) for s in found.get(name, [])]
            budget.charge(out)
            return out

        base = replace(context, evaluator=evaluate, registry=self.registry,
                       target_evaluator=evaluate_text, name_fetcher=fetch_names,
                       tag_index=self.tag_index, event_store=self.event_store)
        fetch([p for tree in trees for p in path_expressions(tree)], base)
        results: list[TimeSeries] = []
        for tree in trees:
            series_list = evaluate(base, tree)
            results.extend(series_list)
        budget.check_time()
        return results

    def _call(self, ctx: Context, node: Call,
              evaluate: Callable[[Context, Node], list[Any]],
              fetch: Callable[[Sequence[str], Context], None]) -> list[Any]:
        spec = self.registry.get(node.name)
        if spec is None:
            raise InputError(f"unknown function {node.name}()")
        fetch([p for p in path_expressions(node)], ctx)

        def value(arg: Any) -> Any:
            if isinstance(arg, PathExpr | Call):
                return evaluate(ctx, arg)
            return arg

        args = [value(arg) for arg in node.args]
        kwargs = {name: value(arg) for name, arg in node.kwargs}
        positional, keywords = bind(spec, args, kwargs)
        call_ctx = replace(ctx, args=node.args + tuple(arg for _, arg in node.kwargs),
                           call_text=node.text)
        try:
            result = spec.func(call_ctx, *positional, **keywords)
        except InputError:
            raise
        except (ValueError, TypeError, ZeroDivisionError, KeyError, IndexError) as exc:
            raise InputError(f"{spec.name}(): {exc}") from exc
        if not (_is_series_list(result) or _is_series_lists(result)):
            raise InputError(f"{spec.name}() did not give a series list")
        return result

