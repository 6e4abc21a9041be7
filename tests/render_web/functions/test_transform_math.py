"""The Transform functions added for issue 8: point-wise math, shifts, gaps, running
totals by interval, time slices and stacks, smartSummarize and the clock series.
Expected values are worked out by hand in the comments."""

from __future__ import annotations

import math
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from render_web.functions import transform
from render_web.functions.registry import InputError
from render_web.series import TimeSeries
from tests.render_web.functions.test_transform import CTX, FakeEvaluator, context, same, ts

N = None


class FixedEvaluator:
    """Answers every evaluation with copies of `series`, recording each window."""

    def __init__(self, *series: TimeSeries) -> None:
        self.series = series
        self.windows: list[tuple[int, int]] = []

    def __call__(self, ctx, node) -> list[TimeSeries]:
        self.windows.append((ctx.start, ctx.end))
        return [s.copy() for s in self.series]


# --- point-wise math -------------------------------------------------------------------


def test_add_names_with_truncated_constant_and_leaves_input_alone() -> None:
    source = ts("a.b", [1, N, 2.5])
    [out] = transform.add(CTX, [source], 2.5)
    same(out, [3.5, N, 5.0])
    assert out.name == "add(a.b,2)"  # graphite's %d
    assert out.path_expression == "add(a.b,2)"
    assert out.tags == {"name": "a.b", "add": "2.5"}
    same(source, [1, N, 2.5])
    [negative] = transform.add(CTX, [source], -1.5)
    assert negative.name == "add(a.b,-1)"


def test_exp_and_overflow() -> None:
    [out] = transform.exp(CTX, [ts("a.b", [0, N, 1, 1000])])
    same(out, [1.0, N, math.e, N])  # e^1000 overflows: null
    assert out.name == "exp(a.b)" and out.tags["exp"] == "e"


def test_pow_square_root_invert() -> None:
    values = ts("a.b", [2, -4, 0, N])
    [half] = transform.pow_(CTX, [values], 0.5)
    same(half, [math.sqrt(2), N, 0.0, N])  # (-4)^0.5 is not real
    assert half.name == "pow(a.b,0.5)" and half.tags["pow"] == "0.5"
    [inverse] = transform.pow_(CTX, [values], -1.0)
    same(inverse, [0.5, -0.25, N, N])  # 0^-1 has no value
    assert transform.pow_(CTX, [values], 2.0)[0].name == "pow(a.b,2)"
    [root] = transform.square_root(CTX, [ts("a.b", [4, -1, N])])
    same(root, [2.0, N, N])
    assert root.name == "squareRoot(a.b)" and root.tags["squareRoot"] == "1"
    [inv] = transform.invert(CTX, [ts("a.b", [4, 0, -2])])
    same(inv, [0.25, N, -0.5])
    assert inv.name == "invert(a.b)" and inv.tags["invert"] == "1"


def test_sigmoid_and_logit() -> None:
    [sig] = transform.sigmoid(CTX, [ts("a.b", [0, N, -1000])])
    same(sig, [0.5, N, 0.0])  # 1/(1+e^1000) -> 0 instead of an overflow
    assert sig.name == "sigmoid(a.b)" and sig.tags["sigmoid"] == "sigmoid"
    [lg] = transform.logit(CTX, [ts("a.b", [0.5, 0.75, 0, 1, 2, N])])
    # log(0.5/0.5) = 0, log(0.75/0.25) = log 3; 0, 1 and 2 are outside (0, 1)
    same(lg, [0.0, math.log(3), N, N, N, N])
    assert lg.name == "logit(a.b)" and lg.tags["logit"] == "logit"


def test_log_bases() -> None:
    [ten] = transform.logarithm(CTX, [ts("a.b", [100, 0.1, 0, -5, N])])
    assert ten.to_list() == pytest.approx([2, -1, N, N, N], nan_ok=True)
    assert ten.name == "log(a.b, 10)" and ten.tags["log"] == "10"
    [two] = transform.logarithm(CTX, [ts("a.b", [8])], 2)
    assert two.to_list() == pytest.approx([3]) and two.name == "log(a.b, 2)"
    for base in (1, 0, -2):
        with pytest.raises(InputError):
            transform.logarithm(CTX, [ts("a.b", [8])], base)


def test_round_is_pythons_round() -> None:
    source = ts("a.b", [1.85, 2.5, -0.5, N])
    [whole] = transform.round_(CTX, [source])
    same(whole, [2.0, 2.0, -0.0, N])  # halves to even
    assert whole.name == "round(a.b)" and whole.tags["round"] == "0"
    [one] = transform.round_(CTX, [source], 1)
    same(one, [1.9, 2.5, -0.5, N])  # 1.85 is stored a hair above 1.85: 1.9
    assert one.name == "round(a.b,1)" and one.tags["round"] == "1"
    [tens] = transform.round_(CTX, [ts("a.b", [15, 25, 26])], -1)
    same(tens, [20.0, 20.0, 30.0])
    assert transform.round_(CTX, [source], 0)[0].name == "round(a.b,0)"


