"""The /render data formats and json's maxDataPoints consolidation, against numbers
worked out by hand from graphite-web 1.1.10's `renderViewJson`, `renderViewCsv`,
`renderViewRaw`, `renderViewPickle` and `TimeSeries.__consolidatingGenerator`."""

from __future__ import annotations

import csv
import io
import json
import math
import pickle
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from render_web.formats import apply_max_data_points, to_csv, to_json, to_pickle, to_raw
from render_web.series import TimeSeries

NULL = None
INF = math.inf


def ts(name: str, start: int, step: int, values: list, **kwargs) -> TimeSeries:
    return TimeSeries.from_list(name, start, step, values, **kwargs)


def points(series: TimeSeries) -> list[list]:
    """graphite's `datapoints()`: [value, timestamp] pairs."""
    return [[v, t] for v, t in zip(series.to_list(), series.timestamps().tolist(),
                                   strict=True)]


def one(series_list: list[TimeSeries]) -> list[list]:
    (series,) = series_list
    return points(series)


# -- apply_max_data_points -------------------------------------------------------------------


def test_max_data_points_empty_list() -> None:
    assert apply_max_data_points([], 10) == []


def test_max_data_points_1_consolidates_the_whole_series() -> None:
    s = ts("a", 600, 60, [1, 2, None, 4])
    # average of the non-null 1, 2, 4 = 7/3, at the series start
    assert one(apply_max_data_points([s], 1)) == [[7 / 3, 600]]


def test_max_data_points_1_uses_the_consolidation_function() -> None:
    s = ts("a", 600, 60, [1, 2, None, 4], consolidation="sum")
    assert one(apply_max_data_points([s], 1)) == [[7.0, 600]]


def test_max_data_points_1_with_x_files_factor() -> None:
    # 3 of 4 values present: 0.75
    kept = ts("a", 600, 60, [1, 2, None, 4], x_files_factor=0.75)
    dropped = ts("a", 600, 60, [1, 2, None, 4], x_files_factor=0.8)
    assert one(apply_max_data_points([kept], 1)) == [[7 / 3, 600]]
    assert one(apply_max_data_points([dropped], 1)) == [[NULL, 600]]


def test_max_data_points_1_all_null() -> None:
    assert one(apply_max_data_points([ts("a", 600, 60, [None, None])], 1)) == [[NULL, 600]]


def test_enough_points_leaves_the_series_alone() -> None:
    s = ts("a", 1200, 60, list(range(10)))
    # 600 s / 60 = 10 points; maxDataPoints 10 is not < 10
    (out,) = apply_max_data_points([s], 10)
    assert points(out) == points(s)
    (out,) = apply_max_data_points([s], 1000)
    assert points(out) == points(s)


def test_a_value_that_divides() -> None:
    # 10 points, maxDataPoints 5: valuesPerPoint = ceil(10/5) = 2, secondsPerPoint = 120;
    # nudge = 120 + 1200%60 - 1200%120 = 120 -> start 1320; 120/60 = 2 values to lose,
    # graphite deletes 2-1 = 1: values 1..9 -> (1,2) (3,4) (5,6) (7,8) (9);
    # timestamps range(1320, 1800+1, 120) = 1320 1440 1560 1680 1800
    s = ts("a", 1200, 60, list(range(10)))
    assert one(apply_max_data_points([s], 5)) == [
        [1.5, 1320], [3.5, 1440], [5.5, 1560], [7.5, 1680], [9.0, 1800]]


def test_a_start_off_the_bucket_grid_is_nudged_without_dropping() -> None:
    # start 1260: nudge = 120 + 0 - 1260%120 (60) = 60 -> start 1320; 60/60 = 1 value to
    # lose, graphite deletes 0: (0,1) (2,3) (4,5) (6,7) (8,9) at range(1320, 1861, 120)
    s = ts("a", 1260, 60, list(range(10)))
    assert one(apply_max_data_points([s], 5)) == [
        [0.5, 1320], [2.5, 1440], [4.5, 1560], [6.5, 1680], [8.5, 1800]]


