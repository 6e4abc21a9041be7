"""graphite-web's Combine functions: values worked out by hand in the comments."""

from __future__ import annotations

import math
from datetime import UTC

import numpy as np
import pytest

from render_web.functions import combine, filters
from render_web.functions.combine import (
    agg_key,
    aggregate,
    aggregate_series_lists,
    aggregate_with_wildcards,
    as_percent,
    average_series,
    average_series_with_wildcards,
    count_series,
    diff_series,
    diff_series_lists,
    divide_series,
    divide_series_lists,
    first_path_expression,
    group,
    group_by_node,
    group_by_nodes,
    group_by_tags,
    max_series,
    min_series,
    multiply_series,
    multiply_series_lists,
    multiply_series_with_wildcards,
    percentile_of_series,
    pow_series,
    range_of_series,
    reduce_rows,
    row_percentiles,
    stddev_series,
    sum_series,
    sum_series_lists,
    sum_series_with_wildcards,
    weighted_average,
)
from render_web.functions.registry import Context, FunctionRegistry, InputError
from render_web.series import TimeSeries

N = None


def ctx(xff: float = 0.0, registry: bool = False) -> Context:
    reg = FunctionRegistry.collect([combine, filters]) if registry else None
    return Context(start=0, end=600, now=600, tz=UTC, x_files_factor=xff, registry=reg)


def ts(name: str, values: list, start: int = 0, step: int = 60, **kwargs) -> TimeSeries:
    return TimeSeries.from_list(name, start, step, values, **kwargs)


def vals(series: TimeSeries) -> list:
    return series.to_list()


# --- aggregate and the *Series functions ----------------------------------------------

def test_sum_series_skips_nulls_and_is_null_only_when_all_are():
    a = ts("a", [1, N, 3, N])
    b = ts("b", [2, 5, N, N])
    [out] = sum_series(ctx(), [a, b])
    # 1+2, 5, 3, all null
    assert vals(out) == [3, 5, 3, None]
    assert (out.start, out.step) == (0, 60)
    assert out.name == out.path_expression == "sumSeries(a,b)"
    assert out.tags == {"name": "sumSeries(a,b)", "aggregatedBy": "sum"}
    assert out.consolidation == "average"


def test_sum_series_takes_several_lists():
    [out] = sum_series(ctx(), [ts("a", [1, 2])], [ts("b", [10, 20]), ts("c", [100, N])])
    assert vals(out) == [111, 22]
    assert out.name == "sumSeries(a,b,c)"


def test_aggregate_name_keeps_path_expressions_in_first_seen_order_without_repeats():
    series = [ts("z.1", [1], path_expression="z.*"), ts("a.1", [1], path_expression="a.*"),
              ts("z.2", [1], path_expression="z.*")]
    [out] = sum_series(ctx(), series)
    assert out.name == "sumSeries(z.*,a.*)"


def test_aggregate_lines_up_different_steps_on_their_lcm():
    # a: step 10, six points -> averaged in threes: (1+2+3)/3=2, (4+5+6)/3=5
    a = ts("a", [1, 2, 3, 4, 5, 6], step=10)
    # b: step 15, four points -> averaged in twos: 15, 35
    b = ts("b", [10, 20, 30, 40], step=15)
    [out] = sum_series(ctx(), [a, b])
    assert out.step == 30
    assert vals(out) == [17, 40]
    # inputs are left alone
    assert vals(a) == [1, 2, 3, 4, 5, 6] and a.step == 10


def test_aggregate_pads_a_series_that_starts_later():
    a = ts("a", [1, 2, 3], start=0)
    b = ts("b", [10, 20], start=60)
    [out] = sum_series(ctx(), [a, b])
    # 0: 1 ; 60: 2+10 ; 120: 3+20
    assert out.start == 0
    assert vals(out) == [1, 12, 23]


def test_x_files_factor_from_request_and_from_argument():
    a = ts("a", [1, N, N])
    b = ts("b", [N, N, 5])
    c = ts("c", [3, 4, 6])
    # non-null shares per point: 2/3, 1/3, 2/3
    [loose] = sum_series(ctx(), [a, b, c])
    assert vals(loose) == [4, 4, 11]
    [strict] = sum_series(ctx(xff=0.5), [a, b, c])
    assert vals(strict) == [4, None, 11]
    assert strict.x_files_factor == 0.5
    # an explicit xFilesFactor wins over the request's
    [override] = aggregate(ctx(xff=0.5), [a, b, c], "sum", 0.0)
    assert vals(override) == [4, 4, 11]
    [full] = aggregate(ctx(), [a, b, c], "sum", xFilesFactor=1.0)
    assert vals(full) == [None, None, None]