def test_offset_to_zero_and_min_max() -> None:
    [out] = transform.offset_to_zero(CTX, [ts("a.b", [5, N, 3, 7])])
    same(out, [2.0, N, 0.0, 4.0])  # minus the minimum 3
    assert out.name == "offsetToZero(a.b)" and out.tags["offsetToZero"] == "3.0"
    [empty] = transform.offset_to_zero(CTX, [ts("a.b", [N, N])])
    same(empty, [N, N])
    assert empty.tags["offsetToZero"] == "None"
    [scaled] = transform.min_max(CTX, [ts("a.b", [2, N, 4, 6])])
    same(scaled, [0.0, N, 0.5, 1.0])  # (v-2)/(6-2)
    assert scaled.name == "minMax(a.b)" and scaled.tags == {"name": "a.b"}
    [flat] = transform.min_max(CTX, [ts("a.b", [5, 5, N])])
    same(flat, [0.0, 0.0, N])


def test_is_non_null() -> None:
    [out] = transform.is_non_null(CTX, [ts("a.b", [1, N, 0])])
    same(out, [1.0, 0.0, 1.0])
    assert out.name == "isNonNull(a.b)" and out.tags["isNonNull"] == "1"


# --- shifts, gaps, running totals ------------------------------------------------------


def test_delay_both_ways() -> None:
    source = ts("a.b", [1, 2, 3, 4])
    [later] = transform.delay(CTX, [source], 1)
    same(later, [N, 1, 2, 3])
    assert later.name == "delay(a.b,1)" and later.tags["delay"] == "1"
    assert later.start == source.start
    same(transform.delay(CTX, [source], -2)[0], [3, 4, N, N])
    same(transform.delay(CTX, [source], 10)[0], [N, N, N, N])
    same(transform.delay(CTX, [source], -10)[0], [N, N, N, N])
    same(transform.delay(CTX, [source], 0)[0], [1, 2, 3, 4])  # graphite: empty


def test_interpolate_lines_between_values() -> None:
    source = ts("a.b", [1, N, N, 4, N, 6, N])
    [out] = transform.interpolate(CTX, [source])
    same(out, [1, 2, 3, 4, 5, 6, N])  # the trailing null has nothing after it
    assert out.name == "interpolate(a.b)" and out.tags == {"name": "a.b"}
    same(transform.interpolate(CTX, [source], 1)[0], [1, N, N, 4, 5, 6, N])
    same(transform.interpolate(CTX, [ts("a.b", [N, N, 3, N, 4])])[0], [N, N, 3, 3.5, 4])


def test_integral_by_interval_restarts_at_boundaries_from_request_start() -> None:
    # request start 6000, points at 6060..6360, 2min buckets from 6000:
    # [6000,6120) [6120,6240) [6240,6360) [6360,...): groups [1], [N,2], [3,4], [N]
    source = ts("a.b", [1, N, 2, 3, 4, N], start=6060)
    [out] = transform.integral_by_interval(CTX, [source], "2min")
    same(out, [1, 0, 2, 3, 7, 0])  # a null repeats the running total
    assert out.name == "integralByInterval(a.b,'2min')"
    assert out.tags["integralByInterval"] == "2min"
    with pytest.raises(InputError):
        transform.integral_by_interval(CTX, [source], "0min")


def test_compress_periodic_gaps() -> None:
    # values every 3rd point from index 1: step 10 -> 30, from 110
    source = ts("a.b", [N, 5, N, N, 7, N, N, 9, N, N, 11, N], start=100, step=10)
    [out] = transform.compress_periodic_gaps_function(CTX, [source])
    assert (out.start, out.step) == (110, 30)
    same(out, [5, 7, 9, 11])
    assert out.name == out.path_expression == "compressPeriodicGaps(a.b)"
    # a value at index 0 is skipped by graphite's guess (and zeros count as missing):
    # guess from indexes 3 and 6, buckets from 30: [30,60) last 6, [60,90) 7, [90,120) 8
    zero_first = ts("a.b", [5, 0, N, 6, N, N, 7, N, N, 8, N], start=0, step=10)
    [guessed] = transform.compress_periodic_gaps_function(CTX, [zero_first])
    assert (guessed.start, guessed.step) == (30, 30)
    same(guessed, [6, 7, 8])
    [plain] = transform.compress_periodic_gaps_function(CTX, [ts("a.b", [1, 2, 3])])
    same(plain, [1, 2, 3])
    assert plain.step == 60 and plain.name == "compressPeriodicGaps(a.b)"


