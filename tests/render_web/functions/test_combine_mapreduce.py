"""mapSeries / reduceSeries, alone and through the evaluator: values worked out by hand in
the comments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

import pytest

from render_web.evaluator import Evaluator, convert
from render_web.functions import combine, default_registry, filters
from render_web.functions.combine import map_series, reduce_series
from render_web.functions.registry import (
    Context,
    FunctionRegistry,
    FunctionSpec,
    InputError,
    Param,
    ParamType,
)
from render_web.series import TimeSeries

N = None


def ctx() -> Context:
    registry = FunctionRegistry.collect([combine])
    return Context(start=0, end=240, now=240, tz=UTC, registry=registry)


def ts(name: str, values: list, start: int = 0, step: int = 60, **kwargs) -> TimeSeries:
    return TimeSeries.from_list(name, start, step, values, **kwargs)


def names(series_list: Sequence[TimeSeries]) -> list[str]:
    return [s.name for s in series_list]


# --- mapSeries ------------------------------------------------------------------------

def test_map_series_groups_by_node_in_order_of_first_appearance():
    series = [ts("s.a.x", [1]), ts("s.b.x", [2]), ts("s.a.y", [3]), ts("s.c.x", [4]),
              ts("s.b.y", [5])]
    out = map_series(ctx(), series, 1)
    # keys a, b, c in the order they are first seen; members keep their input order
    assert [names(group) for group in out] == [["s.a.x", "s.a.y"], ["s.b.x", "s.b.y"],
                                               ["s.c.x"]]
    # the very same series objects, nothing copied or renamed
    assert out[0][0] is series[0]


def test_map_series_several_nodes_and_negative_nodes():
    series = [ts("s.a.x.n", [1]), ts("s.a.y.n", [2]), ts("s.a.x.m", [3]),
              ts("s.b.x.n", [4])]
    # keys (1, 2): a.x, a.y, a.x, b.x
    assert [names(g) for g in map_series(ctx(), series, 1, 2)] == [
        ["s.a.x.n", "s.a.x.m"], ["s.a.y.n"], ["s.b.x.n"]]
    # key -1: n, n, m, n
    assert [names(g) for g in map_series(ctx(), series, -1)] == [
        ["s.a.x.n", "s.a.y.n", "s.b.x.n"], ["s.a.x.m"]]


def test_map_series_by_tag_and_through_function_names():
    east = ts("cpu;dc=east", [1], tags={"name": "cpu", "dc": "east"})
    west = ts("cpu;dc=west", [2], tags={"name": "cpu", "dc": "west"})
    east2 = ts("mem;dc=east", [3], tags={"name": "mem", "dc": "east"})
    assert [names(g) for g in map_series(ctx(), [east, west, east2], "dc")] == [
        ["cpu;dc=east", "mem;dc=east"], ["cpu;dc=west"]]
    # a function-wrapped name is keyed by the first path inside it: a, b, a
    wrapped = [ts("scale(s.a.x,2)", [1]), ts("scale(s.b.x,2)", [2]), ts("s.a.y", [3])]
    assert [names(g) for g in map_series(ctx(), wrapped, 1)] == [
        ["scale(s.a.x,2)", "s.a.y"], ["scale(s.b.x,2)"]]


def test_map_series_of_nothing():
    assert map_series(ctx(), [], 1) == []


# --- reduceSeries ---------------------------------------------------------------------

def disks() -> list[list[TimeSeries]]:
    return [
        [ts("s.a.used", [10, N, 6, 5]), ts("s.a.total", [20, 2, 0, N]),
         ts("s.a.other", [1, 1, 1, 1])],
        [ts("s.b.used", [1, 2, 3, 4]), ts("s.b.total", [4, 4, 4, 4])],
    ]


def test_reduce_series_divides_each_pair():
    out = reduce_series(ctx(), disks(), "divideSeries", 2, "used", "total")
    # a: 10/20 ; null dividend ; divide by 0 ; null divisor.  b: 1/4, 2/4, 3/4, 4/4
    assert names(out) == ["s.a.reduce.divideSeries", "s.b.reduce.divideSeries"]
    assert out[0].to_list() == [0.5, N, N, N]
    assert out[1].to_list() == [0.25, 0.5, 0.75, 1]
    # only the name changes (graphite-web sets `.name` alone): path expression and
    # tags are those of the reduce function's result
    assert out[0].path_expression == "divideSeries(s.a.used,s.a.total)"
    assert out[0].tags == {"name": "divideSeries(s.a.used,s.a.total)"}


def test_reduce_series_passes_series_in_matcher_order():
    out = reduce_series(ctx(), disks(), "divideSeries", 2, "total", "used")
    # b: 4/1, 4/2, 4/3, 4/4
    assert out[1].to_list() == pytest.approx([4, 2, 4 / 3, 1])
    assert out[1].path_expression == "divideSeries(s.b.total,s.b.used)"


def test_reduce_series_with_as_percent_and_three_matchers():
    [a, b] = reduce_series(ctx(), disks(), "asPercent", 2, "used", "total")
    # a: 10/20 ; null ; total 0 ; null total
    assert a.to_list() == [50, N, N, N]
    # b: 1/4, 2/4, 3/4, 4/4 in percent
    assert b.to_list() == [25, 50, 75, 100]
    assert b.name == "s.b.reduce.asPercent"
    lists = [[ts("h.a.x", [1, N]), ts("h.a.y", [2, N]), ts("h.a.z", [3, 4])]]
    [total] = reduce_series(ctx(), lists, "sumSeries", 2, "x", "y", "z")
    # 1+2+3 ; only z is present: 4
    assert total.to_list() == [6, 4]
    assert total.name == "h.a.reduce.sumSeries"


def test_reduce_series_lines_up_steps():
    lists = [[ts("s.a.x", [1, 3, 5, 7], step=30), ts("s.a.y", [2, 4], step=60)]]
    [out] = reduce_series(ctx(), lists, "divideSeries", 2, "x", "y")
    # x averaged in pairs to the lcm step 60: 2, 6 -> 2/2, 6/4
    assert out.step == 60
    assert out.to_list() == [1, 1.5]


def test_reduce_series_pairs_across_lists_and_takes_plain_lists():
    # the pairing is by name prefix, whichever list a series came in
    lists = [[ts("s.a.x", [6])], [ts("s.a.y", [3])]]
    [out] = reduce_series(ctx(), lists, "divideSeries", 2, "x", "y")
    assert out.to_list() == [2]
    flat = [ts("s.a.x", [6]), ts("s.a.y", [3])]
    assert reduce_series(ctx(), flat, "divideSeries", 2, "x", "y")[0].to_list() == [2]


def test_reduce_series_node_positions():
    lists = [[ts("s.a.x", [6]), ts("s.a.y", [2])]]
    # -1 is the last node: same prefix "s.a"
    assert names(reduce_series(ctx(), lists, "divideSeries", -1, "x", "y")) == [
        "s.a.reduce.divideSeries"]
    # node 0 leaves an empty prefix
    top = [[ts("x.a", [6]), ts("y.a", [2])]]
    [out] = reduce_series(ctx(), top, "divideSeries", 0, "x", "y")
    assert out.name == ".reduce.divideSeries" and out.to_list() == [3]


def test_reduce_series_later_match_replaces_earlier():
    lists = [[ts("s.a.x", [6]), ts("s.a.y", [2])], [ts("s.a.x", [10])]]
    # the second s.a.x takes the slot: 10/2
    assert reduce_series(ctx(), lists, "divideSeries", 2, "x", "y")[0].to_list() == [5]


def test_reduce_series_without_matches_gives_nothing():
    assert reduce_series(ctx(), disks(), "divideSeries", 2, "nope", "none") == []
    assert reduce_series(ctx(), [], "divideSeries", 2, "x", "y") == []
    # no match means the function is never called, so even an unknown name is fine
    assert reduce_series(ctx(), disks(), "noSuchFunction", 2, "nope") == []


def test_reduce_series_does_not_touch_its_input():
    lists = disks()
    reduce_series(ctx(), lists, "divideSeries", 2, "used", "total")
    assert names(lists[0]) == ["s.a.used", "s.a.total", "s.a.other"]
    assert lists[0][0].to_list() == [10, N, 6, 5]


@pytest.mark.parametrize(("lists", "args", "message"), [
    # s.b has no "other": graphite-web fails calling divideSeries on None
    (None, ("divideSeries", 2, "used", "other"), "no series for other under 's.b'"),
    (None, ("noSuchFunction", 2, "used"), "unknown function"),
    ([[ts("s.a", [1])]], ("divideSeries", 2, "x"), "has no node 2"),
])
def test_reduce_series_errors(lists, args, message):
    with pytest.raises(InputError, match=message):
        reduce_series(ctx(), disks() if lists is None else lists, *args)


def test_reduce_series_when_the_function_gives_nothing():
    registry = FunctionRegistry.collect([combine, filters])
    context = Context(0, 240, 240, UTC, registry=registry)
    # removeEmptySeries drops the all-null s.a.x: nothing to name s.a.reduce...
    with pytest.raises(InputError, match="gave no series"):
        reduce_series(context, [[ts("s.a.x", [N, N])]], "removeEmptySeries", 2, "x")


def test_registered_names_and_aliases():
    registry = FunctionRegistry.collect([combine])
    assert registry.get("map").func is map_series
    assert registry.get("mapSeries").func is map_series
    assert registry.get("reduce").func is reduce_series
    assert registry.get("reduceSeries").func is reduce_series


# --- through the evaluator ------------------------------------------------------------

START, END, NOW, STEP = 1000, 1040, 1100, 10

VALUES = {
    "a.1.x": [2, 4, 6, 8], "a.1.y": [1, 2, 0, N],
    "a.2.x": [3, 3, 3, 3], "a.2.y": [3, 1, 6, 3],
}
# The source answers in name order, x's first, as a store might.
PATTERNS = {"a.*.{x,y}": ["a.1.x", "a.2.x", "a.1.y", "a.2.y"], "a.*.x": ["a.1.x", "a.2.x"]}


class Source:
    def fetch(self, patterns: Sequence[str], start: int, end: int, now: int
              ) -> dict[str, list[TimeSeries]]:
        assert (start, end) == (START, END)
        return {p: [TimeSeries.from_list(n, START, STEP, VALUES[n], path_expression=p)
                    for n in PATTERNS[p]] for p in patterns if p in PATTERNS}


def evaluate(*targets: str) -> list[TimeSeries]:
    evaluator = Evaluator(default_registry(), Source())
    return evaluator.evaluate_targets(list(targets), Context(START, END, NOW, UTC))


@pytest.mark.parametrize("target", [
    'reduceSeries(mapSeries(a.*.{x,y},1),"divideSeries",2,"x","y")',
    'reduce(map(a.*.{x,y},1),"divideSeries",2,"x","y")',
    # a plain series list is taken as one list: the pairing is the same
    'reduceSeries(a.*.{x,y},"divideSeries",2,"x","y")',
])
def test_evaluator_map_reduce(target):
    out = evaluate(target)
    # a.1: 2/1, 4/2, 6/0 -> null, 8/null -> null.  a.2: 3/3, 3/1, 3/6, 3/3
    assert names(out) == ["a.1.reduce.divideSeries", "a.2.reduce.divideSeries"]
    assert out[0].to_list() == [2, 2, N, N]
    assert out[1].to_list() == [1, 3, 0.5, 1]


def test_evaluator_map_reduce_feeds_other_functions():
    [out] = evaluate('sumSeries(reduceSeries(mapSeries(a.*.{x,y},1),"divideSeries",2,'
                     '"x","y"))')
    # 2+1, 2+3, null+0.5, null+1
    assert out.to_list() == [3, 5, 0.5, 1]


def test_evaluator_flattens_a_map_result_at_the_top_level():
    out = evaluate("mapSeries(a.*.{x,y},1)")
    # the groups a.1 then a.2, concatenated
    assert names(out) == ["a.1.x", "a.1.y", "a.2.x", "a.2.y"]


def test_evaluator_flattens_a_map_result_given_to_a_series_list():
    [out] = evaluate("sumSeries(map(a.*.{x,y},1))")
    # 2+1+3+3, 4+2+3+1, 6+0+3+6, 8+3+3
    assert out.to_list() == [9, 10, 15, 14]
    assert out.name == "sumSeries(a.*.{x,y})"
    # and each group member can be scaled, aliased, ...
    assert names(evaluate("aliasByNode(mapSeries(a.*.x,1),1)")) == ["1", "2"]


def test_evaluator_matcher_order_and_map_result_by_keyword():
    [_, out] = evaluate('reduceSeries(mapSeries(a.*.{x,y},1),"divideSeries",2,"y","x")')
    # a.2: 3/3, 1/3, 6/3, 3/3
    assert out.to_list() == pytest.approx([1, 1 / 3, 2, 1])
    out = evaluate("scale(seriesList=mapSeries(a.*.x,1),factor=2)")
    # a.1.x and a.2.x doubled
    assert [s.to_list() for s in out] == [[4, 8, 12, 16], [6, 6, 6, 6]]


@pytest.mark.parametrize(("target", "message"), [
    ('reduceSeries(mapSeries(a.*.{x,y},1),"divideSeries",2)', "reduceMatchers"),
    ('reduceSeries(mapSeries(a.*.{x,y},1),5,2,"x")', "reduceFunction"),
    ('reduceSeries("x","divideSeries",2,"x")', "seriesLists"),
    ("mapSeries(a.*.x)", "mapNodes"),
    ('reduceSeries(mapSeries(a.*.{x,y},1),"nope",2,"x","y")', "unknown function"),
])
def test_evaluator_map_reduce_bad_arguments(target, message):
    with pytest.raises(InputError, match=message):
        evaluate(target)


# --- argument conversion ---------------------------------------------------------------

SPEC = FunctionSpec("fn", lambda ctx: [], "Combine", ())


def test_convert_series_lists_and_flattening():
    x, y = ts("x", [1]), ts("y", [2])
    lists = Param("p", ParamType.SERIES_LISTS, required=True)
    assert convert(SPEC, lists, [[x], [y]]) == [[x], [y]]
    assert convert(SPEC, lists, [x, y]) == [x, y]
    assert convert(SPEC, lists, []) == []
    with pytest.raises(InputError, match="list of series lists"):
        convert(SPEC, lists, "x")
    with pytest.raises(InputError, match="list of series lists"):
        convert(SPEC, lists, [[x], y])
    # anywhere else a list of lists is one series list, in order
    for kind in (ParamType.SERIES_LIST, ParamType.SERIES, ParamType.ANY):
        assert convert(SPEC, Param("p", kind, required=True), [[x], [y]]) == [x, y]
    with pytest.raises(InputError, match="expects a string"):
        convert(SPEC, Param("p", ParamType.STRING, required=True), [[x], [y]])
