"""The evaluator: argument checking against Param metadata, batched fetching, re-fetching
for another window, limits, and functions owning (copies of) their inputs.

A tiny registry built here keeps these tests independent of the real series functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC

import numpy as np
import pytest

from render_web.evaluator import Evaluator, LimitError, Limits, bind, convert
from render_web.functions.registry import (
    Context,
    FunctionRegistry,
    FunctionSpec,
    InputError,
    Param,
    ParamType,
    series_function,
)
from render_web.grammar import GrammarError, PathExpr, parse_target
from render_web.series import TimeSeries

START, END, NOW = 1000, 1060, 1100
STEP = 10


def series(name: str, start: int = START, end: int = END, base: float = 0.0) -> TimeSeries:
    """A series over (start, end] whose values are base, base+1, ..."""
    count = (end - start) // STEP
    return TimeSeries(name, start, STEP, np.arange(count, dtype=float) + base)


class FakeSource:
    """Answers each pattern with the series listed for it, built over the asked window;
    records every fetch call."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.calls: list[tuple[tuple[str, ...], int, int, int]] = []

    def fetch(self, patterns: Sequence[str], start: int, end: int, now: int
              ) -> dict[str, list[TimeSeries]]:
        self.calls.append((tuple(patterns), start, end, now))
        return {p: [series(n, start, end, base=10.0 * i) for i, n in enumerate(self.names[p])]
                for p in patterns if p in self.names}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


CLOCK = FakeClock()


# -- a tiny registry -------------------------------------------------------------------------

SERIES = Param("seriesList", ParamType.SERIES_LIST, required=True)


@series_function("double", "Transform", [SERIES])
def double(ctx: Context, seriesList: list[TimeSeries]) -> list[TimeSeries]:
    """Misbehaves on purpose: changes its input in place."""
    for s in seriesList:
        s.values *= 2
        s.name = f"double({s.name})"
    return seriesList


@series_function("sumSeries", "Combine",
                 [Param("seriesLists", ParamType.SERIES_LIST, required=True, multiple=True)])
def sum_series(ctx: Context, *seriesLists: list[TimeSeries]) -> list[TimeSeries]:
    flat = [s for group in seriesLists for s in group]
    if not flat:
        return []
    total = np.sum([s.values for s in flat], axis=0)
    return [flat[0].copy(name="sumSeries(...)", values=total)]


@series_function("history", "Transform",
                 [SERIES, Param("seconds", ParamType.INTEGER, required=True)])
def history(ctx: Context, seriesList: list[TimeSeries], seconds: int) -> list[TimeSeries]:
    """The first argument again, `seconds` earlier."""
    return ctx.refetch(0, ctx.start - seconds, ctx.end)


@series_function("slow", "Special", [SERIES, Param("seconds", ParamType.FLOAT, default=100)])
def slow(ctx: Context, seriesList: list[TimeSeries], seconds: float = 100) -> list[TimeSeries]:
    CLOCK.now += seconds
    return seriesList


@series_function("broken", "Special", [SERIES])
def broken(ctx: Context, seriesList: list[TimeSeries]) -> list[TimeSeries]:
    raise ZeroDivisionError("division by zero")


@series_function("notAList", "Special", [SERIES])
def not_a_list(ctx: Context, seriesList: list[TimeSeries]) -> int:
    return 5


@series_function("argsSeen", "Special",
                 [SERIES, Param("n", ParamType.INTEGER), Param("other", ParamType.SERIES_LIST)])
def args_seen(ctx: Context, seriesList: list[TimeSeries], n: int = 0,
              other: list[TimeSeries] | None = None) -> list[TimeSeries]:
    """Names its output after the unevaluated argument nodes it was given."""
    return [seriesList[0].copy(name=repr(ctx.args))]


@series_function("viaCall", "Special", [SERIES])
def via_call(ctx: Context, seriesList: list[TimeSeries]) -> list[TimeSeries]:
    return ctx.call("sumSeries", seriesList, seriesList)


REGISTRY = FunctionRegistry(f.series_function for f in (
    double, sum_series, history, slow, broken, not_a_list, args_seen, via_call))

DATA = {"a": ["a"], "b": ["b"], "c": ["c"], "x.*": ["x.1", "x.2", "x.3"]}


def context() -> Context:
    return Context(START, END, NOW, UTC)