def test_a_value_that_does_not_divide() -> None:
    # 10 points, maxDataPoints 3: valuesPerPoint = ceil(10/3) = 4, secondsPerPoint 240;
    # nudge = 240 + 0 - 1200%240 (0) = 240 -> start 1440; deletes 240/60 - 1 = 3:
    # values 3..9 -> (3,4,5,6) = 4.5, (7,8,9) = 8; timestamps range(1440, 1801, 240)
    s = ts("a", 1200, 60, list(range(10)))
    assert one(apply_max_data_points([s], 3)) == [[4.5, 1440], [8.0, 1680]]


def test_a_value_that_does_not_divide_off_grid() -> None:
    # start 1320, end 1920: nudge = 240 + 0 - 1320%240 (120) = 120 -> start 1440;
    # deletes 1: values 1..9 -> (1..4) = 2.5, (5..8) = 6.5, (9) = 9;
    # timestamps range(1440, 1921, 240) = 1440 1680 1920
    s = ts("a", 1320, 60, list(range(10)))
    assert one(apply_max_data_points([s], 3)) == [[2.5, 1440], [6.5, 1680], [9.0, 1920]]


def test_buckets_stay_put_when_the_window_slides() -> None:
    # The point of the nudge: the same data one step later gives the same buckets.
    # start 1260 (as above, but 11 values 0..10 to reach 1920): maxDataPoints 3 over
    # 660 s = 11 points -> valuesPerPoint 4, secondsPerPoint 240;
    # nudge = 240 - 1260%240 (60) = 180 -> start 1440, deletes 2: values 2..10 ->
    # (2..5) = 3.5, (6..9) = 7.5, (10) = 10 at 1440 1680 1920
    s = ts("a", 1260, 60, list(range(11)))
    assert one(apply_max_data_points([s], 3)) == [[3.5, 1440], [7.5, 1680], [10.0, 1920]]


def test_the_output_series_describes_its_new_spacing() -> None:
    s = ts("a", 1200, 60, list(range(10)))
    (out,) = apply_max_data_points([s], 5)
    assert (out.start, out.step, out.values_per_point) == (1320, 120, 2)
    # the input is not changed
    assert (s.start, s.step, len(s), s.values_per_point) == (1200, 60, 10, 1)


def test_mixed_steps_use_the_time_range_of_all_series() -> None:
    fine = ts("fine", 1200, 60, list(range(10)))  # 1200..1800
    coarse = ts("coarse", 1200, 120, [0, 1, 2, 3, 4])  # 1200..1800
    late = ts("late", 1500, 60, [0, 1, 2, 3, 4])  # 1500..1800
    out = apply_max_data_points([fine, coarse, late], 4)
    # timeRange = 1800 - 1200 = 600 for every series.
    # fine: 10 points -> valuesPerPoint 3, secondsPerPoint 180; nudge = 180 - 1200%180
    # (120) = 60 -> start 1260, deletes 0: (0,1,2) (3,4,5) (6,7,8) (9) at
    # range(1260, 1801, 180) = 1260 1440 1620 1800
    assert points(out[0]) == [[1.0, 1260], [4.0, 1440], [7.0, 1620], [9.0, 1800]]
    # coarse: 600/120 = 5 points -> valuesPerPoint 2, secondsPerPoint 240; nudge = 240 -
    # 1200%240 (0) = 240 -> start 1440, deletes 1: values 1..4 -> (1,2) (3,4) at 1440 1680
    assert points(out[1]) == [[1.5, 1440], [3.5, 1680]]
    # late has 5 points of its own but the range says 600/60 = 10: valuesPerPoint 3,
    # secondsPerPoint 180; nudge = 180 - 1500%180 (60) = 120 -> start 1620, deletes 1:
    # values 1..4 -> (1,2,3) = 2, (4) = 4 at range(1620, 1801, 180) = 1620 1800
    assert points(out[2]) == [[2.0, 1620], [4.0, 1800]]


