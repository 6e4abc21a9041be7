from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from render_web import attime
from render_web.functions import graph
from render_web.functions.registry import Context, FunctionRegistry, InputError
from render_web.series import TimeSeries

CTX = Context(start=1000, end=1100, now=1100, tz=ZoneInfo("UTC"))
REFERENCE = Path(__file__).resolve().parents[1] / "golden" / "_functions.json"


def series(name: str = "a.b", values=(1.0, None, 3.0), start: int = 1000, step: int = 10,
           **kwargs) -> TimeSeries:
    return TimeSeries.from_list(name, start, step, list(values), **kwargs)


def same_values(actual: TimeSeries, expected: list[float | None]) -> bool:
    return actual.to_list() == expected


# -- metadata -------------------------------------------------------------------------------

GRAPH_FUNCTIONS = ["alpha", "areaBetween", "color", "dashed", "drawAsInfinite", "lineWidth",
                   "secondYAxis", "stacked", "threshold", "verticalLine"]


@pytest.mark.parametrize("name", GRAPH_FUNCTIONS)
def test_params_match_graphite(name):
    reference = json.loads(REFERENCE.read_text())[name]
    spec = FunctionRegistry.collect([graph]).get(name)
    assert spec is not None
    assert spec.group == reference["group"] == "Graph"
    assert spec.metadata()["params"] == reference["params"]


def test_every_function_has_its_own_description():
    for spec in FunctionRegistry.collect([graph]).specs():
        assert spec.description
        assert len(spec.description) < 300


# -- color, alpha, lineWidth: options only --------------------------------------------------

@pytest.mark.parametrize(("func", "args", "key", "value"), [
    (graph.color, ("red",), "color", "red"),
    (graph.alpha, (0.5,), "alpha", 0.5),
    (graph.line_width, (3,), "lineWidth", 3.0),
])
def test_style_options_keep_names(func, args, key, value):
    original = series()
    [result] = func(CTX, [original], *args)
    assert result.options == {key: value}
    assert result.name == "a.b"
    assert result.path_expression == "a.b"
    assert result.tags == {"name": "a.b"}
    assert same_values(result, [1.0, None, 3.0])
    assert original.options == {}          # the input is not changed


def test_options_accumulate():
    [result] = graph.color(CTX, graph.line_width(CTX, [series()], 2), "blue")
    assert result.options == {"lineWidth": 2.0, "color": "blue"}


def test_empty_lists():
    for func, args in [(graph.color, ("red",)), (graph.alpha, (0.1,)),
                       (graph.line_width, (1,)), (graph.dashed, ()),
                       (graph.second_y_axis, ()), (graph.draw_as_infinite, ()),
                       (graph.stacked, ())]:
        assert func(CTX, [], *args) == []


# -- renaming ones ---------------------------------------------------------------------------

def test_dashed():
    original = series()
    [result] = graph.dashed(CTX, [original])
    assert result.name == "dashed(a.b, 5)"
    assert result.options == {"dashed": 5}
    # graphite records the change in a tag and keeps the name tag and path expression
    assert result.tags == {"name": "a.b", "dashed": "5"}
    assert result.path_expression == "a.b"
    [result] = graph.dashed(CTX, [original], 2)
    assert result.name == "dashed(a.b, 2)"
    assert original.name == "a.b" and original.tags == {"name": "a.b"}
    with pytest.raises(InputError):
        graph.dashed(CTX, [original], 0)


def test_second_y_axis():
    [result] = graph.second_y_axis(CTX, [series()])
    assert result.name == "secondYAxis(a.b)"
    assert result.options == {"secondYAxis": True}
    assert result.tags == {"name": "a.b", "secondYAxis": "1"}
    assert result.path_expression == "a.b"


def test_draw_as_infinite():
    [result] = graph.draw_as_infinite(CTX, [series()])
    assert result.name == "drawAsInfinite(a.b)"
    assert result.options == {"drawAsInfinite": True}
    assert result.tags == {"name": "a.b", "drawAsInfinite": "1"}


# -- stacked ---------------------------------------------------------------------------------