def run(targets: list[str], limits: Limits | None = None, source: FakeSource | None = None
        ) -> tuple[list[TimeSeries], FakeSource]:
    source = source or FakeSource(DATA)
    evaluator = Evaluator(REGISTRY, source, limits or Limits(), clock=CLOCK)
    return evaluator.evaluate_targets(targets, context()), source


# -- convert ---------------------------------------------------------------------------------

SPEC = FunctionSpec("fn", lambda ctx: [], "Special", ())
A_SERIES_LIST = [series("a")]


def param(kind: ParamType, required: bool = True, options: tuple | None = None) -> Param:
    return Param("p", kind, required=required, options=options)


@pytest.mark.parametrize(("kind", "given", "expected"), [
    (ParamType.SERIES_LIST, A_SERIES_LIST, A_SERIES_LIST),
    (ParamType.SERIES_LIST, [], []),
    (ParamType.SERIES_LISTS, A_SERIES_LIST, A_SERIES_LIST),
    (ParamType.SERIES, A_SERIES_LIST, A_SERIES_LIST),
    (ParamType.ANY, A_SERIES_LIST, A_SERIES_LIST),
    (ParamType.ANY, "x", "x"),
    (ParamType.ANY, 3, 3),
    (ParamType.BOOLEAN, True, True),
    (ParamType.BOOLEAN, False, False),
    (ParamType.BOOLEAN, 1, True),
    (ParamType.BOOLEAN, 0, False),
    (ParamType.BOOLEAN, "TRUE", True),
    (ParamType.BOOLEAN, "false", False),
    (ParamType.INTEGER, 3, 3),
    (ParamType.INTEGER, -2, -2),
    (ParamType.INTEGER, 3.0, 3),
    (ParamType.NODE, 0, 0),
    (ParamType.NODE, -1, -1),
    (ParamType.INT_OR_INF, 5, 5),
    (ParamType.INT_OR_INF, 5.0, 5),
    (ParamType.INT_OR_INF, math.inf, math.inf),
    (ParamType.FLOAT, 2, 2.0),
    (ParamType.FLOAT, 2.5, 2.5),
    (ParamType.FLOAT, -1e3, -1000.0),
    (ParamType.FLOAT, math.inf, math.inf),
    (ParamType.NODE_OR_TAG, 2, 2),
    (ParamType.NODE_OR_TAG, "name", "name"),
    (ParamType.INTERVAL, "5min", "5min"),
    (ParamType.INTERVAL, "-1h30min", "-1h30min"),
    (ParamType.INT_OR_INTERVAL, 5, 5),
    (ParamType.INT_OR_INTERVAL, "1d", "1d"),
    (ParamType.AGG_FUNC, "sum", "sum"),
    (ParamType.AGG_FUNC, "avg", "avg"),
    (ParamType.AGG_FUNC, "median", "median"),
    (ParamType.AGG_OR_SERIES_FUNC, "sumSeries", "sumSeries"),
    (ParamType.AGG_OR_SERIES_FUNC, "max", "max"),
    (ParamType.DATE, "-1d", "-1d"),
    (ParamType.DATE, 1400000000, 1400000000),
    (ParamType.STRING, "x", "x"),
    (ParamType.STRING, "", ""),
    (ParamType.TAG, "dc", "dc"),
])
def test_convert_accepts(kind: ParamType, given, expected) -> None:
    result = convert(SPEC, param(kind), given)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("kind", "given"), [
    (ParamType.SERIES_LIST, 1),
    (ParamType.SERIES_LIST, "a.b"),
    (ParamType.SERIES_LIST, True),
    (ParamType.SERIES, 2.5),
    (ParamType.SERIES_LISTS, None),  # required
    (ParamType.BOOLEAN, 2),
    (ParamType.BOOLEAN, "yes"),
    (ParamType.BOOLEAN, 1.0),
    (ParamType.BOOLEAN, A_SERIES_LIST),
    (ParamType.INTEGER, 3.5),
    (ParamType.INTEGER, True),
    (ParamType.INTEGER, "3"),
    (ParamType.INTEGER, math.inf),
    (ParamType.INTEGER, A_SERIES_LIST),
    (ParamType.INTEGER, None),  # required
    (ParamType.NODE, "1"),
    (ParamType.INT_OR_INF, 2.5),
    (ParamType.INT_OR_INF, "inf"),
    (ParamType.INT_OR_INF, True),
    (ParamType.FLOAT, "1"),
    (ParamType.FLOAT, True),
    (ParamType.FLOAT, A_SERIES_LIST),
    (ParamType.NODE_OR_TAG, 1.5),
    (ParamType.NODE_OR_TAG, False),
    (ParamType.INTERVAL, 5),
    (ParamType.INTERVAL, "5m"),  # `m` alone is not a unit
    (ParamType.INTERVAL, "soon"),
    (ParamType.INTERVAL, ""),
    (ParamType.INT_OR_INTERVAL, 2.5),
    (ParamType.INT_OR_INTERVAL, "xyz"),
    (ParamType.INT_OR_INTERVAL, True),
    (ParamType.AGG_FUNC, "bogus"),
    (ParamType.AGG_FUNC, 1),
    (ParamType.AGG_OR_SERIES_FUNC, 1),
    (ParamType.DATE, True),
    (ParamType.DATE, A_SERIES_LIST),
    (ParamType.STRING, 1),
    (ParamType.STRING, A_SERIES_LIST),
    (ParamType.TAG, 2.0),
])
def test_convert_refuses(kind: ParamType, given) -> None:
    with pytest.raises(InputError):
        convert(SPEC, param(kind), given)


