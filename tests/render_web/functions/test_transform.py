"""graphite-web's Transform functions: values, names, tags and re-fetched windows.

Expected values are worked out by hand in the comments next to them.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from render_web.functions import alias, calculate, transform
from render_web.functions.registry import Context, FunctionRegistry, InputError
from render_web.series import TimeSeries

N = None


def ts(name: str, values: list[float | None], start: int = 60, step: int = 60,
       **kwargs: object) -> TimeSeries:
    return TimeSeries.from_list(name, start, step, values, **kwargs)


def same(actual: TimeSeries, expected: list[float | None]) -> None:
    assert actual.to_list() == expected


class FakeEvaluator:
    """Evaluates any node as one series per name in `names`, on a `step` grid from the
    requested start: value = minutes since the epoch. Records each window asked for."""

    def __init__(self, names: tuple[str, ...] = ("a.b",), step: int = 60) -> None:
        self.names = names
        self.step = step
        self.windows: list[tuple[int, int]] = []

    def __call__(self, ctx: Context, node: object) -> list[TimeSeries]:
        self.windows.append((ctx.start, ctx.end))
        times = np.arange(ctx.start, ctx.end, self.step)
        return [TimeSeries(name, ctx.start, self.step, times / 60.0) for name in self.names]


def context(start: int = 6000, end: int = 6600, evaluator: object = None,
            tz: object = UTC) -> Context:
    return Context(start=start, end=end, now=end, tz=tz, args=("a.b",),
                   evaluator=evaluator)


CTX = context()


# --- registration ----------------------------------------------------------------------

REFERENCE = Path(__file__).resolve().parents[1] / "golden" / "_functions.json"
MODULES = [transform, calculate, alias]


def test_modules_register_without_clashes() -> None:
    registry = FunctionRegistry.collect(MODULES)
    assert {"scale", "scaleToSeconds", "offset", "absolute", "derivative",
            "nonNegativeDerivative", "perSecond", "integral", "summarize", "hitcount",
            "timeShift", "keepLastValue", "transformNull"} <= set(registry.names())
    assert registry.get("summarize").group == "Transform"


def test_param_metadata_matches_graphite_web() -> None:
    reference = json.loads(REFERENCE.read_text())
    registry = FunctionRegistry.collect(MODULES)
    for spec in registry.specs():
        expected = reference[spec.name]
        assert spec.group == expected["group"], spec.name
        assert [p.metadata() for p in spec.params] == expected["params"], spec.name


# --- point-wise arithmetic -------------------------------------------------------------


def test_scale_multiplies_names_with_g_and_tags() -> None:
    source = ts("a.b", [1, N, 3])
    # the evaluator hands a float parameter over as a float (graphite-web 1.1.10 too):
    # the name prints it with %g, the tag with str() -> "2.0" (golden scale_int_name).
    # An earlier version of this test expected the tag "2"; graphite-web says "2.0".
    [out] = transform.scale(CTX, [source], 2.0)
    same(out, [2, N, 6])
    assert out.name == out.path_expression == "scale(a.b,2)"
    assert out.tags == {"name": "a.b", "scale": "2.0"}
    assert source.to_list() == [1, N, 3] and source.name == "a.b"  # input untouched
    assert transform.scale(CTX, [source], 0.5)[0].name == "scale(a.b,0.5)"
    assert transform.scale(CTX, [source], 1e6)[0].name == "scale(a.b,1e+06)"
    assert transform.scale(CTX, [], 2) == []


def test_scale_to_seconds_rounds_to_six_places() -> None:
    # step 60, seconds 1: factor 1/60 -> 60 -> 1, 30 -> 0.5; 20/60 = 0.333333...
    [out] = transform.scale_to_seconds(CTX, [ts("a.b", [60, 30, N, 20])], 1.0)
    same(out, [1.0, 0.5, N, 0.333333])
    assert out.name == "scaleToSeconds(a.b,1)"
    assert out.tags["scaleToSeconds"] == "1.0"  # str(1.0), as graphite-web (was "1")


def test_offset_and_absolute() -> None:
    [out] = transform.offset(CTX, [ts("a.b", [1, N, -3])], 5.0)
    same(out, [6, N, 2])
    assert out.name == "offset(a.b,5)"
    assert out.tags["offset"] == "5.0"  # str() of the float, as graphite-web
    assert transform.offset(CTX, [ts("a.b", [1])], -2.5)[0].name == "offset(a.b,-2.5)"
    [out] = transform.absolute(CTX, [ts("a.b", [-1, N, 2])])
    same(out, [1, N, 2])
    assert out.name == "absolute(a.b)" and out.tags["absolute"] == "1"


# --- differences ---------------------------------------------------------------------


def test_derivative_nulls_cost_the_next_point() -> None:
    # 3-1=2; None; 10-None=None; 15-10=5
    [out] = transform.derivative(CTX, [ts("a.b", [1, 3, N, 10, 15])])
    same(out, [N, 2, N, N, 5])
    assert out.name == out.path_expression == "derivative(a.b)"
    assert transform.derivative(CTX, [ts("a.b", [])])[0].to_list() == []


def test_non_negative_derivative_reset_is_null() -> None:
    # 3-1=2; 2<3 -> reset -> None; 5-2=3
    [out] = transform.non_negative_derivative(CTX, [ts("a.b", [1, 3, 2, 5])])
    same(out, [N, 2, N, 3])
    assert out.name == "nonNegativeDerivative(a.b)"


def test_non_negative_derivative_wraps() -> None:
    nnd = transform.non_negative_derivative
    # maxValue 10: 10-8=2; wrap 10+1+1-10-0 = 2
    same(nnd(CTX, [ts("a.b", [8, 10, 1])], 10)[0], [N, 2, 2])
    # with minValue 1: 10+1+2-10-1 = 2
    same(nnd(CTX, [ts("a.b", [8, 10, 2])], 10, 1)[0], [N, 2, 2])
    # only minValue 1: restart counted from 1: 3-1 = 2
    same(nnd(CTX, [ts("a.b", [5, 7, 3])], None, 1)[0], [N, 2, 2])
    # 12 > max: None and forgets prev, so 7 is None too; 9-7=2
    same(nnd(CTX, [ts("a.b", [5, 12, 7, 9])], 10)[0], [N, N, N, 2])
    # -1 < min 0: None, forgets prev; 3 None; 4-3=1
    same(nnd(CTX, [ts("a.b", [-1, 3, 4])], None, 0)[0], [N, N, 1])
    same(nnd(CTX, [ts("a.b", [1, N, 3, 4])])[0], [N, N, N, 1])


def test_per_second_divides_by_step() -> None:
    # step 10: (10-0)/10=1, (25-10)/10=1.5, 5<25 -> None
    [out] = transform.per_second(CTX, [ts("a.b", [0, 10, 25, 5], step=10)])
    same(out, [N, 1.0, 1.5, N])
    assert out.name == "perSecond(a.b)" and out.tags["perSecond"] == "1"
    # 1/3 rounded to 6 places
    same(transform.per_second(CTX, [ts("a.b", [0, 1], step=3)])[0], [N, 0.333333])
    # wrap at maxValue 100: 100+1+2-99 = 4 over step 2 -> 2
    same(transform.per_second(CTX, [ts("a.b", [99, 2], step=2)], 100)[0], [N, 2.0])


def test_integral_skips_nulls_without_reset() -> None:
    # 1; None; 1+2=3; 3+3=6
    [out] = transform.integral(CTX, [ts("a.b", [1, N, 2, 3])])
    same(out, [1, N, 3, 6])
    same(transform.integral(CTX, [ts("a.b", [N, 1])])[0], [N, 1])
    assert out.name == "integral(a.b)"


# --- nulls -----------------------------------------------------------------------------


def test_keep_last_value_fills_runs_after_a_value() -> None:
    # leading None stays; the run of 2 takes 1; the trailing run takes 4
    [out] = transform.keep_last_value(CTX, [ts("a.b", [N, 1, N, N, 4, N])])
    same(out, [N, 1, 1, 1, 4, 4])
    assert out.name == out.path_expression == "keepLastValue(a.b)"
    # limit 1: the run of 2 is too long, the trailing single None is filled
    same(transform.keep_last_value(CTX, [ts("a.b", [1, N, N, 4, N])], 1)[0],
         [1, N, N, 4, 4])
    same(transform.keep_last_value(CTX, [ts("a.b", [1, N, N, 4, N])], 2)[0],
         [1, 1, 1, 4, 4])
    same(transform.keep_last_value(CTX, [ts("a.b", [N, N])])[0], [N, N])
    same(transform.keep_last_value(CTX, [ts("a.b", [1, 2])])[0], [1, 2])
    same(transform.keep_last_value(CTX, [ts("a.b", [1, N])], 0)[0], [1, N])


def test_transform_null_default_and_name() -> None:
    [out] = transform.transform_null(CTX, [ts("a.b", [N, 1, N])])
    same(out, [0, 1, 0])
    assert out.name == "transformNull(a.b,0)"
    assert out.tags == {"name": "a.b", "transformNull": "0"}
    [out] = transform.transform_null(CTX, [ts("a.b", [N, 1])], -1.5)
    same(out, [-1.5, 1])
    assert out.name == "transformNull(a.b,-1.5)"
    # an explicit default arrives as a float: name with %g, tag with str()
    [out] = transform.transform_null(CTX, [ts("a.b", [N, 1])], -1.0)
    assert out.name == "transformNull(a.b,-1)" and out.tags["transformNull"] == "-1.0"


def test_transform_null_with_reference_series() -> None:
    refs = [ts("r.1", [N, 5, N, N]), ts("r.2", [N, N, N, 7])]
    # defaults only where some reference has a value: [None, 0, None, 0]
    [out] = transform.transform_null(CTX, [ts("a.b", [N, N, 3, N])], 0, refs)
    same(out, [N, 0, 3, 0])
    assert out.name == "transformNull(a.b,0,referenceSeries)"
    assert out.tags["referenceSeries"] == "1"
    # graphite-web zips to the longer list: a shorter series grows to 4 points
    same(transform.transform_null(CTX, [ts("a.b", [N, N])], 9, refs)[0], [N, 9, N, 9])
    # empty reference list: plain replacement
    same(transform.transform_null(CTX, [ts("a.b", [N])], 2, [])[0], [2])


# --- summarize -------------------------------------------------------------------------

# Points at 60, 120, ..., 540 (values 1..9): 5min buckets [0,300) holds 1..4 and
# [300,600) holds 5..9; the end (600) is itself a boundary, so an empty third bucket.
NINE = [1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_summarize_sum_aligned_to_epoch() -> None:
    [out] = transform.summarize(CTX, [ts("a.b", NINE)], "5min")
    same(out, [10, 35, N])  # 1+2+3+4, 5+...+9
    assert (out.start, out.step) == (0, 300)
    assert out.name == out.path_expression == 'summarize(a.b, "5min", "sum")'
    assert out.tags == {"name": "a.b", "summarize": "5min", "summarizeFunction": "sum"}


def test_summarize_functions() -> None:
    def run(func: str, values: list[float | None]) -> list[float | None]:
        return transform.summarize(CTX, [ts("a.b", values)], "5min", func)[0].to_list()

    assert run("avg", NINE) == [2.5, 7.0, N]
    assert run("max", NINE) == [4, 9, N]
    gappy = [1, N, N, 4, 5, 6, 7, 8, 9]
    assert run("avg_zero", gappy) == [1.25, 7.0, N]  # (1+4)/4 points: nulls count as 0
    assert run("multiply", gappy) == [N, 15120, N]  # a null makes the product null
    assert run("count", gappy) == [2, 5, N]
    assert run("last", gappy) == [4, 9, N]
    assert run("median", gappy) == [2.5, 7, N]


def test_summarize_align_to_from() -> None:
    # buckets from the series start: [60,360) = 1..5, [360,660) = 6..9
    [out] = transform.summarize(CTX, [ts("a.b", NINE)], "5min", "sum", True)
    same(out, [15, 30])
    assert out.start == 60
    assert out.name == 'summarize(a.b, "5min", "sum", true)'


def test_summarize_x_files_factor() -> None:
    # bucket 1 has 2 values of the 5 an interval holds: 0.4 < 0.5 -> None
    source = ts("a.b", [1, N, N, 4, 5, 6, 7, 8, 9], x_files_factor=0.5)
    same(transform.summarize(CTX, [source], "5min")[0], [N, 35, N])


def test_summarize_days_are_utc_days_and_steps_differ() -> None:
    day = 86400
    hourly = ts("a.b", [1.0] * 30, start=3 * day + 3600, step=3600)
    # 23 points on day 3 (01:00..23:00), 7 on day 4; the end (4d+7h) is inside day 4
    [out] = transform.summarize(CTX, [hourly], "1d")
    assert out.start == 3 * day
    same(out, [23, 7])
    # each series keeps its own grid; both ends (240) are boundaries: empty last bucket
    [fine, coarse] = transform.summarize(
        CTX, [ts("x", [1, 1, 1, 1], start=0, step=60), ts("y", [2, 2], start=0, step=120)],
        "2min")
    same(fine, [2, 2, N])
    same(coarse, [2, 2, N])


def test_summarize_bad_arguments() -> None:
    with pytest.raises(InputError):
        transform.summarize(CTX, [ts("a.b", NINE)], "5min", "nope")
    with pytest.raises(InputError):
        transform.summarize(CTX, [ts("a.b", NINE)], "0min")
    with pytest.raises(InputError):
        transform.summarize(CTX, [ts("a.b", NINE)], "5m")  # "m" alone is no unit
    assert transform.summarize(CTX, [], "5min") == []


# --- hitcount --------------------------------------------------------------------------


def test_hitcount_whole_buckets() -> None:
    # rate 1/s, 10 one-minute points: 5 points x 60 s per 5min bucket
    [out] = transform.hitcount(CTX, [ts("a.b", [1] * 10, start=0)], "5min")
    same(out, [300, 300])
    assert out.name == 'hitcount(a.b, "5min")'
    assert out.tags["hitcount"] == "5min" and out.step == 300


def test_hitcount_buckets_end_at_series_end() -> None:
    # 7 points 1200..1560, end 1620: 2 buckets ending there start at 1020;
    # [1020,1320) gets 2 points, [1320,1620) gets 5
    [out] = transform.hitcount(CTX, [ts("a.b", [1] * 7, start=1200)], "5min")
    assert out.start == 1020
    same(out, [120, 300])


def test_hitcount_splits_points_across_buckets() -> None:
    # step 600 into 300 s buckets: each point fills two buckets; a gap stays None
    [out] = transform.hitcount(CTX, [ts("a.b", [1, N, 2], start=0, step=600)], "5min")
    same(out, [300, 300, N, N, 600, 600])
    # 90 s buckets over 60 s points: [0,60)->b0 60; [60,120)->b0 30 + b1 30;
    # [120,180) -> b1 60 (the part past the last bucket's end is cut)
    [out] = transform.hitcount(CTX, [ts("a.b", [1, 1, 1], start=0)], "90s")
    same(out, [90, 90])
    # a zero rate is a hit count of 0, not null
    same(transform.hitcount(CTX, [ts("a.b", [0], start=0)], "1min")[0], [0])


def test_hitcount_align_to_interval_refetches() -> None:
    fake = FakeEvaluator(step=600)
    ctx = context(start=5 * 3600 + 1234, end=5 * 3600 + 8400, evaluator=fake)
    [out] = transform.hitcount(ctx, [ts("a.b", [1])], "1h", True)
    assert fake.windows == [(5 * 3600, 5 * 3600 + 8400)]  # start truncated to the hour
    # 14 points of 600 s from 18000; 2 whole hours + 1 more bucket: 6, 6, 2 points
    assert out.start == 5 * 3600
    assert out.to_list() == pytest.approx([
        sum(t / 60 * 600 for t in range(18000, 21600, 600)),
        sum(t / 60 * 600 for t in range(21600, 25200, 600)),
        sum(t / 60 * 600 for t in range(25200, 26400, 600)),
        ])
    assert out.name == 'hitcount(a.b, "1h", true)'


# --- timeShift -------------------------------------------------------------------------


def test_time_shift_refetches_earlier_window() -> None:
    fake = FakeEvaluator()
    ctx = context(start=7200, end=7500, evaluator=fake)
    reference = ts("a.b", [1, 2, 3, 4, 5], start=7200)
    [out] = transform.time_shift(ctx, [reference], "1h")
    assert fake.windows == [(3600, 3900)]
    assert out.start == 7200 and out.step == 60
    same(out, [60, 61, 62, 63, 64])  # minutes of 3600..3840
    assert out.name == 'timeShift(a.b, "-1h")'
    assert out.path_expression == "a.b"
    assert out.tags == {"name": "a.b", "timeShift": "-1h"}


def test_time_shift_forward_and_reset_end() -> None:
    fake = FakeEvaluator()
    ctx = context(start=7200, end=7800, evaluator=fake)
    reference = ts("a.b", [1, 2, 3], start=7200)  # stops early (3 of 10 points)
    [out] = transform.time_shift(ctx, [reference], "+1h")
    assert fake.windows == [(10800, 11400)]
    assert out.name == 'timeShift(a.b, "+1h")'
    same(out, [180, 181, 182])  # cut to the reference's end
    [full] = transform.time_shift(ctx, [reference], "+1h", False)
    assert len(full) == 10 and full.start == 7200


def test_time_shift_empty_and_bad() -> None:
    fake = FakeEvaluator()
    assert transform.time_shift(context(evaluator=fake), [], "1d") == []
    assert fake.windows == []
    with pytest.raises(InputError):
        transform.time_shift(context(evaluator=fake), [ts("a.b", [1])], "")
    with pytest.raises(InputError):
        transform.time_shift(context(evaluator=fake), [ts("a.b", [1])], "1x")


def test_time_shift_align_dst() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    # 2021-04-10 12:00-14:00 CEST (in DST); 14 days earlier is CET (no DST)
    start = int(datetime(2021, 4, 10, 12, tzinfo=amsterdam).timestamp())
    end = start + 7200
    fake = FakeEvaluator()
    ctx = context(start=start, end=end, evaluator=fake, tz=amsterdam)
    transform.time_shift(ctx, [ts("a.b", [1], start=start)], "14d", True, True)
    # shifted by 14 days, then an hour later so 12:00 CET lines up with 12:00 CEST
    assert fake.windows == [(start - 14 * 86400 + 3600, end - 14 * 86400 + 3600)]
    transform.time_shift(ctx, [ts("a.b", [1], start=start)], "14d", alignDST=True)
    assert fake.windows[-1] == fake.windows[0]
    transform.time_shift(ctx, [ts("a.b", [1], start=start)], "1d", True, True)
    assert fake.windows[-1] == (start - 86400, end - 86400)  # both in DST: no change


def test_helpers() -> None:
    # plain str(), as graphite-web stores tags: a float keeps its ".0" (this test used
    # to expect "10"; graphite-web 1.1.10 answers "10.0", see golden scale_int_name)
    assert transform.tag_value(10.0) == "10.0"
    assert transform.tag_value(10) == "10"
    assert transform.tag_value(2.5) == "2.5"
    assert transform.tag_value("5min") == "5min"
    assert transform.tag_value(math.inf) == "inf"
    with pytest.raises(InputError):
        transform.interval_seconds(300, "x")


def test_summarize_days_start_at_midnight_in_the_request_time_zone() -> None:
    from zoneinfo import ZoneInfo

    day = 86400
    start = 1_700_000_000 - 1_700_000_000 % day - 2 * day   # a UTC midnight, in November
    hourly = ts("a.b", [1.0] * 72, start=start, step=3600)
    [utc] = transform.summarize(CTX, [hourly], "1d")
    assert utc.start == start and utc.step == day          # graphite's UTC days
    berlin = context(tz=ZoneInfo("Europe/Berlin"))           # UTC+1 in November
    [local] = transform.summarize(berlin, [hourly], "1d")
    assert local.start == start - 3600                       # midnight in Berlin
    # the first Berlin day holds 23 of the series' hours, the next ones 24
    assert local.to_list()[:3] == [23.0, 24.0, 24.0]
    [hours] = transform.summarize(berlin, [hourly], "1h")     # shorter: epoch multiples
    assert hours.start == start