# --- time windows ----------------------------------------------------------------------


def test_time_slice_counts_from_request_start() -> None:
    # graphite places point i at request start + i*step: 6000, 6060, 6120, 6180, 6240
    source = ts("a.b", [1, 2, 3, 4, 5], start=6060, path_expression="a.*")
    [out] = transform.time_slice(CTX, [source], "6060", "6180")
    same(out, [N, 2, 3, 4, N])
    assert out.name == "timeSlice(a.b, 6060, 6180)"
    assert out.path_expression == "a.*"
    assert out.tags == {"name": "a.b", "timeSliceStart": "6060", "timeSliceEnd": "6180"}
    # the default end is the request's now (6600); "-5min" is relative to it: 6300
    same(transform.time_slice(CTX, [source], 6120)[0], [N, N, 3, 4, 5])
    same(transform.time_slice(CTX, [source], "-5min")[0], [N, N, N, N, N])
    with pytest.raises(InputError):
        transform.time_slice(CTX, [source], "garbage")


def test_time_stack_refetches_each_shift() -> None:
    fake = FakeEvaluator()
    ctx = context(start=7200, end=7500, evaluator=fake)
    reference = ts("a.b", [1, 2, 3, 4, 5], start=7200)
    out = transform.time_stack(ctx, [reference], "1h", 0, 2)
    assert fake.windows == [(7200, 7500), (3600, 3900)]
    assert [s.name for s in out] == ["timeShift(a.b, -1h, 0)", "timeShift(a.b, -1h, 1)"]
    same(out[0], [120, 121, 122, 123, 124])  # minutes of 7200..7440
    same(out[1], [60, 61, 62, 63, 64])
    assert out[1].start == 7200
    assert out[1].tags == {"name": "a.b", "timeShiftUnit": "-1h", "timeShift": "1"}
    assert transform.time_stack(ctx, [], "1h") == []


def test_smart_summarize_buckets_from_series_start() -> None:
    # buckets [60,180) [180,300) [300,420): 1+2, 3+4, 5
    [out] = transform.smart_summarize(CTX, [ts("a.b", [1, 2, 3, 4, 5])], "2min")
    same(out, [3, 7, 5])
    assert (out.start, out.step) == (60, 120)
    assert out.name == 'smartSummarize(a.b, "2min", "sum")'
    assert out.tags == {"name": "a.b", "smartSummarize": "2min", "smartSummarizeFunction": "sum"}
    [avg] = transform.smart_summarize(CTX, [ts("a.b", [1, N, 3, 4, N])], "2min", "avg")
    same(avg, [1, 3.5, N])
    # a boolean alignTo (the old alignToFrom) is ignored: no refetch
    same(transform.smart_summarize(CTX, [ts("a.b", [1, 2])], "2min", "sum", True)[0], [3])


def test_smart_summarize_align_to_refetches_from_truncated_start() -> None:
    fake = FakeEvaluator()
    ctx = context(start=7260 + 30, end=7800, evaluator=fake)
    transform.smart_summarize(ctx, [ts("a.b", [1])], "5min", "sum", "hours")
    transform.smart_summarize(ctx, [ts("a.b", [1])], "5min", "sum", "minutes")
    assert fake.windows == [(7200, 7800), (7260, 7800)]
    # in New York the day starts at 05:00 UTC: 2023-11-14 22:13:20 UTC is 17:13:20 EST
    ny = context(start=1_700_000_000, end=1_700_000_600, evaluator=fake,
                 tz=ZoneInfo("America/New_York"))
    transform.smart_summarize(ny, [ts("a.b", [1])], "1h", "sum", "days")
    transform.smart_summarize(ny, [ts("a.b", [1])], "1h", "sum", "weeks")  # Monday 13th
    assert fake.windows[-2:] == [(1_699_938_000, 1_700_000_600),
                                 (1_699_938_000 - 86400, 1_700_000_600)]
    with pytest.raises(InputError):
        transform.smart_summarize(ny, [ts("a.b", [1])], "1h", "sum", "bogus")


# --- clock series ----------------------------------------------------------------------


def test_time_and_sin_functions() -> None:
    ctx = context(start=6000, end=6300)
    [clock] = transform.time_function(ctx, "t")
    assert (clock.name, clock.start, clock.step) == ("t", 6000, 60)
    same(clock, [6000, 6060, 6120, 6180, 6240])
    same(transform.time_function(ctx, "t", 120)[0], [6000, 6120, 6240])
    [wave] = transform.sin_function(ctx, "w", 2, 150)
    assert wave.to_list() == pytest.approx([2 * math.sin(6000), 2 * math.sin(6150)])
    assert wave.tags == {"name": "w"}
    with pytest.raises(InputError):
        transform.time_function(ctx, "t", 0)
    assert CTX.tz is UTC
