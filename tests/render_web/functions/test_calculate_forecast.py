"""The Calculate functions added for issue 8: aggregateLine, identity,
exponentialMovingAverage, stdev, linearRegression and the Holt-Winters family.
Expected values are worked out by hand in the comments."""

from __future__ import annotations

import pytest

from render_web.functions import calculate
from render_web.functions.registry import InputError
from tests.render_web.functions.test_transform import CTX, FakeEvaluator, context, same, ts
from tests.render_web.functions.test_transform_math import FixedEvaluator

N = None


# --- aggregateLine and identity --------------------------------------------------------


def test_aggregate_line_three_points_across_the_request() -> None:
    source = ts("a.b", [1, N, 3])
    [out] = calculate.aggregate_line(CTX, [source])
    # average 2; CTX is 6000..6600, so points at 6000, 6300, 6600
    same(out, [2.0, 2.0, 2.0])
    assert (out.start, out.step) == (6000, 300)
    assert out.name == out.path_expression == "aggregateLine(a.b, 2)"
    assert out.tags == {"name": "2.0"}  # graphite's constantLine tags str(value)
    [count] = calculate.aggregate_line(CTX, [source], "count")
    assert count.name == "aggregateLine(a.b, 2)" and count.tags == {"name": "2"}
    [empty] = calculate.aggregate_line(CTX, [ts("a.b", [N, N])], "max")
    same(empty, [N, N, N])
    assert empty.name == "aggregateLine(a.b, None)" and empty.tags == {"name": "None"}
    with pytest.raises(InputError):
        calculate.aggregate_line(CTX, [source], "bogus")


def test_aggregate_line_keep_step() -> None:
    source = ts("a.b", [1, N, 3.5], path_expression="a.*")
    [out] = calculate.aggregate_line(CTX, [source], "sum", True)
    same(out, [4.5, 4.5, 4.5])
    assert (out.start, out.step) == (60, 60)
    assert out.name == out.path_expression == "aggregateLine(a.b, 4.5)"
    assert out.tags == {"name": "a.b"}


def test_identity() -> None:
    [out] = calculate.identity(context(start=6000, end=6200), "x.y")
    same(out, [6000, 6060, 6120, 6180])
    assert (out.name, out.step, out.path_expression) == ("x.y", 60, 'identity("x.y")')


# --- exponential moving average ----------------------------------------------------------


def test_ema_points_window() -> None:
    fake = FakeEvaluator()
    ctx = context(start=6000, end=6300, evaluator=fake)
    [out] = calculate.exponential_moving_average(ctx, [ts("a.b", [1])], 2)
    assert fake.windows == [(5880, 6300)]  # 2 points of 60 s earlier
    # fetched minutes 98..104; seed avg(98, 99) = 98.5, weight 2/3:
    # 2/3*100 + 1/3*98.5 = 99.5, then 100.5, 101.5, 102.5, 103.5
    assert out.to_list() == pytest.approx([98.5, 99.5, 100.5, 101.5, 102.5, 103.5])
    assert out.start == 6000
    assert out.name == "exponentialMovingAverage(a.b,2)"
    assert out.tags["exponentialMovingAverage"] == "2"


def test_ema_nulls_and_interval_weight() -> None:
    source = ts("a.b", [2, 4, N, 6], start=5880)
    ctx = context(start=6000, end=6120, evaluator=FixedEvaluator(source))
    [out] = calculate.exponential_moving_average(ctx, [source], 2)
    same(out, [3.0, N, 5.0])  # seed 3; null stays null; 2/3*6 + 1/3*3 = 5
    # "2min" weighs by 120 seconds: 2/121*6 + 119/121*3 = 369/121
    [timed] = calculate.exponential_moving_average(ctx, [source], "2min")
    same(timed, [3.0, N, round(369 / 121, 6)])
    assert timed.name == 'exponentialMovingAverage(a.b,"2min")'
    [empty_seed] = calculate.exponential_moving_average(
        context(evaluator=FixedEvaluator(ts("a.b", [N, N, 4]))), [source], 2)
    same(empty_seed, [0.0, 2.666667])  # no seed values: from 0; 2/3*4 to 6 places
    assert calculate.exponential_moving_average(ctx, [], 2) == []


# --- stdev -------------------------------------------------------------------------------


def test_stdev_window_and_tolerance() -> None:
    source = ts("a.b", [1, 3, N, 5])
    [out] = calculate.stdev(CTX, [source], 2)
    # [1] -> 0; [1,3] -> sqrt(2*10 - 16)/2 = 1; [3,N] -> 0; [N,5] -> 0
    same(out, [0.0, 1.0, 0.0, 0.0])
    assert out.name == "stdev(a.b,2)" and out.tags["stdev"] == "2"
    # windows with 1 value of 2 are below a 0.6 tolerance
    same(calculate.stdev(CTX, [source], 2, 0.6)[0], [N, 1.0, N, N])
    same(calculate.stdev(CTX, [ts("a.b", [N, N])], 2)[0], [N, N])
    for bad in (0, -1):
        with pytest.raises(InputError):
            calculate.stdev(CTX, [source], bad)


# --- linear regression -------------------------------------------------------------------