def test_convert_error_names_function_parameter_and_value() -> None:
    with pytest.raises(InputError, match=r"fn\(\): parameter 'p' expects a number, "
                                         r"got the string 'x'"):
        convert(SPEC, param(ParamType.FLOAT), "x")


@pytest.mark.parametrize("kind", list(ParamType))
def test_convert_lets_none_through_an_optional_parameter(kind: ParamType) -> None:
    assert convert(SPEC, param(kind, required=False), None) is None


def test_convert_checks_string_options() -> None:
    choice = param(ParamType.STRING, options=("sum", "max"))
    assert convert(SPEC, choice, "max") == "max"
    with pytest.raises(InputError, match="one of sum, max"):
        convert(SPEC, choice, "avg")


# -- bind ------------------------------------------------------------------------------------

SCALE = FunctionSpec("scale", lambda ctx: [], "Transform", (
    Param("seriesList", ParamType.SERIES_LIST, required=True),
    Param("factor", ParamType.FLOAT, required=True),
    Param("label", ParamType.STRING, default=None),
))
MANY = FunctionSpec("many", lambda ctx: [], "Combine", (
    Param("seriesLists", ParamType.SERIES_LIST, required=True, multiple=True),
))
FIRST_THEN_MANY = FunctionSpec("group", lambda ctx: [], "Combine", (
    Param("seriesList", ParamType.SERIES_LIST, required=True),
    Param("nodes", ParamType.NODE_OR_TAG, multiple=True),
))


def test_bind_positional_converts_each_value() -> None:
    assert bind(SCALE, [A_SERIES_LIST, 2], {}) == ([A_SERIES_LIST, 2.0], {})


def test_bind_keywords_keep_their_names() -> None:
    positional, keywords = bind(SCALE, [A_SERIES_LIST], {"factor": 3, "label": "x"})
    assert positional == [A_SERIES_LIST]
    assert keywords == {"factor": 3.0, "label": "x"}


def test_bind_every_argument_as_keyword() -> None:
    assert bind(SCALE, [], {"seriesList": A_SERIES_LIST, "factor": 1.5}) == (
        [], {"seriesList": A_SERIES_LIST, "factor": 1.5})


def test_bind_missing_required() -> None:
    with pytest.raises(InputError, match="missing required parameter 'factor'"):
        bind(SCALE, [A_SERIES_LIST], {})


def test_bind_missing_required_series() -> None:
    with pytest.raises(InputError, match="missing required parameter 'seriesList'"):
        bind(SCALE, [], {"factor": 1})


def test_bind_too_many_arguments() -> None:
    with pytest.raises(InputError, match=r"scale\(\) takes at most 3 arguments, got 4"):
        bind(SCALE, [A_SERIES_LIST, 2, "x", 4], {})


def test_bind_unknown_keyword() -> None:
    with pytest.raises(InputError, match="no parameter 'bogus'"):
        bind(SCALE, [A_SERIES_LIST, 2], {"bogus": 1})


def test_bind_keyword_repeating_a_positional() -> None:
    with pytest.raises(InputError, match="'factor' given twice"):
        bind(SCALE, [A_SERIES_LIST, 2], {"factor": 3})