def test_empty_inputs_give_no_series():
    for func in (sum_series, average_series, max_series, min_series, diff_series,
                 stddev_series, range_of_series, multiply_series):
        assert func(ctx()) == []
        assert func(ctx(), []) == []
        assert func(ctx(), [], []) == []
    assert aggregate(ctx(), [], "sum") == []


def test_average_max_min_ignore_nulls():
    a = ts("a", [1, N, 3, N])
    b = ts("b", [3, N, N, 7])
    assert vals(average_series(ctx(), [a, b])[0]) == [2, None, 3, 7]
    assert vals(max_series(ctx(), [a, b])[0]) == [3, None, 3, 7]
    assert vals(min_series(ctx(), [a, b])[0]) == [1, None, 3, 7]
    assert average_series(ctx(), [a, b])[0].name == "averageSeries(a,b)"
    assert max_series(ctx(), [a, b])[0].tags["aggregatedBy"] == "max"


def test_diff_series_subtracts_the_rest_from_the_first_non_null():
    a = ts("a", [10, N, 5])
    b = ts("b", [3, 4, N])
    c = ts("c", [1, 1, 1])
    # 10-3-1 ; first non-null is 4: 4-1 ; 5-1
    [out] = diff_series(ctx(), [a, b, c])
    assert vals(out) == [6, 3, 4]
    assert out.name == "diffSeries(a,b,c)"


def test_multiply_series_is_null_when_any_factor_is_null():
    a = ts("a", [2, N, 3])
    b = ts("b", [4, 5, 0.5])
    [out] = multiply_series(ctx(), [a, b])
    # 2*4 ; null factor ; 3*0.5
    assert vals(out) == [8, None, 1.5]
    assert out.name == "multiplySeries(a,b)"


def test_multiply_series_returns_a_lone_series_untouched():
    a = ts("a", [2, 3])
    assert multiply_series(ctx(), [a]) == [a]
    # two lists of one series each are multiplied
    [out] = multiply_series(ctx(), [a], [ts("b", [5, 5])])
    assert vals(out) == [10, 15]


def test_stddev_and_range_of_series():
    a = ts("a", [1, 5, N])
    b = ts("b", [3, 5, 4])
    # population stddev of (1,3) = 1, of (5,5) = 0, of (4) = 0
    assert vals(stddev_series(ctx(), [a, b])[0]) == [1, 0, 0]
    [spread] = range_of_series(ctx(), [a, b])
    assert vals(spread) == [2, 0, 0]
    assert spread.name == "rangeOfSeries(a,b)"
    assert spread.tags["aggregatedBy"] == "rangeOf"


def test_aggregate_func_names():
    a, b = ts("a", [1, 4]), ts("b", [3, N])
    assert aggregate(ctx(), [a, b], "avg")[0].name == "avgSeries(a,b)"
    assert aggregate(ctx(), [a, b], "sumSeries")[0].name == "sumSeries(a,b)"
    [median] = aggregate(ctx(), [a, b, ts("c", [2, 10])], "median")
    # median of 1,3,2 = 2 ; of 4,10 = 7
    assert vals(median) == [2, 7]
    assert vals(aggregate(ctx(), [a, b], "count")[0]) == [2, 1]
    assert vals(aggregate(ctx(), [a, b], "last")[0]) == [3, 4]
    # avg_zero counts nulls as 0: (4+0)/2
    assert vals(aggregate(ctx(), [a, b], "avg_zero")[0]) == [2, 2]


def test_aggregate_rejects_unknown_functions():
    with pytest.raises(InputError, match="Unsupported aggregation function: bogus"):
        aggregate(ctx(), [ts("a", [1])], "bogus")
    with pytest.raises(InputError, match="Unsupported aggregation function: bogusSeries"):
        aggregate(ctx(), [ts("a", [1])], "bogusSeries")
    # even with nothing to aggregate
    with pytest.raises(InputError):
        aggregate(ctx(), [], "bogus")


