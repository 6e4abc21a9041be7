from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from render_web.functions import special
from render_web.functions.registry import Context, FunctionRegistry, InputError
from render_web.series import TimeSeries

CTX = Context(start=1000, end=1100, now=1100, tz=ZoneInfo("UTC"), x_files_factor=0.25)
REFERENCE = Path(__file__).resolve().parents[1] / "golden" / "_functions.json"


def series(name: str = "a.b", values=(1.0, None, 3.0), start: int = 1000, step: int = 10,
           **kwargs) -> TimeSeries:
    return TimeSeries.from_list(name, start, step, list(values), **kwargs)


# -- metadata -------------------------------------------------------------------------------

SPECIAL_FUNCTIONS = ["cactiStyle", "changed", "consolidateBy", "constantLine", "cumulative",
                     "fallbackSeries", "randomWalk", "randomWalkFunction", "setXFilesFactor",
                     "substr", "xFilesFactor"]


@pytest.mark.parametrize("name", SPECIAL_FUNCTIONS)
def test_params_match_graphite(name):
    reference = json.loads(REFERENCE.read_text())[name]
    registry = FunctionRegistry.collect([special])
    spec = registry.get(name)
    assert spec is not None
    assert spec.group == reference["group"] == "Special"
    assert spec.metadata()["params"] == reference["params"]
    assert name in registry.metadata()


# -- consolidateBy / cumulative ----------------------------------------------------------------

@pytest.mark.parametrize("func", ["sum", "average", "avg", "avg_zero", "min", "max", "first",
                                  "last"])
def test_consolidate_by(func):
    original = series()
    [result] = special.consolidate_by(CTX, [original], func)
    assert result.name == f'consolidateBy(a.b,"{func}")'
    assert result.path_expression == result.name
    assert result.consolidation == func
    assert result.tags == {"name": "a.b", "consolidateBy": func}
    assert result.to_list() == [1.0, None, 3.0]
    assert original.consolidation == "average" and original.name == "a.b"


def test_consolidate_by_changes_how_points_merge():
    values = [1.0, 4.0, 2.0, None]
    [by_max] = special.consolidate_by(CTX, [series(values=values)], "max")
    [by_sum] = special.consolidate_by(CTX, [series(values=values)], "sum")
    # pairs (1, 4) and (2, null): max -> 4, 2; sum -> 5, 2
    assert by_max.consolidate(2).to_list() == [4.0, 2.0]
    assert by_sum.consolidate(2).to_list() == [5.0, 2.0]


def test_consolidate_by_refuses_unknown_functions():
    with pytest.raises(InputError, match="median"):
        special.consolidate_by(CTX, [series()], "median")


def test_cumulative_is_consolidate_by_sum():
    [result] = special.cumulative(CTX, [series()])
    assert result.name == 'consolidateBy(a.b,"sum")'
    assert result.consolidation == "sum"


# -- xFilesFactor ---------------------------------------------------------------------------

def test_set_x_files_factor():
    original = series()
    [result] = special.set_x_files_factor(CTX, [original], 0.5)
    assert result.x_files_factor == 0.5
    assert result.tags == {"name": "a.b", "xFilesFactor": "0.5"}
    assert result.name == "a.b" and result.path_expression == "a.b"
    assert original.x_files_factor == 0.0
    # with 0.5, a pair of points needs one non-null: (1, null) -> 1; (3, null) -> 3;
    # with 0.75 neither pair qualifies
    values = [1.0, None, 3.0, None]
    [half] = special.set_x_files_factor(CTX, [series(values=values)], 0.5)
    assert half.consolidate(2).to_list() == [1.0, 3.0]
    [most] = special.set_x_files_factor(CTX, [series(values=values)], 0.75)
    assert most.consolidate(2).to_list() == [None, None]


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_x_files_factor_out_of_range(value):
    with pytest.raises(InputError):
        special.set_x_files_factor(CTX, [series()], value)


def test_x_files_factor_alias():
    registry = FunctionRegistry.collect([special])
    assert registry.get("xFilesFactor") is registry.get("setXFilesFactor")


# -- constantLine -------------------------------------------------------------------------------

def test_constant_line_over_the_window():
    [line] = special.constant_line(CTX, 100)
    # graphite: step int((1100 - 1000) / 2) = 50 and three points: 1000, 1050, 1100
    assert (line.start, line.step) == (1000, 50)
    assert line.timestamps().tolist() == [1000, 1050, 1100]
    assert line.to_list() == [100.0, 100.0, 100.0]
    # the value is a float once validated, so its str() names the series
    assert line.name == "100.0"
    assert line.path_expression == "constantLine(100.0)"
    assert line.tags == {"name": "100.0"}
    assert line.x_files_factor == 0.25         # the request's