def test_bind_checks_keyword_values() -> None:
    with pytest.raises(InputError, match="'factor' expects a number"):
        bind(SCALE, [A_SERIES_LIST], {"factor": "x"})


def test_bind_multiple_takes_every_remaining_argument() -> None:
    other = [series("b")]
    assert bind(MANY, [A_SERIES_LIST, other, []], {}) == ([A_SERIES_LIST, other, []], {})


def test_bind_multiple_checks_each_value() -> None:
    with pytest.raises(InputError, match="'seriesLists' expects a series list"):
        bind(MANY, [A_SERIES_LIST, 5], {})


def test_bind_multiple_required_but_none_given() -> None:
    with pytest.raises(InputError, match="missing required parameter 'seriesLists'"):
        bind(MANY, [], {})


def test_bind_multiple_optional_may_be_empty() -> None:
    assert bind(FIRST_THEN_MANY, [A_SERIES_LIST], {}) == ([A_SERIES_LIST], {})
    assert bind(FIRST_THEN_MANY, [A_SERIES_LIST, 1, "dc", -1], {}) == (
        [A_SERIES_LIST, 1, "dc", -1], {})


def test_bind_refuses_a_multiple_parameter_as_keyword() -> None:
    with pytest.raises(InputError, match="no parameter 'nodes'"):
        bind(FIRST_THEN_MANY, [A_SERIES_LIST], {"nodes": 1})


# -- Evaluator: fetching -----------------------------------------------------------------------


def test_a_path_target() -> None:
    result, source = run(["a"])
    assert [s.name for s in result] == ["a"]
    assert result[0].to_list() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert source.calls == [(("a",), START, END, NOW)]


def test_all_paths_of_all_targets_in_one_batch() -> None:
    result, source = run(["sumSeries(a, b)", "c", "double(a)|sumSeries(x.*)", "x.*"])
    # one fetch, every distinct path once, in the order they were written
    assert source.calls == [(("a", "b", "c", "x.*"), START, END, NOW)]
    assert [s.name for s in result] == ["sumSeries(...)", "c", "sumSeries(...)",
                                        "x.1", "x.2", "x.3"]


def test_unknown_pattern_gives_no_series() -> None:
    result, source = run(["nothing.here", "sumSeries(nothing.here, a)"])
    assert len(source.calls) == 1
    # sumSeries of only `a`: 0..5
    assert [s.to_list() for s in result] == [[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]


def test_refetch_for_another_window_is_fetched_separately() -> None:
    result, source = run(["history(sumSeries(a, b), 30)"])
    assert source.calls == [
        (("a", "b"), START, END, NOW),
        # the whole argument again, one batch for its new window
        (("a", "b"), START - 30, END, NOW),
    ]
    # (START-30, END] is 9 points: a = 0..8, b = 0..8, summed = 0, 2, ..., 16
    assert result[0].start == START - 30
    assert result[0].to_list() == [2.0 * i for i in range(9)]


def test_refetch_of_a_path_argument() -> None:
    result, source = run(["history(a, 60)", "history(a, 60)"])
    # the second target reuses both windows already fetched
    assert source.calls == [(("a",), START, END, NOW), (("a",), START - 60, END, NOW)]
    assert len(result[0]) == 12
    assert result[0].to_list() == result[1].to_list()


def test_kwargs_paths_are_fetched_and_evaluated() -> None:
    result, source = run(["argsSeen(a, n=2, other=sumSeries(b))"])
    assert source.calls == [(("a", "b"), START, END, NOW)]
    # the function sees its unevaluated argument nodes, positional then keyword
    assert result[0].name == repr((PathExpr("a"), 2, parse_target("sumSeries(b)")))


def test_ctx_call_applies_another_registered_function() -> None:
    result, _ = run(["viaCall(a)"])
    # a + a = 0, 2, 4, ...
    assert result[0].to_list() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]


# -- Evaluator: results are copies -------------------------------------------------------------


def test_a_function_mutating_its_input_cannot_corrupt_a_second_use() -> None:
    result, source = run(["double(a)", "a", "double(a)"])
    assert len(source.calls) == 1
    assert [s.name for s in result] == ["double(a)", "a", "double(a)"]
    assert result[0].to_list() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert result[1].to_list() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert result[2].to_list() == result[0].to_list()