def test_aggregate_keeps_the_tags_all_series_share():
    a = ts("a", [1], tags={"name": "cpu", "dc": "x", "host": "1"})
    b = ts("b", [1], tags={"name": "cpu", "dc": "x", "host": "2"})
    c = ts("c", [1], tags={"name": "mem", "dc": "x"})
    assert sum_series(ctx(), [a, b])[0].tags == {"name": "cpu", "dc": "x",
                                                 "aggregatedBy": "sum"}
    assert sum_series(ctx(), [a, c])[0].tags == {"name": "sumSeries(a,c)", "dc": "x",
                                                 "aggregatedBy": "sum"}


def test_count_series():
    a, b = ts("a", [1, N, 3]), ts("b", [N, N, N])
    [out] = count_series(ctx(), [a, b])
    # the number of series, nulls or not
    assert vals(out) == [2, 2, 2]
    assert out.name == "countSeries(a,b)"
    assert count_series(ctx(), []) == []


def test_count_series_without_arguments_is_a_zero_line():
    [out] = count_series(ctx())
    # constantLine(0) over 0..600: three points 300 s apart
    assert vals(out) == [0, 0, 0]
    assert (out.name, out.path_expression) == ("0", "countSeries()")
    assert (out.start, out.step) == (0, 300)


def test_group_concatenates():
    a, b, c = ts("a", [1]), ts("b", [2]), ts("c", [3])
    assert group(ctx(), [a], [b, c]) == [a, b, c]
    assert group(ctx()) == []


def test_pow_series():
    a = ts("a", [2, N, -8, 0])
    b = ts("b", [3, 2, 0.5, -1])
    [out] = pow_series(ctx(), [a, b])
    # 2**3 ; null ; (-8)**0.5 undefined ; 0**-1 undefined
    assert vals(out) == [8, None, None, None]
    assert out.name == "powSeries(a,b)"
    assert pow_series(ctx(), []) == []


# --- wildcards and node grouping ------------------------------------------------------

def test_sum_series_with_wildcards_groups_on_the_remaining_nodes():
    series = [ts("host.cpu-0.user", [1, 2]), ts("host.cpu-1.user", [3, N]),
              ts("host.cpu-0.system", [5, 6])]
    out = sum_series_with_wildcards(ctx(), series, 1)
    assert [s.name for s in out] == ["host.user", "host.system"]
    assert [vals(s) for s in out] == [[4, 2], [5, 6]]
    assert out[0].path_expression == "sumSeries(host.cpu-0.user,host.cpu-1.user)"
    avg = average_series_with_wildcards(ctx(), series, 1)
    assert [vals(s) for s in avg] == [[2, 2], [5, 6]]
    # several positions
    [both] = sum_series_with_wildcards(ctx(), series, 1, 2)
    assert both.name == "host" and vals(both) == [9, 8]
    assert sum_series_with_wildcards(ctx(), [], 1) == []


def test_multiply_and_aggregate_with_wildcards():
    series = [ts("web.h0.a", [2, 3]), ts("web.h0.b", [5, N]), ts("web.h1.a", [7, 7])]
    out = multiply_series_with_wildcards(ctx(), series, 2)
    assert [(s.name, vals(s)) for s in out] == [("web.h0", [10, None]), ("web.h1", [7, 7])]
    out = aggregate_with_wildcards(ctx(), series, "max", 1)
    assert [(s.name, vals(s)) for s in out] == [("web.a", [7, 7]), ("web.b", [5, None])]


GROUPED = [ts("a.x.cpu", [1, N]), ts("a.y.cpu", [2, 2]), ts("a.x.mem", [3, 4])]


def test_group_by_node_with_an_aggregation_function():
    out = group_by_node(ctx(), GROUPED, 1, "sum")
    assert [s.name for s in out] == ["x", "y"]
    assert [vals(s) for s in out] == [[4, 4], [2, 2]]
    # the path expression and tags stay those of the aggregate
    assert out[0].path_expression == "sumSeries(a.x.cpu,a.x.mem)"
    assert out[0].tags["aggregatedBy"] == "sum"
    # default callback is average
    assert [vals(s) for s in group_by_node(ctx(), GROUPED, 1)] == [[2, 4], [2, 2]]