def test_constant_line_odd_and_tiny_windows():
    odd = Context(start=1000, end=1101, now=1101, tz=ZoneInfo("UTC"))
    [line] = special.constant_line(odd, -2.5)
    assert (line.step, line.name) == (50, "-2.5")       # int(101 / 2) = 50
    tiny = Context(start=1000, end=1001, now=1001, tz=ZoneInfo("UTC"))
    [line] = special.constant_line(tiny, 1)
    assert line.step == 1 and len(line) == 3


# -- cactiStyle ---------------------------------------------------------------------------------

def test_cacti_style_plain():
    result = special.cacti_style(CTX, [series("a.b", [1.0, 5.0, 3.0]),
                                       series("longer.name", [None, None])])
    # name column: len("longer.name") = 11; value columns: len("3.00") + 3 = 7
    assert result[0].name == "a.b         Current:3.00    Max:5.00    Min:1.00    "
    assert result[1].name == "longer.name Current:nan     Max:nan     Min:nan     "
    assert result[0].tags == {"name": "a.b"}
    assert result[0].path_expression == "a.b"
    assert result[0].to_list() == [1.0, 5.0, 3.0]


def test_cacti_style_with_unit_systems():
    values = [1500.0, 2500.0]
    # si: 2500 -> "2.50k", 5 characters: columns of 5 + 3 = 8, then the separating space
    [result] = special.cacti_style(CTX, [series("s", values)], "si")
    assert result.name == "s Current:2.50k    Max:2.50k    Min:1.50k    "
    [result] = special.cacti_style(CTX, [series("s", values)], "si", "b")
    assert result.name == "s Current:2.50 kb    Max:2.50 kb    Min:1.50 kb    "
    [result] = special.cacti_style(CTX, [series("s", values)], None, "b")
    assert result.name == "s Current:2500.00 b    Max:2500.00 b    Min:1500.00 b    "
    [result] = special.cacti_style(CTX, [series("s", [2048.0])], "binary")
    assert result.name == "s Current:2.00Ki    Max:2.00Ki    Min:2.00Ki    "


def test_cacti_style_edge_cases():
    assert special.cacti_style(CTX, []) == []
    with pytest.raises(InputError):
        special.cacti_style(CTX, [series()], "imperial")
    # the last value is the last non-null one
    [result] = special.cacti_style(CTX, [series("x", [1.0, 2.0, None])])
    assert "Current:2.00" in result.name


# -- changed, fallbackSeries, substr, randomWalk ----------------------------------------------

def test_changed():
    original = series("x", [None, 1.0, 1.0, 2.0, None, 2.0, 3.0])
    [result] = special.changed(CTX, [original])
    # the first non-null has nothing before it (0); 1->1 is 0; 1->2 is 1; nulls are 0;
    # 2 after a null compares with the 2 before it (0); 3 is a change (1)
    assert result.to_list() == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    assert result.name == result.path_expression == "changed(x)"
    assert original.to_list()[0] is None
    [empty] = special.changed(CTX, [series("e", [])])
    assert empty.to_list() == []


def test_fallback_series():
    main, spare = [series("a")], [series("b")]
    assert special.fallback_series(CTX, main, spare) == main
    assert special.fallback_series(CTX, [], spare) == spare


@pytest.mark.parametrize(("name", "start", "stop", "expected"), [
    ("carbon.agents.hostname.avgUpdateTime", 2, 4, "hostname.avgUpdateTime"),
    ("carbon.agents.hostname.avgUpdateTime", 1, 0, "agents.hostname.avgUpdateTime"),
    ("carbon.agents.hostname.avgUpdateTime", 0, -1, "carbon.agents.hostname"),
    ("sumSeries(a.b.c)", 1, 0, "b.c"),
    ("func(a.b,'c')", 1, 0, "b"),
])
def test_substr(name, start, stop, expected):
    [result] = special.substr(CTX, [series(name)], start, stop)
    assert result.name == expected
    assert result.path_expression == name


def test_substr_bad_nodes():
    with pytest.raises(InputError):
        special.substr(CTX, [series()], "x")


def test_random_walk():
    [walk] = special.random_walk(CTX, "test.walk", 30)
    # 1000..1100 in steps of 30: 1000, 1030, 1060, 1090 -> 4 points from 0
    assert (walk.name, walk.start, walk.step, len(walk)) == ("test.walk", 1000, 30, 4)
    assert walk.values[0] == 0.0
    assert np.all(np.abs(np.diff(walk.values)) <= 0.5)
    with pytest.raises(InputError):
        special.random_walk(CTX, "x", 0)