def test_stacked_adds_up_and_keeps_nulls():
    a = series("a", [1.0, None, 3.0])
    b = series("b", [10.0, 20.0, None])
    c = series("c", [1.0, 1.0, 1.0, 1.0])
    result = graph.stacked(CTX, [a, b, c])
    # a stays; the total becomes [1, 0, 3]; b adds: [11, 20, null] (total [11, 20, 3]);
    # c is longer: [12, 21, 4, 1]
    assert [r.to_list() for r in result] == [[1.0, None, 3.0], [11.0, 20.0, None],
                                             [12.0, 21.0, 4.0, 1.0]]
    assert [r.name for r in result] == ["stacked(a)", "stacked(b)", "stacked(c)"]
    assert result[0].tags == {"name": "a", "stacked": "__DEFAULT__"}
    assert all(r.options == {"stacked": True} for r in result)
    assert a.to_list() == [1.0, None, 3.0] and a.options == {}


def test_stacked_named_stack_keeps_names():
    [result] = graph.stacked(CTX, [series("tx.packets", [1.0, 2.0])], "tx")
    assert result.name == "tx.packets"
    assert result.tags == {"name": "tx.packets"}
    assert result.options == {"stacked": True}


def test_stacked_keeps_totals_for_the_request_when_the_context_has_state():
    ctx = SimpleNamespace(state={})
    graph.stacked(ctx, [series("a", [1.0, 2.0])])
    [second] = graph.stacked(ctx, [series("b", [10.0, 10.0])])
    assert second.to_list() == [11.0, 12.0]
    # another stack name starts from zero
    [other] = graph.stacked(ctx, [series("c", [5.0, 5.0])], "rx")
    assert other.to_list() == [5.0, 5.0]
    # another request (its own state) starts from zero
    [alone] = graph.stacked(dataclasses.replace(CTX, state={}), [series("b", [10.0, 10.0])])
    assert alone.to_list() == [10.0, 10.0]


# -- areaBetween -------------------------------------------------------------------------------

def test_area_between():
    low = series("lat.min", [1.0, 2.0])
    high = series("lat.max", [5.0, 6.0])
    lower, upper = graph.area_between(CTX, [low, high])
    assert lower.name == upper.name == "areaBetween(lat.max)"
    assert lower.options == {"stacked": True, "invisible": True}
    assert upper.options == {"stacked": True}
    assert lower.tags == upper.tags == {"name": "lat.max", "areaBetween": "1"}
    assert lower.to_list() == [1.0, 2.0] and upper.to_list() == [5.0, 6.0]
    assert (lower.path_expression, upper.path_expression) == ("lat.min", "lat.max")
    assert low.options == {} and high.tags == {"name": "lat.max"}


@pytest.mark.parametrize("count", [0, 1, 3])
def test_area_between_needs_two_series(count):
    with pytest.raises(InputError, match="exactly"):
        graph.area_between(CTX, [series(f"s{i}") for i in range(count)])


# -- threshold and verticalLine ----------------------------------------------------------------

def test_threshold_is_a_constant_line():
    [line] = graph.threshold(CTX, 42)
    # window 1000..1100: step (1100-1000)/2 = 50, three points at 1000, 1050, 1100
    assert (line.start, line.step, line.to_list()) == (1000, 50, [42.0, 42.0, 42.0])
    assert line.name == "42.0"
    assert line.path_expression == "constantLine(42.0)"
    assert line.options == {}


def test_threshold_label_and_color():
    [line] = graph.threshold(CTX, 1.5, "limit", "red")
    assert line.name == "limit"
    # graphite only renames: the name tag and path expression stay the constant's
    assert line.tags == {"name": "1.5"}
    assert line.path_expression == "constantLine(1.5)"
    assert line.options == {"color": "red"}


def test_vertical_line():
    [line] = graph.vertical_line(CTX, 1050, "deploy", "blue")
    assert (line.name, line.start, line.step, line.to_list()) == ("deploy", 1050, 1, [1.0, 1.0])
    assert line.options == {"drawAsInfinite": True, "color": "blue"}
    [line] = graph.vertical_line(CTX, "1000")
    assert line.start == 1000 and line.name == ""
    with pytest.raises(InputError, match="before start"):
        graph.vertical_line(CTX, 999)
    with pytest.raises(InputError, match="after end"):
        graph.vertical_line(CTX, 1101)


@pytest.mark.skipif(not hasattr(attime, "parse_attime"), reason="parse_attime not written yet")
def test_vertical_line_relative_time():
    [line] = graph.vertical_line(CTX, "-1min")
    assert line.start == 1040       # now (1100) minus 60 s


def test_vertical_line_series_is_well_formed():
    [line] = graph.vertical_line(CTX, 1100)
    assert np.array_equal(line.timestamps(), [1100, 1101])
