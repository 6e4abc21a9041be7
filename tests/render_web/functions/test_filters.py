"""graphite-web's Filter Series, Filter Data and Sorting functions."""

from __future__ import annotations

import math
from datetime import UTC

import pytest

from render_web.functions import filters
from render_web.functions.combine import series_value
from render_web.functions.filters import (
    average_above,
    average_below,
    average_outside_percentile,
    current_above,
    current_below,
    exclude,
    filter_series,
    grep,
    highest,
    highest_average,
    highest_current,
    highest_max,
    limit,
    lowest,
    lowest_average,
    lowest_current,
    maximum_above,
    maximum_below,
    minimum_above,
    minimum_below,
    most_deviant,
    natural_key,
    remove_above_percentile,
    remove_above_value,
    remove_below_percentile,
    remove_below_value,
    remove_between_percentile,
    remove_empty_series,
    sort_by,
    sort_by_maxima,
    sort_by_minima,
    sort_by_name,
    sort_by_total,
    unique,
)
from render_web.functions.registry import Context, FunctionRegistry, InputError
from render_web.series import TimeSeries

N = None
CTX = Context(start=0, end=600, now=600, tz=UTC)


def ts(name: str, values: list, **kwargs) -> TimeSeries:
    return TimeSeries.from_list(name, 0, 60, values, **kwargs)


def names(series_list: list[TimeSeries]) -> list[str]:
    return [s.name for s in series_list]


# averages: a 2, b 5, c null, d 3.5 ; last values: a 3, b 1, c null, d 4 ; max: a 3, b 9
A = ts("a", [1, 2, 3])
B = ts("b", [9, 5, 1])
C = ts("c", [N, N, N])
D = ts("d", [3, N, 4])
ALL = [A, B, C, D]


# --- highest / lowest -----------------------------------------------------------------

def test_highest_by_average_puts_null_series_last():
    assert names(highest(CTX, ALL, 2)) == ["b", "d"]
    assert names(highest(CTX, ALL, 10)) == ["b", "d", "a", "c"]
    assert highest(CTX, ALL, 0) == []
    assert highest(CTX, [], 3) == []
    assert names(highest_average(CTX, ALL, 1)) == ["b"]


def test_highest_by_other_functions():
    assert names(highest(CTX, ALL, 2, "max")) == ["b", "d"]
    assert names(highest_max(CTX, ALL, 1)) == ["b"]
    # last non-null values: a 3, b 1, d 4
    assert names(highest_current(CTX, ALL, 2)) == ["d", "a"]
    # sums: a 6, b 15, d 7
    assert names(highest(CTX, ALL, 1, "sum")) == ["b"]


def test_lowest_puts_null_series_first():
    # graphite ranks a None value as -inf, so the empty series is the "lowest"
    assert names(lowest(CTX, ALL, 2)) == ["c", "a"]
    assert names(lowest_average(CTX, [A, B, D], 2)) == ["a", "d"]
    assert names(lowest_current(CTX, [A, B, D], 1)) == ["b"]


def test_highest_keeps_input_order_for_ties():
    x, y, z = ts("x", [1]), ts("y", [1]), ts("z", [1])
    assert names(highest(CTX, [y, x, z], 3)) == ["y", "x", "z"]
    assert names(lowest(CTX, [z, x, y], 2)) == ["z", "x"]


def test_highest_rejects_unknown_functions():
    with pytest.raises(InputError, match="Unsupported aggregation function: nope"):
        highest(CTX, ALL, 1, "nope")
    with pytest.raises(InputError):
        sort_by(CTX, [], "nope")


def test_inputs_are_returned_untouched():
    out = highest(CTX, ALL, 4)
    assert all(any(s is t for t in ALL) for s in out)
    assert [s.to_list() for s in ALL] == [[1, 2, 3], [9, 5, 1], [N, N, N], [3, N, 4]]


# --- limit / exclude / grep -----------------------------------------------------------

def test_limit():
    assert names(limit(CTX, ALL, 2)) == ["a", "b"]
    assert limit(CTX, ALL, 0) == []
    assert names(limit(CTX, ALL, 9)) == ["a", "b", "c", "d"]
    assert limit(CTX, [], 1) == []


def test_exclude_and_grep_search_anywhere_in_the_name():
    series = [ts("servers.web01.load", [1]), ts("servers.web02.load", [1]),
              ts("servers.db01.load", [1])]
    assert names(exclude(CTX, series, "web0[12]")) == ["servers.db01.load"]
    assert names(grep(CTX, series, r"01\.")) == ["servers.web01.load", "servers.db01.load"]
    assert grep(CTX, [], "x") == []
    with pytest.raises(InputError, match="invalid regular expression"):
        grep(CTX, series, "([")
    with pytest.raises(InputError):
        exclude(CTX, series, "*")