def test_mixed_steps_only_some_need_consolidating() -> None:
    fine = ts("fine", 1200, 60, list(range(10)))
    coarse = ts("coarse", 1200, 120, [0, 1, 2, 3, 4])
    # maxDataPoints 5: fine (10 points) is consolidated, coarse (5 points) is not
    out = apply_max_data_points([fine, coarse], 5)
    assert points(out[0])[0] == [1.5, 1320]
    assert points(out[1]) == points(coarse)


def test_empty_series_pass_through() -> None:
    empty = ts("empty", 1200, 60, [])
    full = ts("full", 1200, 60, list(range(10)))
    out = apply_max_data_points([empty, full], 5)
    assert points(out[0]) == []
    assert len(out[1]) == 5
    assert points(apply_max_data_points([empty], 1)[0]) == []


# graphite consolidates the non-null values of each group; avg_zero counts a null as 0.
@pytest.mark.parametrize(("how", "value"), [
    ("sum", 8.0),  # 3 + 1 + 4
    ("average", 8 / 3),
    ("avg", 8 / 3),
    ("avg_zero", 2.0),  # (3 + 0 + 1 + 4) / 4
    ("max", 4.0),
    ("min", 1.0),
    ("first", 3.0),
    ("last", 4.0),
])
def test_consolidation_functions(how: str, value: float) -> None:
    s = ts("a", 600, 60, [3, None, 1, 4], consolidation=how)
    assert one(apply_max_data_points([s], 1)) == [[value, 600]]


@pytest.mark.parametrize(("how", "value"), [("first", 2.0), ("last", 3.0)])
def test_first_and_last_skip_nulls(how: str, value: float) -> None:
    s = ts("a", 600, 60, [None, 2, 3, None], consolidation=how)
    assert one(apply_max_data_points([s], 1)) == [[value, 600]]


@pytest.mark.parametrize("how", ["sum", "average", "avg_zero", "max", "min", "first", "last"])
def test_consolidation_of_only_nulls_is_null(how: str) -> None:
    s = ts("a", 600, 60, [None, None, None], consolidation=how)
    assert one(apply_max_data_points([s], 1)) == [[NULL, 600]]


def test_consolidation_per_bucket() -> None:
    # start 1260: valuesPerPoint 2, no value dropped (see the off-grid test above)
    s = ts("a", 1260, 60, [1, 5, None, 2, None, None, 7, 3, 0, 9], consolidation="max")
    assert one(apply_max_data_points([s], 5)) == [
        [5.0, 1320], [2.0, 1440], [NULL, 1560], [7.0, 1680], [9.0, 1800]]


@pytest.mark.parametrize(("xff", "expected"), [
    # groups (1,None) (None,4) (5,None): each half present
    (0.0, [1.0, 4.0, 5.0]),
    (0.5, [1.0, 4.0, 5.0]),
    (0.51, [NULL, NULL, NULL]),
    (1.0, [NULL, NULL, NULL]),
])
def test_x_files_factor_per_bucket(xff: float, expected: list) -> None:
    # start 1260, 6 values, maxDataPoints 3: valuesPerPoint 2, nudge 60, none dropped;
    # timestamps range(1320, 1621, 120)
    s = ts("a", 1260, 60, [1, None, None, 4, 5, None], x_files_factor=xff)
    assert one(apply_max_data_points([s], 3)) == [
        [v, t] for v, t in zip(expected, [1320, 1440, 1560], strict=True)]


def test_x_files_factor_of_the_trailing_partial_group() -> None:
    # start 1260, values 1..5, maxDataPoints 3: valuesPerPoint 2, none dropped;
    # groups (1,2) (3,4) (5): the last has 1 non-null of valuesPerPoint 2 = 0.5 < 0.6
    s = ts("a", 1260, 60, [1, 2, 3, 4, 5], x_files_factor=0.6)
    assert one(apply_max_data_points([s], 3)) == [[1.5, 1320], [3.5, 1440], [NULL, 1560]]