def test_group_by_node_with_a_series_function_callback():
    out = group_by_node(ctx(registry=True), GROUPED, 2, "maxSeries")
    assert [(s.name, vals(s)) for s in out] == [("cpu", [2, 2]), ("mem", [3, 4])]
    out = group_by_node(ctx(registry=True), GROUPED, 2, "sum")
    assert [(s.name, vals(s)) for s in out] == [("cpu", [3, 2]), ("mem", [3, 4])]


def test_group_by_node_rejects_an_unknown_callback():
    with pytest.raises(InputError, match="Unsupported aggregation function: nope"):
        group_by_node(ctx(registry=True), GROUPED, 1, "nope")


def test_group_by_nodes_joins_several_nodes_and_tags():
    out = group_by_nodes(ctx(), GROUPED, "sum", 2, 1)
    assert [s.name for s in out] == ["cpu.x", "cpu.y", "mem.x"]
    tagged = [ts("cpu;dc=1", [1], tags={"name": "cpu", "dc": "1"}),
              ts("cpu;dc=2", [2], tags={"name": "cpu", "dc": "2"}),
              ts("cpu;dc=1;h=b", [3], tags={"name": "cpu", "dc": "1", "h": "b"})]
    out = group_by_nodes(ctx(), tagged, "sum", "dc", 0)
    # node 0 is read from the name before the first ';'
    assert [(s.name, vals(s)) for s in out] == [("1.cpu", [4]), ("2.cpu", [2])]
    assert group_by_nodes(ctx(), [], "sum", 1) == []


def test_group_by_node_reads_nodes_of_the_first_path_in_a_function_name():
    series = [ts("scale(a.x.cpu,2)", [1]), ts("a.x.mem", [2]), ts("a.y.mem", [5])]
    out = group_by_node(ctx(), series, 1, "sum")
    assert [(s.name, vals(s)) for s in out] == [("x", [3]), ("y", [5])]
    # negative nodes count from the end; out-of-range nodes give an empty key
    assert [s.name for s in group_by_node(ctx(), series, -1, "sum")] == ["cpu", "mem"]
    assert [s.name for s in group_by_node(ctx(), series, 9, "sum")] == [""]


@pytest.mark.parametrize(("name", "path"), [
    ("a.b.c", "a.b.c"),
    ("sumSeries(a.b.*)", "a.b.*"),
    ("scale(a.b,10)", "a.b"),
    ("sumSeries(scale(a.{b,c}.d,2),x.y)", "a.{b,c}.d"),
    ("movingAverage(a.b,\"5min\")", "a.b"),
    ("seriesByTag('name=cpu')", None),
    ("constantLine(5)", None),
    ("foo (bar)", "foo"),
])
def test_first_path_expression(name, path):
    assert first_path_expression(name) == path


def test_agg_key_falls_back_to_tags():
    series = ts("a.b", [1], tags={"name": "a.b", "dc": "east"})
    assert agg_key(series, [0, "dc", "missing", 5]) == "a.east.."


def tagged(name: str, values: list, **tags: str) -> TimeSeries:
    full = ";".join([name, *(f"{k}={v}" for k, v in sorted(tags.items()))])
    return ts(full, values, tags={"name": name, **tags})


def test_group_by_tags():
    series = [tagged("cpu", [1, 2], dc="east", host="a"), tagged("cpu", [3, N], dc="west"),
              tagged("cpu", [5, 6], dc="east", host="b")]
    out = group_by_tags(ctx(), series, "sum", "dc")
    # every series is named cpu, so the results are too
    assert [(s.name, vals(s)) for s in out] == [("cpu;dc=east", [6, 8]),
                                                ("cpu;dc=west", [3, None])]
    assert out[0].path_expression == "cpu;dc=east"
    assert out[0].tags == {"name": "cpu", "dc": "east"}
    mixed = [*series, tagged("mem", [1, 1], dc="east")]
    out = group_by_tags(ctx(), mixed, "max", "host", "dc")
    # names differ: the callback names the results; a missing tag groups as empty
    assert [s.name for s in out] == ["max;dc=east;host=a", "max;dc=west;host=",
                                     "max;dc=east;host=b", "max;dc=east;host="]
    out = group_by_tags(ctx(), mixed, "sum", "name")
    assert [(s.name, vals(s)) for s in out] == [("cpu", [9, 8]), ("mem", [1, 1])]
    assert group_by_tags(ctx(), [], "sum", "dc") == []
    with pytest.raises(InputError, match="no tags specified"):
        group_by_tags(ctx(), series, "sum")