# --- filterSeries and its short forms -------------------------------------------------

def test_filter_series_operators_and_nulls():
    # max: a 3, b 9, c null, d 4
    assert names(filter_series(CTX, ALL, "max", ">", 3)) == ["b", "d"]
    assert names(filter_series(CTX, ALL, "max", ">=", 3)) == ["a", "b", "d"]
    assert names(filter_series(CTX, ALL, "max", "=", 4)) == ["d"]
    # a null value passes "!=", "<" and "<="
    assert names(filter_series(CTX, ALL, "max", "!=", 4)) == ["a", "b", "c"]
    assert names(filter_series(CTX, ALL, "max", "<", 4)) == ["a", "c"]
    assert names(filter_series(CTX, ALL, "max", "<=", 4)) == ["a", "c", "d"]
    assert filter_series(CTX, [], "max", ">", 1) == []
    with pytest.raises(InputError, match="Unsupported operator: =="):
        filter_series(CTX, ALL, "max", "==", 1)
    with pytest.raises(InputError):
        filter_series(CTX, [], "nope", ">", 1)


def test_threshold_filters():
    # averages a 2, b 5, c null, d 3.5
    assert names(average_above(CTX, ALL, 3)) == ["b", "d"]
    assert names(average_below(CTX, ALL, 3.5)) == ["a", "c", "d"]
    # last values a 3, b 1, c null, d 4
    assert names(current_above(CTX, ALL, 2)) == ["a", "d"]
    assert names(current_below(CTX, ALL, 1)) == ["b", "c"]
    # maxima a 3, b 9, d 4 ; minima a 1, b 1, d 3
    assert names(maximum_above(CTX, ALL, 3)) == ["b", "d"]
    assert names(maximum_below(CTX, ALL, 3)) == ["a", "c"]
    assert names(minimum_above(CTX, ALL, 1)) == ["d"]
    assert names(minimum_below(CTX, ALL, 1)) == ["a", "b", "c"]


def test_remove_empty_series():
    half = ts("half", [1, N])
    assert names(remove_empty_series(CTX, [*ALL, half])) == ["a", "b", "d", "half"]
    # d has 2 of 3 points, half 1 of 2
    assert names(remove_empty_series(CTX, [*ALL, half], 0.6)) == ["a", "b", "d"]
    assert names(remove_empty_series(CTX, [*ALL, half], 1)) == ["a", "b"]
    # the request's xFilesFactor is not used
    strict = Context(start=0, end=600, now=600, tz=UTC, x_files_factor=1.0)
    assert names(remove_empty_series(strict, [D])) == ["d"]


def test_unique_keeps_the_first_series_of_each_name():
    other_a = ts("a", [7])
    out = unique(CTX, [A, B], [other_a, D])
    assert names(out) == ["a", "b", "d"]
    assert out[0] is A
    assert unique(CTX) == []


def test_most_deviant_ranks_by_variance():
    # variances: a (1,2,3) 2/3 ; b (9,5,1) 32/3 ; d (3,4) 1/4 ; c left out
    assert names(most_deviant(CTX, ALL, 2)) == ["b", "a"]
    assert names(most_deviant(CTX, ALL, 9)) == ["b", "a", "d"]


def test_average_outside_percentile():
    series = [ts(f"s{i}", [v]) for i, v in enumerate([1, 2, 3, 4, 5])]
    # n=80 (20 means the same): low = 20th pct = rank 1.2 -> 2nd = 2 ;
    # high = 80th = rank 4.8 -> 5th = 5 ; strictly inside: 3, 4
    assert names(average_outside_percentile(CTX, series, 80)) == ["s0", "s1", "s4"]
    assert names(average_outside_percentile(CTX, series, 20)) == ["s0", "s1", "s4"]


def test_remove_between_percentile():
    series = [ts("s1", [1, 1]), ts("s2", [2, 3]), ts("s3", [3, 4]), ts("s4", [4, 2]),
              ts("s5", [5, 5])]
    # each point holds 1..5: n=70 -> low 30th = rank 1.8 up to 2 -> 2, high 70th = rank
    # 4.2 up to 5 -> 5 ; strictly inside (2, 5) at every point: s3 only (s2 has a 2,
    # s4 has a 2)
    assert names(remove_between_percentile(CTX, series, 70)) == ["s1", "s2", "s4", "s5"]
    # n below 50 means the same band
    assert names(remove_between_percentile(CTX, series, 30)) == ["s1", "s2", "s4", "s5"]
    assert remove_between_percentile(CTX, [], 70) == []