def test_trailing_partial_group_with_avg_zero_divides_by_what_it_has() -> None:
    # graphite's avg_zero pads only the values that exist: (5) -> 5 / 1
    s = ts("a", 1260, 60, [1, None, 3, 4, 5], consolidation="avg_zero")
    assert one(apply_max_data_points([s], 3)) == [[0.5, 1320], [3.5, 1440], [5.0, 1560]]


# -- json --------------------------------------------------------------------------------------


def test_json_shape_nulls_and_infinities() -> None:
    s = ts("a.b", 60, 60, [1.5, None, INF, -INF, 0])
    text = to_json([s])
    assert text == (b'[{"target":"a.b","tags":{"name":"a.b"},"datapoints":'
                    b'[[1.5,60],[null,120],[1e9999,180],[-1e9999,240],[0.0,300]]}]')
    # 1e9999 reads back as infinity
    assert json.loads(text) == [{"target": "a.b", "tags": {"name": "a.b"}, "datapoints": [
        [1.5, 60], [None, 120], [INF, 180], [-INF, 240], [0.0, 300]]}]


def test_json_like_graphite() -> None:
    """Equal, once parsed, to what graphite-web's json.dumps + replace gives."""
    series_list = [
        ts("x;dc=a", 60, 60, [1, None], tags={"name": "x", "dc": "a"}),
        ts("sumSeries(y.*)", 60, 60, [2.25, INF], tags={"name": "y", "aggregatedBy": "sum"}),
    ]
    graphite = json.dumps([
        {"target": "x;dc=a", "tags": {"name": "x", "dc": "a"},
         "datapoints": [[1.0, 60], [float("nan"), 120]]},
        {"target": "sumSeries(y.*)", "tags": {"name": "y", "aggregatedBy": "sum"},
         "datapoints": [[2.25, 60], [INF, 120]]},
    ]).replace("NaN,", "null,").replace("Infinity,", "1e9999,")
    assert json.loads(to_json(series_list)) == json.loads(graphite)


def test_json_empty() -> None:
    assert to_json([]) == b"[]"
    assert json.loads(to_json([ts("a", 60, 60, [])])) == [
        {"target": "a", "tags": {"name": "a"}, "datapoints": []}]


def test_json_names_are_escaped() -> None:
    s = ts('a"b\\c', 60, 60, [1])
    assert json.loads(to_json([s]))[0]["target"] == 'a"b\\c'


def test_json_no_null_points_drops_points_and_empty_series() -> None:
    series_list = [
        ts("some", 60, 60, [None, 2, None, INF]),
        ts("none", 60, 60, [None, None]),
        ts("empty", 60, 60, []),
    ]
    assert json.loads(to_json(series_list, no_null_points=True)) == [
        {"target": "some", "tags": {"name": "some"}, "datapoints": [[2.0, 120], [INF, 240]]}]
    # without the flag every series stays
    assert [item["target"] for item in json.loads(to_json(series_list))] == [
        "some", "none", "empty"]


def test_json_pretty_is_the_same_data_indented() -> None:
    series_list = [ts("a", 60, 60, [1, None, INF, -INF]), ts("b", 60, 60, [])]
    compact = to_json(series_list)
    pretty = to_json(series_list, pretty=True).decode()
    assert "\n  " in pretty
    assert "Infinity" not in pretty
    assert "1e9999" in pretty and "-1e9999" in pretty
    assert json.loads(pretty) == json.loads(compact)


def test_json_pretty_leaves_names_alone() -> None:
    # the infinity spelling must touch numbers only, not a target named like one
    s = ts("Infinity.-Infinity", 60, 60, [INF])
    parsed = json.loads(to_json([s], pretty=True))
    assert parsed[0]["target"] == "Infinity.-Infinity"
    assert parsed[0]["datapoints"] == [[INF, 60]]