def test_weighted_average():
    avgs = [ts("s1.latency", [10, 20], path_expression="*.latency"),
            ts("s2.latency", [40, N], path_expression="*.latency")]
    weights = [ts("s1.count", [1, 3], path_expression="*.count"),
               ts("s2.count", [2, 2], path_expression="*.count")]
    [out] = weighted_average(ctx(), avgs, weights, 0)
    # (10*1 + 40*2) / (1+2) = 30 ; (20*3 + null) / (3+2) = 12
    assert vals(out) == [30, 12]
    assert out.name == "weightedAverage(*.latency, *.count, 0)"
    # nothing pairs up
    assert weighted_average(ctx(), avgs[:1], weights[1:], 0) == []
    with pytest.raises(InputError, match="respectively 2 and 1"):
        weighted_average(ctx(), avgs, weights[:1], 0)


# --- series lists paired element by element -------------------------------------------

def test_series_lists_functions_pair_by_position():
    first = [ts("a1", [1, 2]), ts("a2", [10, N])]
    second = [ts("b1", [3, 4]), ts("b2", [5, 6])]
    out = sum_series_lists(ctx(), first, second)
    assert [(s.name, vals(s)) for s in out] == [("sumSeries(a1,b1)", [4, 6]),
                                                ("sumSeries(a2,b2)", [15, 6])]
    out = diff_series_lists(ctx(), first, second)
    assert [vals(s) for s in out] == [[-2, -2], [5, 6]]
    out = multiply_series_lists(ctx(), first, second)
    assert [(s.name, vals(s)) for s in out] == [("multiplySeries(a1,b1)", [3, 8]),
                                                ("multiplySeries(a2,b2)", [50, None])]
    out = aggregate_series_lists(ctx(), first, second, "avg", 1.0)
    assert [(s.name, vals(s)) for s in out] == [("avgSeries(a1,b1)", [2, 3]),
                                                ("avgSeries(a2,b2)", [7.5, None])]
    assert sum_series_lists(ctx(), [], []) == []
    with pytest.raises(InputError, match="equal length"):
        sum_series_lists(ctx(), first, second[:1])


# --- division and percentages ---------------------------------------------------------

def test_divide_series():
    a = ts("a", [10, N, 6, 5])
    b = ts("c", [1, 2, 3, 4])
    d = ts("d", [2, 2, 0, N])
    out = divide_series(ctx(), [a, b], [d])
    # 10/2 ; null dividend ; divide by 0 ; null divisor
    assert vals(out[0]) == [5, None, None, None]
    assert vals(out[1]) == [0.5, 1, None, None]
    assert out[0].name == out[0].path_expression == "divideSeries(a,d)"
    assert out[0].tags == {"name": "divideSeries(a,d)"}
    assert divide_series(ctx(), [], [d]) == []


def test_divide_series_lines_up_steps():
    a = ts("a", [1, 3, 5, 7], step=30)
    d = ts("d", [2, 4], step=60)
    [out] = divide_series(ctx(), [a], [d])
    # a averaged in pairs: 2, 6
    assert out.step == 60 and vals(out) == [1, 1.5]


def test_divide_series_without_divisor_marks_every_dividend_missing():
    a = ts("a", [1, 2], tags={"name": "a", "dc": "x"})
    [out] = divide_series(ctx(), [a], [])
    assert out.name == out.path_expression == "divideSeries(a,MISSING)"
    assert vals(out) == [None, None]
    assert out.tags == {"name": "a", "dc": "x"}
    assert vals(a) == [1, 2]


def test_divide_series_wants_one_divisor():
    with pytest.raises(InputError, match=r"exactly 1 series \(got 2\)"):
        divide_series(ctx(), [ts("a", [1])], [ts("b", [1]), ts("c", [1])])


