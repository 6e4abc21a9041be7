"""graphite-web's Calculate functions: moving windows over re-fetched history, and
nPercentile. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from render_web.functions import calculate
from render_web.functions.registry import InputError
from render_web.series import TimeSeries
from tests.render_web.functions.test_transform import CTX, FakeEvaluator, context, same, ts

N = None


def window(values: list[float | None], points: int, func: str = "average",
           xff: float = 0.0) -> list[float | None]:
    array = np.array([np.nan if v is None else v for v in values], dtype=float)
    out = calculate.window_values(array, points, func, xff)
    return [None if v != v else float(v) for v in out]


# --- the window itself -----------------------------------------------------------------


def test_window_ends_at_each_output() -> None:
    # graphite-web 1.1.10 (golden movingAverage_*): output j is over values[j+1:j+1+2],
    # i.e. the output's own point and the one before it; values[0] is never used.
    # (This test used to expect the window *before* each output, [1, 3, 3, 5], read
    # from an older graphite-web; the recorded 1.1.10 answers are one point later.)
    # [N,3]->3, [3,N]->3, [N,5]->5, [5,6]->5.5
    assert window([1, N, 3, N, 5, 6], 2) == [3, 3, 5, 5.5]
    assert window([1, N, N], 2) == [N]  # nothing in the window; the 1 is not in it
    assert window([1, 2], 3) == []  # fewer points than the window
    assert window([1, 2, 3], 0) == [N, N, N]  # a zero-point window is all nulls


def test_window_x_files_factor() -> None:
    # windows [N,3], [3,N], [N,5] hold 1 value of 2 = 0.5; [5,6] is full
    assert window([1, N, 3, N, 5, 6], 2, xff=0.5) == [3, 3, 5, 5.5]
    assert window([1, N, 3, N, 5, 6], 2, xff=0.6) == [N, N, N, 5.5]
    assert window([1, 2, 3], 2, xff=1.0) == [2.5]  # (2+3)/2


def test_window_functions() -> None:
    # the leading 99 is the never-used first point
    assert window([99, 1, 5, 2], 3, "median") == [2]  # median(1,5,2)
    assert window([99, 1, 5], 2, "median") == [3]  # (1+5)/2
    assert window([99, N, 4], 2, "avg_zero") == [4]  # only non-null values reach it
    assert window([99, 2, N, 3], 3, "multiply") == [6]  # 2*3, the null is skipped
    assert window([1, 2, 3, 4], 2, "sum") == [5, 7]  # 2+3, 3+4
    assert window([1, 2, 3, 4], 2, "min") == [2, 3]
    assert window([1, 2, 3, 4], 2, "max") == [3, 4]
    assert window([1, 2, 3, 4], 2, "diff") == [-1, -1]  # 2-3, 3-4
    assert window([99, 1, N, 3], 3, "count") == [2]


def test_window_in_chunks_matches_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.arange(50, dtype=float)
    values[::7] = np.nan
    whole = calculate.window_values(values, 4, "average", 0.0)
    monkeypatch.setattr(calculate, "_CHUNK_CELLS", 8)  # 2 rows at a time
    np.testing.assert_array_equal(calculate.window_values(values, 4, "average", 0.0), whole)


# --- movingAverage and friends over re-fetched history ---------------------------------


def test_moving_average_points_refetches_history() -> None:
    fake = FakeEvaluator()
    ctx = context(start=6000, end=6600, evaluator=fake)
    [out] = calculate.moving_average(ctx, [ts("a.b", [0] * 10, start=6000)], 3)
    # 3 points of 60 s before 6000 are fetched too: values 97..109 (minutes)
    assert fake.windows == [(5820, 6600)]
    assert out.start == 6000 and out.step == 60
    # output at minute 100 averages minutes 98, 99, 100 = 99 (minute 97 is fetched but
    # never used, as in graphite-web 1.1.10); then 100, ...
    same(out, [99, 100, 101, 102, 103, 104, 105, 106, 107, 108])
    assert out.name == out.path_expression == "movingAverage(a.b,3)"
    assert out.tags == {"name": "a.b", "movingAverage": "3"}


def test_moving_average_interval_string() -> None:
    fake = FakeEvaluator()
    ctx = context(start=6000, end=6600, evaluator=fake)
    [out] = calculate.moving_average(ctx, [ts("a.b", [0], start=6000)], "3min")
    assert fake.windows == [(5820, 6600)]
    same(out, [99, 100, 101, 102, 103, 104, 105, 106, 107, 108])
    assert out.name == 'movingAverage(a.b,"3min")'
    assert out.tags["movingAverage"] == "3min"


def test_moving_siblings_names_and_values() -> None:
    def run(fn: object, *args: object) -> TimeSeries:
        return fn(context(evaluator=FakeEvaluator()), [ts("a.b", [1], start=6000)], *args)

    # windows of 2 ending at minute 100: (99, 100) -> sum 199, min 99, max 100,
    # median 99.5
    assert run(calculate.moving_sum, 2)[0].to_list()[0] == 199
    assert run(calculate.moving_min, 2)[0].to_list()[0] == 99
    assert run(calculate.moving_max, 2)[0].to_list()[0] == 100
    assert run(calculate.moving_median, 2)[0].to_list()[0] == 99.5
    assert run(calculate.moving_sum, 2)[0].name == "movingSum(a.b,2)"
    assert run(calculate.moving_median, "2min")[0].name == 'movingMedian(a.b,"2min")'
    [out] = run(calculate.moving_window, 2, "avg_zero")
    assert out.name == "movingAvg_zero(a.b,2)"  # graphite-web's str.capitalize()
    assert run(calculate.moving_window, 2)[0].name == "movingAverage(a.b,2)"


def test_moving_window_x_files_factor_defaults_to_the_series() -> None:
    def evaluator(ctx: object, node: object) -> list[TimeSeries]:
        # 2 history points then 2 requested ones: [1, 3, None, 4]
        return [ts("a.b", [1, 3, N, 4], start=6000 - 120, x_files_factor=1.0)]

    ctx = context(start=6000, end=6120, evaluator=evaluator)
    # windows [3, None] and [None, 4]: half full, below the series' 1.0
    same(calculate.moving_average(ctx, [ts("a.b", [N, 4], start=6000)], 2)[0], [N, N])
    # an explicit xFilesFactor wins
    same(calculate.moving_average(ctx, [ts("a.b", [N, 4], start=6000)], 2, 0.5)[0], [3, 4])


def test_moving_int_window_uses_the_coarsest_step() -> None:
    fake = FakeEvaluator(names=("fine", "coarse"))
    ctx = context(start=6000, end=6600, evaluator=fake)
    given = [ts("fine", [1], start=6000, step=60), ts("coarse", [1], start=6000, step=120)]
    outs = calculate.moving_average(ctx, given, 2)
    # 2 points of the 120 s series = 240 s of history for every series
    assert fake.windows == [(5760, 6600)]
    # the fake gives 60 s points: 14 fetched, 2 used as window -> 12 from 5760 + 240
    assert [(o.start, len(o)) for o in outs] == [(6000, 12), (6000, 12)]


def test_moving_bad_and_empty_arguments() -> None:
    fake = FakeEvaluator()
    ctx = context(evaluator=fake)
    assert calculate.moving_average(ctx, [], 5) == []
    assert fake.windows == []
    with pytest.raises(InputError):
        calculate.moving_average(ctx, [ts("a.b", [1])], -1)
    with pytest.raises(InputError):
        calculate.moving_average(ctx, [ts("a.b", [1])], "5")  # no unit
    with pytest.raises(InputError):
        calculate.moving_window(ctx, [ts("a.b", [1])], 5, "nope")
    # a window of 0 points keeps every output null
    [out] = calculate.moving_average(ctx, [ts("a.b", [1], start=6000)], 0)
    assert out.start == 6000 and out.to_list() == [N] * 10


# --- nPercentile -----------------------------------------------------------------------


def test_n_percentile_nearest_rank() -> None:
    source = ts("a.b", [5, N, 1, 3, 2, 4])
    # sorted 1..5; rank = 0.5*6 = 3 -> 3rd value
    [out] = calculate.n_percentile(CTX, [source], 50.0)
    same(out, [3] * 6)
    assert out.name == "nPercentile(a.b, 50)"
    # n arrives as a float: the tag is str(50.0) as in graphite-web (it used to say "50")
    assert out.tags == {"name": "a.b", "nPercentile": "50.0"}
    # 0.9*6 = 5.4 -> rank 6 = one past the end -> the last value
    same(calculate.n_percentile(CTX, [source], 90)[0], [5] * 6)
    # 0.1*6 = 0.6 -> rank 1; 0.25*6 = 1.5 -> rank 2
    same(calculate.n_percentile(CTX, [source], 10)[0], [1] * 6)
    same(calculate.n_percentile(CTX, [source], 25)[0], [2] * 6)
    assert calculate.n_percentile(CTX, [source], 99.5)[0].name == "nPercentile(a.b, 99.5)"


def test_n_percentile_empty_and_bad() -> None:
    assert calculate.n_percentile(CTX, [ts("a.b", [N, N])], 50) == []
    assert calculate.n_percentile(CTX, [], 50) == []
    with pytest.raises(InputError):
        calculate.n_percentile(CTX, [ts("a.b", [1])], 0)
    with pytest.raises(InputError):
        calculate.n_percentile(CTX, [ts("a.b", [1, 2, 3])], 300)  # rank 12 of 3