def test_json_after_max_data_points() -> None:
    s = ts("a", 1200, 60, list(range(10)))
    parsed = json.loads(to_json(apply_max_data_points([s], 5)))
    assert parsed[0]["datapoints"] == [
        [1.5, 1320], [3.5, 1440], [5.5, 1560], [7.5, 1680], [9.0, 1800]]


# -- csv ---------------------------------------------------------------------------------------


def test_csv_rows_in_utc() -> None:
    # 1700000000 = 2023-11-14 22:13:20 UTC
    s = ts("a.b", 1700000000, 60, [1.5, None, 3])
    assert to_csv([s], UTC) == (
        "a.b,2023-11-14 22:13:20,1.5\r\n"
        "a.b,2023-11-14 22:14:20,\r\n"
        "a.b,2023-11-14 22:15:20,3.0\r\n")


def test_csv_rows_in_the_request_time_zone_across_dst() -> None:
    # Paris went from UTC+1 to UTC+2 at 2024-03-31 01:00 UTC:
    # 1711843200 = 00:00 UTC = 01:00 CET, +1h = 03:00 CEST, +2h = 04:00 CEST
    s = ts("a", 1711843200, 3600, [1, 2, 3])
    assert to_csv([s], ZoneInfo("Europe/Paris")) == (
        "a,2024-03-31 01:00:00,1.0\r\n"
        "a,2024-03-31 03:00:00,2.0\r\n"
        "a,2024-03-31 04:00:00,3.0\r\n")


def test_csv_several_series_one_after_the_other() -> None:
    series_list = [ts("a", 0, 60, [1]), ts("b", 0, 60, [2, INF])]
    assert to_csv(series_list, UTC) == (
        "a,1970-01-01 00:00:00,1.0\r\n"
        "b,1970-01-01 00:00:00,2.0\r\n"
        "b,1970-01-01 00:01:00,inf\r\n")


@pytest.mark.parametrize("name", [
    "sumSeries(a,b)", 'a"b', "a\nb", "a\rb", "plain.name", "with space", "a;b=c",
])
def test_csv_quotes_names_like_the_csv_module(name: str) -> None:
    """graphite writes rows with csv.writer (excel dialect): the result must match."""
    expected = io.StringIO()
    writer = csv.writer(expected, dialect="excel")
    writer.writerow((name, "1970-01-01 00:00:00", 1.0))
    writer.writerow((name, "1970-01-01 00:01:00", ""))
    assert to_csv([ts(name, 0, 60, [1, None])], UTC) == expected.getvalue()


def test_csv_empty() -> None:
    assert to_csv([], UTC) == ""
    assert to_csv([ts("a", 0, 60, [])], UTC) == ""


# -- raw ---------------------------------------------------------------------------------------


def test_raw() -> None:
    series_list = [
        ts("a.b", 1200, 60, [1, None, 3.5]),
        ts("sumSeries(c,d)", 1200, 120, [None, INF]),
    ]
    # name,start,end,step|values with repr and None
    assert to_raw(series_list) == (
        "a.b,1200,1380,60|1.0,None,3.5\n"
        "sumSeries(c,d),1200,1440,120|None,inf\n")


def test_raw_empty_series_and_list() -> None:
    assert to_raw([ts("a", 1200, 60, [])]) == "a,1200,1200,60|\n"
    assert to_raw([]) == ""


# -- pickle ------------------------------------------------------------------------------------


def test_pickle_loads_back_to_graphite_dicts() -> None:
    s = ts("a.b", 1200, 60, [1, None, 3], path_expression="a.*", consolidation="max",
           x_files_factor=0.5)
    (info,) = pickle.loads(to_pickle([s]))
    assert info == {
        "name": "a.b", "start": 1200, "end": 1380, "step": 60, "values": [1.0, None, 3.0],
        "pathExpression": "a.*", "valuesPerPoint": 1, "consolidationFunc": "max",
        "xFilesFactor": 0.5,
    }
    assert type(info["values"][0]) is float
    assert type(info["start"]) is int


def test_pickle_empty() -> None:
    assert pickle.loads(to_pickle([])) == []