def test_divide_series_lists():
    out = divide_series_lists(ctx(), [ts("a", [4]), ts("b", [9])],
                              [ts("c", [2]), ts("d", [3])])
    assert [(s.name, vals(s)) for s in out] == [("divideSeries(a,c)", [2]),
                                                ("divideSeries(b,d)", [3])]
    with pytest.raises(InputError, match="equal length"):
        divide_series_lists(ctx(), [ts("a", [4])], [])


def test_as_percent_of_the_sum():
    a = ts("a", [1, N, 2, N])
    b = ts("b", [3, N, 0, 4])
    out = as_percent(ctx(), [a, b])
    # totals 4, null, 2, 4
    assert vals(out[0]) == [25, None, 100, None]
    assert vals(out[1]) == [75, None, 0, 100]
    assert [s.name for s in out] == ["asPercent(a,sumSeries(a,b))",
                                     "asPercent(b,sumSeries(a,b))"]
    assert out[0].path_expression == out[0].name
    assert as_percent(ctx(), []) == []


def test_as_percent_of_a_number():
    a = ts("a", [750, N, 3000])
    [out] = as_percent(ctx(), [a], 1500)
    assert vals(out) == [50, None, 200]
    assert out.name == "asPercent(a,1500)"
    assert as_percent(ctx(), [a], 0.5)[0].name == "asPercent(a,0.5)"
    # dividing by zero gives nulls
    assert vals(as_percent(ctx(), [a], 0)[0]) == [None, None, None]
    with pytest.raises(InputError):
        as_percent(ctx(), [a], "lots")


def test_as_percent_of_one_series():
    a = ts("a", [1, 2, N])
    b = ts("b", [3, N, 3])
    t = ts("t", [4, 0, 6])
    out = as_percent(ctx(), [a, b], [t])
    assert [s.name for s in out] == ["asPercent(a,t)", "asPercent(b,t)"]
    assert vals(out[0]) == [25, None, None]
    assert vals(out[1]) == [75, None, 50]


def test_as_percent_pairs_equal_lists_by_sorted_name():
    used = [ts("s2.used", [1]), ts("s1.used", [3])]
    total = [ts("s1.total", [4]), ts("s2.total", [2])]
    out = as_percent(ctx(), used, total)
    assert [(s.name, vals(s)) for s in out] == [("asPercent(s1.used,s1.total)", [75]),
                                                ("asPercent(s2.used,s2.total)", [50])]
    with pytest.raises(InputError, match="same number of series"):
        as_percent(ctx(), used, [*total, ts("s3.total", [1])])
    with pytest.raises(InputError):
        as_percent(ctx(), used, [])


def test_as_percent_by_nodes_with_missing_partners():
    used = [ts("Server1.memory.used", [1, 2]), ts("Server2.memory.used", [3, 4])]
    total = [ts("Server1.memory.total", [4, 8]), ts("Server3.memory.total", [5, 5])]
    out = as_percent(ctx(), used, total, 0)
    assert [s.name for s in out] == [
        "asPercent(Server1.memory.used,Server1.memory.total)",
        "asPercent(Server2.memory.used,MISSING)",
        "asPercent(MISSING,Server3.memory.total)",
    ]
    assert [vals(s) for s in out] == [[25, 25], [None, None], [None, None]]


def test_as_percent_by_nodes_of_the_group_sum():
    series = [ts("s1.cpu.user", [1, 2]), ts("s1.cpu.sys", [3, 2]), ts("s2.cpu.user", [5, 0])]
    out = as_percent(ctx(), series, None, 0)
    assert [s.name for s in out] == [
        "asPercent(s1.cpu.user,sumSeries(s1.cpu.user,s1.cpu.sys))",
        "asPercent(s1.cpu.sys,sumSeries(s1.cpu.user,s1.cpu.sys))",
        # a group of one is its own total
        "asPercent(s2.cpu.user,s2.cpu.user)",
    ]
    assert [vals(s) for s in out] == [[25, 50], [75, 50], [100, None]]
    # several totals in one group are summed
    totals = [ts("s1.a", [2, 2]), ts("s1.b", [2, 6])]
    [one] = as_percent(ctx(), [ts("s1.used", [2, 4])], totals, 0)
    assert one.name == "asPercent(s1.used,sumSeries(s1.a,s1.b))"
    assert vals(one) == [50, 50]
    with pytest.raises(InputError, match="total must be None or a seriesList"):
        as_percent(ctx(), series, 100, 0)