# --- Filter Data ----------------------------------------------------------------------

def test_remove_above_value():
    [out] = remove_above_value(CTX, [ts("x", [1, 5, 6, N], tags={"name": "x"})], 5)
    assert out.to_list() == [1, 5, None, None]
    assert out.name == out.path_expression == "removeAboveValue(x, 5)"
    assert out.tags == {"name": "x"}
    assert remove_above_value(CTX, [ts("x", [1])], 2.5)[0].name == "removeAboveValue(x, 2.5)"
    assert remove_above_value(CTX, [ts("x", [1])], 1e6)[0].name == "removeAboveValue(x, 1e+06)"
    assert remove_above_value(CTX, [], 1) == []


def test_remove_below_value_leaves_input_alone():
    x = ts("x", [1, 5, 6, N])
    [out] = remove_below_value(CTX, [x], 5)
    assert out.to_list() == [None, 5, 6, None]
    assert out.name == "removeBelowValue(x, 5)"
    assert x.to_list() == [1, 5, 6, None] and x.name == "x"


def test_remove_above_and_below_percentile():
    x = ts("x", [5, 1, N, 4, 2, 3])
    # 50th percentile of 1..5: rank 3 -> 3
    [above] = remove_above_percentile(CTX, [x], 50)
    assert above.to_list() == [None, 1, None, None, 2, 3]
    assert above.name == "removeAbovePercentile(x, 50)"
    [below] = remove_below_percentile(CTX, [x], 50)
    assert below.to_list() == [5, None, None, 4, None, 3]
    assert below.name == "removeBelowPercentile(x, 50)"
    # an all-null series is renamed and left as it is
    [empty] = remove_above_percentile(CTX, [C], 50)
    assert empty.name == "removeAbovePercentile(c, 50)" and empty.to_list() == [N, N, N]


# --- Sorting --------------------------------------------------------------------------

def test_sort_by():
    # averages a 2, b 5, c null (-inf), d 3.5
    assert names(sort_by(CTX, ALL)) == ["c", "a", "d", "b"]
    assert names(sort_by(CTX, ALL, "average", True)) == ["b", "d", "a", "c"]
    # last: a 3, b 1, d 4
    assert names(sort_by(CTX, ALL, "last")) == ["c", "b", "a", "d"]
    assert sort_by(CTX, []) == []


def test_sort_by_maxima_total_and_minima():
    # maxima a 3, b 9, c null, d 4
    assert names(sort_by_maxima(CTX, ALL)) == ["b", "d", "a", "c"]
    # sums a 6, b 15, c null, d 7
    assert names(sort_by_total(CTX, ALL)) == ["b", "d", "a", "c"]
    zero = ts("zero", [0, -1])
    # only series rising above 0, by minimum: a 1, b 1 (tie keeps order), d 3
    assert names(sort_by_minima(CTX, [D, zero, B, C, A])) == ["b", "a", "d"]


def test_sort_by_name_alphabetical_and_natural():
    series = [ts(n, [1]) for n in ("server11", "server2", "server1", "server12")]
    assert names(sort_by_name(CTX, series)) == ["server1", "server11", "server12",
                                                "server2"]
    assert names(sort_by_name(CTX, series, natural=True)) == ["server1", "server2",
                                                              "server11", "server12"]
    assert names(sort_by_name(CTX, series, True, True)) == ["server12", "server11",
                                                            "server2", "server1"]
    assert names(sort_by_name(CTX, series, reverse=True)) == ["server2", "server12",
                                                              "server11", "server1"]
    assert natural_key("a7.b10") == "a0000000007.b0000000010"


def test_series_value_follows_graphite_for_nulls():
    assert math.isnan(series_value(C, "sum"))
    assert series_value(C, "count") == 0
    assert math.isnan(series_value(D, "multiply"))
    assert series_value(A, "multiply") == 6
    assert series_value(D, "avg_zero") == 7 / 3


def test_registry_groups_and_params():
    meta = FunctionRegistry.collect([filters]).metadata()
    assert meta["highest"]["group"] == "Filter Series"
    assert meta["removeBelowValue"]["group"] == "Filter Data"
    assert meta["sortByName"]["group"] == "Sorting"
    assert meta["highest"]["params"][2]["options"][:3] == ["average", "avg", "avg_zero"]
    assert meta["filterSeries"]["params"][2]["options"] == ["!=", "<", "<=", "=", ">", ">="]
    assert meta["currentAbove"]["params"] == [
        {"name": "seriesList", "type": "seriesList", "required": True},
        {"name": "n", "type": "float", "required": True}]
    assert meta["currentAbove"]["description"] == "Keep the series whose last value is above n."
