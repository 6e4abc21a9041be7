"""graphite-web's Alias functions: names change, path expressions and tags do not."""

from __future__ import annotations

import pytest

from render_web.functions import alias
from render_web.functions.registry import InputError
from tests.render_web.functions.test_transform import CTX, ts

N = None


def names(series_list: list) -> list[str]:
    return [s.name for s in series_list]


def test_alias_keeps_path_expression_and_tags() -> None:
    source = ts("a.b", [1], path_expression="a.*")
    [out] = alias.alias(CTX, [source], "Large Blue")
    assert out.name == "Large Blue"
    assert out.path_expression == "a.*"
    assert out.tags == {"name": "a.b"}
    assert source.name == "a.b"
    assert alias.alias(CTX, [], "x") == []


# --- aliasByNode -----------------------------------------------------------------------


def test_alias_by_node_positions() -> None:
    source = [ts("a.b.c.d", [1])]
    assert names(alias.alias_by_node(CTX, source, 1)) == ["b"]
    assert names(alias.alias_by_node(CTX, source, 0, -1)) == ["a.d"]
    assert names(alias.alias_by_node(CTX, source, 3, 0)) == ["d.a"]
    assert names(alias.alias_by_node(CTX, source, 7)) == [""]  # out of range: no such tag


def test_alias_by_node_reads_through_function_names() -> None:
    def by(name: str, *nodes: int | str) -> str:
        return alias.alias_by_node(CTX, [ts(name, [1])], *nodes)[0].name

    assert by("scale(sumSeries(a.b.c),2)", 1) == "b"
    assert by('movingAverage(x.y.z,"5min")', -1) == "z"
    assert by("sumSeries(a.{b,c}.d,x.y)", 2) == "d"
    assert by('timeShift(h.cpu.idle, "-1d")', 0, 2) == "h.idle"
    # a literal first argument has no path: the whole name is split instead
    assert by("constantLine(100)", 0) == "constantLine(100)"


def test_alias_by_node_tags() -> None:
    tags = {"name": "cpu.load", "host": "h1", "dc": "east"}
    source = [ts("cpu.load;dc=east;host=h1", [1], tags=tags)]
    assert names(alias.alias_by_node(CTX, source, "dc", "host", 1)) == ["east.h1.load"]
    assert names(alias.alias_by_node(CTX, source, "rack")) == [""]
    assert names(alias.alias_by_tags(CTX, source, "host", "name")) == ["h1.cpu.load"]
    assert names(alias.alias_by_tags(CTX, source, 0)) == ["cpu"]


def test_first_path_expression() -> None:
    first = alias.first_path_expression
    assert first('movingAverage(a.b,"5min")') == "a.b"
    assert first("f(g(h(x.y)),2)") == "x.y"
    assert first("f( a.b , 1)") == "a.b"
    assert first("f(1foo.bar)") == "1foo.bar"  # not a number: a path
    assert first("f('x')") is None
    assert first("f(-1.5)") is None
    assert first("f(true)") is None
    assert first("f(name=1)") is None
    assert first("f(") is None
    assert first("f()") is None
    assert first("a.b.c") == "a.b.c"


# --- aliasByMetric ---------------------------------------------------------------------


def test_alias_by_metric() -> None:
    def by(name: str) -> str:
        return alias.alias_by_metric(CTX, [ts(name, [1])])[0].name

    assert by("a.b.c") == "c"
    assert by("scale(a.b.c,10)") == "c"
    assert by('movingAverage(a.b.c,"5min")') == "c"
    assert by("sumSeries(a.b.c,x.y.z)") == "z"  # last node of "a.b.c,x.y.z"
    assert by("cpu;host=a") == "cpu;host=a"


# --- aliasSub --------------------------------------------------------------------------


def test_alias_sub_grafana_ref_id() -> None:
    source = ts("app.server.requests", [1], path_expression="app.*.requests")
    [out] = alias.alias_sub(CTX, [source], "(^.*$)", r"\1 A")
    assert out.name == "app.server.requests A"
    assert out.path_expression == "app.*.requests"
    assert out.tags == {"name": "app.server.requests"}


def test_alias_sub_regex() -> None:
    source = [ts("ip.10.TCP8080", [1]), ts("ip.11.UDP53", [1])]
    out = alias.alias_sub(CTX, source, r"^.*TCP(\d+)", r"port \1")
    assert names(out) == ["port 8080", "ip.11.UDP53"]
    with pytest.raises(InputError):
        alias.alias_sub(CTX, source, "(", "x")
    with pytest.raises(InputError):
        alias.alias_sub(CTX, source, "(a)", r"\2")


# --- legendValue -----------------------------------------------------------------------

VALUES = [1, 2, N, 5]  # non-null: 1, 2, 5


def legend(*types: str, values: list[float | None] = VALUES) -> str:
    return alias.legend_value(CTX, [ts("a.b", values)], *types)[0].name


def test_legend_value_plain() -> None:
    # avg 8/3, total 8, min 1, max 5, last 5, 3 values, avg_zero 8/4
    assert legend("avg") == "a.b (avg: 2.6666666666666665)"
    assert legend("total", "min", "max", "last") == (
        "a.b (total: 8.0) (min: 1.0) (max: 5.0) (last: 5.0)")
    assert legend("count") == "a.b (count: 3)"
    assert legend("avg_zero") == "a.b (avg_zero: 2.0)"
    assert legend("multiply") == "a.b (multiply: None)"  # a null makes it None
    assert legend("avgSeries") == "a.b (avgSeries: (?))"
    assert legend("avg", values=[N, N]) == "a.b (avg: None)"


def columns(name: str, value_type: str, value: str) -> str:
    """graphite-web's "%-20s%-5s%-10s" legend layout."""
    return name.ljust(20) + value_type.ljust(5) + value.ljust(10)


def test_legend_value_units() -> None:
    # avg of 1500 and 2500 = 2000 -> 2.00k; columns 20, 5, 10 wide. graphite-web's si
    # kilo is a lowercase "k" (golden legendValue_si); this test used to expect "K".
    name = legend("avg", "si", values=[1500, 2500])
    assert name == "a.b" + " " * 17 + "avg  " + "2.00k     "
    assert legend("max", "binary", values=[2048]) == columns("a.b", "max", "2.00Ki")
    assert legend("min", "si", values=[5.5]) == columns("a.b", "min", "5.50")
    assert legend("avg", "si", values=[N]) == columns("a.b", "avg", "None")
    two = legend("min", "max", "si", values=[1, 3000])
    assert two == columns(columns("a.b", "min", "1.00"), "max", "3.00k")
    with pytest.raises(InputError):
        legend()


def test_format_units() -> None:
    assert alias.format_units(1e6, "si") == (1.0, "M")
    assert alias.format_units(999, "si") == (999.0, "")
    assert alias.format_units(-2000, "si") == (-2.0, "k")  # lowercase kilo
    assert alias.format_units(1024, "binary") == (1.0, "Ki")
    assert alias.format_units(1536, "binary") == (1.5, "Ki")
    assert alias.format_units(float("inf"), "si") == (float("inf"), "P")