def test_pct_is_registered_as_an_alias():
    registry = FunctionRegistry.collect([combine])
    assert registry.get("pct").func is as_percent
    assert registry.get("sum").func is sum_series
    assert registry.get("avg").func is average_series


# --- percentiles ----------------------------------------------------------------------

def test_row_percentiles_nearest_rank():
    row = np.array([[5, 1, 4, 2, 3]], dtype=float)
    # n=50: rank 0.5*6 = 3 -> 3rd smallest
    assert row_percentiles(row, 50)[0] == 3
    # n=90: 5.4 rounds up to 6, past the end -> the largest
    assert row_percentiles(row, 90)[0] == 5
    # n=10: 0.6 rounds up to 1 -> the smallest
    assert row_percentiles(row, 10)[0] == 1
    # n=150 would be out of range: clipped to the largest
    assert row_percentiles(row, 150)[0] == 5


def test_row_percentiles_interpolated_and_with_nulls():
    # [1,2,3,4], n=50: rank 2.5 -> 2 + 0.5*(3-2)
    assert row_percentiles(np.array([[4, 1, 3, 2]], dtype=float), 50, True)[0] == 2.5
    # n=100 interpolated: rank 5 is past the end, no next value
    assert row_percentiles(np.array([[4, 1, 3, 2]], dtype=float), 100, True)[0] == 4
    # nulls are left out: [2,4], n=50 -> rank 1.5 -> 2nd
    assert row_percentiles(np.array([[math.nan, 4, 2]]), 50)[0] == 4
    assert math.isnan(row_percentiles(np.array([[math.nan, math.nan]]), 50)[0])


def test_percentile_of_series():
    series = [ts("a.1", [1, N, 7], path_expression="a.*"),
              ts("a.2", [2, N, N], path_expression="a.*"),
              ts("a.3", [3, 6, 8], path_expression="a.*")]
    [out] = percentile_of_series(ctx(), series, 50)
    # [1,2,3] -> rank 2 ; [6] -> 6 ; [7,8] -> rank 1.5 up to 2 -> 8
    assert vals(out) == [2, 6, 8]
    assert out.name == out.path_expression == "percentileOfSeries(a.*,50)"
    [inter] = percentile_of_series(ctx(), series, 50, interpolate=True)
    # [7,8] -> rank 1.5 -> 7 + 0.5*(8-7)
    assert vals(inter) == [2, 6, 7.5]
    assert percentile_of_series(ctx(), series, 99.5)[0].name == \
        "percentileOfSeries(a.*,99.5)"
    assert percentile_of_series(ctx(), [], 50) == []
    with pytest.raises(InputError, match="greater than 0"):
        percentile_of_series(ctx(), series, 0)


# --- reducers -------------------------------------------------------------------------

def test_reduce_rows_answers_for_all_null_rows_like_graphite():
    nulls = np.array([[math.nan, math.nan]])
    for func in ("sum", "min", "max", "average", "diff", "range", "multiply", "last",
                 "median", "stddev"):
        assert math.isnan(reduce_rows(nulls, func)[0]), func
    assert reduce_rows(nulls, "count")[0] == 0
    assert reduce_rows(nulls, "avg_zero")[0] == 0
    empty = np.zeros((1, 0))
    assert math.isnan(reduce_rows(empty, "min")[0])
    assert reduce_rows(empty, "count")[0] == 0


def test_registry_metadata_is_graphites():
    registry = FunctionRegistry.collect([combine])
    meta = registry.metadata()
    assert meta["sumSeries"]["group"] == "Combine"
    assert meta["sumSeries"]["params"] == [
        {"name": "seriesLists", "type": "seriesList", "required": True, "multiple": True}]
    assert meta["asPercent"]["params"] == [
        {"name": "seriesList", "type": "seriesList", "required": True},
        {"name": "total", "type": "any"},
        {"name": "nodes", "type": "nodeOrTag", "multiple": True}]
    assert meta["percentileOfSeries"]["params"][2] == {
        "name": "interpolate", "type": "boolean", "default": False}
    assert registry.get("groupByNode").aggregator is False
    assert registry.get("sumSeries").aggregator is True