def test_same_path_twice_in_one_call_gives_independent_series() -> None:
    result, _ = run(["sumSeries(double(a), a)"])
    # 2a + a = 0, 3, 6, ...
    assert result[0].to_list() == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0]


def test_results_are_not_the_cached_objects() -> None:
    result, _ = run(["a", "a"])
    assert result[0] is not result[1]
    assert result[0].values is not result[1].values
    result[0].values[0] = 99.0
    assert result[1].values[0] == 0.0


# -- Evaluator: errors ---------------------------------------------------------------------------


def test_unknown_function() -> None:
    with pytest.raises(InputError, match=r"unknown function nope\(\)"):
        run(["nope(a)"])


def test_unknown_function_inside_a_known_one() -> None:
    with pytest.raises(InputError, match=r"unknown function nope\(\)"):
        run(["sumSeries(nope(a))"])


def test_grammar_errors_surface_before_any_fetch() -> None:
    source = FakeSource(DATA)
    with pytest.raises(GrammarError):
        run(["a", "f(("], source=source)
    assert source.calls == []


def test_bad_argument_type() -> None:
    with pytest.raises(InputError, match="'seconds' expects an integer"):
        run(["history(a, 'x')"])


def test_literal_where_a_series_list_is_expected() -> None:
    with pytest.raises(InputError, match="'seriesList' expects a series list"):
        run(["double(5)"])


def test_missing_required_argument() -> None:
    with pytest.raises(InputError, match="missing required parameter 'seconds'"):
        run(["history(a)"])


def test_too_many_arguments() -> None:
    with pytest.raises(InputError, match="takes at most 1 arguments"):
        run(["double(a, b)"])


def test_unknown_keyword_argument() -> None:
    with pytest.raises(InputError, match="no parameter 'bogus'"):
        run(["double(a, bogus=1)"])


def test_function_errors_become_input_errors() -> None:
    with pytest.raises(InputError, match=r"broken\(\): division by zero"):
        run(["broken(a)"])


def test_function_must_return_a_series_list() -> None:
    with pytest.raises(InputError, match=r"notAList\(\) did not give a series list"):
        run(["notAList(a)"])


# -- Evaluator: limits ---------------------------------------------------------------------------


def test_max_series_counts_every_fetched_series() -> None:
    # x.* is 3 series and a is 1: 4 in all
    run(["x.*", "a"], Limits(max_series=4))
    with pytest.raises(LimitError, match="more than 3 series"):
        run(["x.*", "a"], Limits(max_series=3))


def test_max_series_counts_refetches_too() -> None:
    # a once (1) then a again over the longer window (1): 2
    run(["history(a, 60)"], Limits(max_series=2))
    with pytest.raises(LimitError, match="max_series"):
        run(["history(a, 60)"], Limits(max_series=1))


def test_max_points() -> None:
    # x.* = 3 series of 6 points = 18
    run(["x.*"], Limits(max_points=18))
    with pytest.raises(LimitError, match="more than 17 points"):
        run(["x.*"], Limits(max_points=17))


def test_max_points_counts_the_refetched_window() -> None:
    # a over the request window (6 points) + a over 60 s more (12 points) = 18
    run(["history(a, 60)"], Limits(max_points=18))
    with pytest.raises(LimitError, match="max_points"):
        run(["history(a, 60)"], Limits(max_points=17))


def test_max_seconds_with_a_fake_clock() -> None:
    CLOCK.now = 0.0
    run(["slow(a, 10)"], Limits(max_seconds=10))  # exactly at the deadline is still fine
    CLOCK.now = 0.0
    with pytest.raises(LimitError, match="longer than 10 seconds"):
        run(["slow(a, 10.5)"], Limits(max_seconds=10))


def test_max_seconds_stops_before_evaluating_the_next_target() -> None:
    CLOCK.now = 0.0
    source = FakeSource(DATA)
    with pytest.raises(LimitError, match="max_seconds"):
        run(["slow(a, 11)", "history(a, 60)"], Limits(max_seconds=10), source)
    # the second target's re-fetch never happened
    assert len(source.calls) == 1


def test_limit_error_is_an_input_error() -> None:
    assert issubclass(LimitError, InputError)


def test_no_targets_fetches_nothing() -> None:
    result, source = run([])
    assert result == []
    assert source.calls == []