def test_regression_line_by_hand() -> None:
    # points (i=0, 1) and (i=2, 3), step 10: n=2, sumI=2, sumV=4, sumII=4, sumIV=6;
    # denominator 2*4-4 = 4; slope (12-8)/4/10 = 0.1 per second; offset (16-12)/4 = 1
    assert calculate.regression_line(ts("a.b", [1, N, 3], start=0, step=10)) == \
        pytest.approx((0.1, 1.0))
    assert calculate.regression_line(ts("a.b", [N, 7, N])) is None


def test_linear_regression_over_source_window() -> None:
    fake = FakeEvaluator()  # value = minutes: the line t/60 whatever the window
    ctx = context(start=6000, end=6300, evaluator=fake)
    series = ts("a.b", [N, N, N, N, N], start=6000)
    [out] = calculate.linear_regression(ctx, [series])
    assert out.to_list() == pytest.approx([100, 101, 102, 103, 104])
    assert out.name == "linearRegression(a.b, 6000, 6300)"
    assert out.tags["linearRegressions"] == "6000, 6300"
    [earlier] = calculate.linear_regression(ctx, [series], "3600", "3900")
    assert fake.windows[-1] == (3600, 3900)
    assert earlier.to_list() == pytest.approx([100, 101, 102, 103, 104])  # extrapolated
    lonely = context(evaluator=FixedEvaluator(ts("a.b", [N, 5])))
    assert calculate.linear_regression(lonely, [series]) == []  # one point: no line


# --- Holt-Winters ------------------------------------------------------------------------


def test_holt_winters_by_hand() -> None:
    # i=0: intercept 10, slope 0, seasonal 0, prediction 10 (the first actual), dev 0
    # i=1: intercept .1*12 + .9*10 = 10.2, slope .0035*.2 = .0007, prediction 10,
    #      deviation .1*|12-10| = 0.2
    predictions, deviations = calculate.holt_winters([10, 12], 2)
    assert predictions == [10, 10]
    assert deviations == pytest.approx([0, 0.2])
    # a null: its prediction is the one made before it, and it resets the next one
    predictions, deviations = calculate.holt_winters([10, N, 12, 13], 2)
    # i=2: intercept restarts at 12, no prediction (None), deviation .1*|12-0| = 1.2
    # i=3: seasonal of i=1 (0); intercept .1*13 + .9*12 = 12.1, prediction made at i=2:
    #      12 + 0 + seasonal(i=1)=0 -> 12; deviation .1*1 + .9*deviation(i=1)=0 -> 0.1
    assert predictions == pytest.approx([10, 10, N, 12])
    assert deviations == pytest.approx([0, 0, 1.2, 0.1])


def test_holt_winters_forecast_drops_bootstrap() -> None:
    history = ts("a.b", [10, 12, 14], start=5940)
    fixed = FixedEvaluator(history)
    ctx = context(start=6000, end=6120, evaluator=fixed)
    [out] = calculate.holt_winters_forecast(ctx, [history], "1min", "2min")
    assert fixed.windows == [(5940, 6120)]
    predictions, _ = calculate.holt_winters([10, 12, 14], 2)
    same(out, predictions[1:])
    assert out.start == 6000
    assert out.name == out.path_expression == "holtWintersForecast(a.b)"
    assert out.tags == {"name": "a.b", "holtWintersForecast": "1", "holtWintersDeviation": "1"}
    with pytest.raises(InputError):  # a season of one point breaks the model
        calculate.holt_winters_forecast(ctx, [history], "1min", "1min")


def test_holt_winters_bands_aberration_and_area() -> None:
    history = ts("a.b", [10, 12], start=5940, path_expression="a.*")
    ctx = context(start=6000, end=6060, evaluator=FixedEvaluator(history))
    # after the 1-point bootstrap: forecast 10, deviation 0.2; delta 3 -> 9.4 .. 10.6
    lower, upper = calculate.holt_winters_confidence_bands(ctx, [history], 3, "1min", "2min")
    assert lower.to_list() == pytest.approx([9.4]) and upper.to_list() == pytest.approx([10.6])
    assert (lower.name, upper.name) == ("holtWintersConfidenceLower(a.b)",
                                        "holtWintersConfidenceUpper(a.b)")
    assert lower.path_expression == "a.*" and lower.start == 6000
    assert set(lower.tags) == {"name", "holtWintersForecast", "holtWintersDeviation",
                               "holtWintersConfidenceUpper", "holtWintersConfidenceLower"}
    now = ts("a.b", [11], start=6000)
    [above] = calculate.holt_winters_aberration(ctx, [now], 3, "1min", "2min")
    assert above.to_list() == pytest.approx([0.4])  # 11 - 10.6
    assert above.name == "holtWintersAberration(a.b)"
    assert above.tags == {"name": "a.b", "holtWintersAberration": "1"}
    same(calculate.holt_winters_aberration(ctx, [ts("a.b", [N], start=6000)], 3, "1min",
                                           "2min")[0], [0.0])
    same(calculate.holt_winters_aberration(ctx, [ts("a.b", [10], start=6000)], 3, "1min",
                                           "2min")[0], [0.0])  # inside the bands
    area = calculate.holt_winters_confidence_area(ctx, [history], 3, "1min", "2min")
    assert [s.name for s in area] == ["holtWintersConfidenceArea(a.*)"] * 2
    assert area[0].options == {"stacked": True, "invisible": True}
    assert area[1].options == {"stacked": True}
    assert area[0].tags["holtWintersConfidenceArea"] == "1"
