"""Timer statistics and Graphite names (etsy's process_metrics.js and graphite.js)."""

import math
from dataclasses import replace

import pytest

from statsd_daemon.aggregator import Snapshot
from statsd_daemon.flush import (
    bin_label,
    graphite_points,
    histogram_bins,
    js_number,
    keep_statistic,
    own_name,
    process,
    threshold_label,
    timer_statistics,
)
from statsd_daemon.settings import HistogramRule
from tests.statsd_daemon.helpers import OFFLINE


@pytest.mark.parametrize("value, text", [
    (0.0, "0"), (-0.0, "0"), (5.0, "5"), (-3.0, "-3"), (0.1, "0.1"),
    (0.30000000000000004, "0.30000000000000004"), (1e21, "1e+21"), (1.5e-7, "1.5e-7"),
    (0.00001, "0.00001"), (123456789012.0, "123456789012"), (2.5e20, "250000000000000000000"),
    (float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity"),
    (1e-7, "1e-7"), (1.0000001e-6, "0.0000010000001"),
])
def test_js_number(value, text):
    assert js_number(value) == text


@pytest.mark.parametrize("pct, label", [
    (90, "90"), (99.9, "99_9"), (-10, "top10"), (-99.9, "top99_9"), (0.5, "0_5"),
    (100, "100"), (95.0, "95"),
])
def test_threshold_label(pct, label):
    assert threshold_label(pct) == label


def test_bin_label():
    assert bin_label(0.01) == "bin_0_01"
    assert bin_label(100) == "bin_100"
    assert bin_label(math.inf) == "bin_inf"


def stats(values, count=None, interval=10.0, thresholds=(90,), bins=()):
    count = len(values) if count is None else count
    return dict(timer_statistics(values, count, interval, thresholds, bins))


class TestTimerStatistics:
    def test_basic(self):
        s = stats([7, 3, 10, 1, 9, 2, 8, 5, 4, 6])
        assert s["upper"] == 10 and s["lower"] == 1
        assert s["sum"] == 55 and s["sum_squares"] == 385
        assert s["mean"] == 5.5 and s["median"] == 5.5
        assert s["std"] == pytest.approx(math.sqrt(8.25))
        assert s["count"] == 10 and s["count_ps"] == 1.0
        assert (s["count_90"], s["upper_90"], s["sum_90"], s["mean_90"],
                s["sum_squares_90"]) == (9, 9, 45, 5, 285)

    def test_order_is_etsys(self):
        names = [name for name, _ in timer_statistics([1, 2], 2, 1, [90], ())]
        assert names == ["count_90", "mean_90", "upper_90", "sum_90", "sum_squares_90",
                         "std", "upper", "lower", "count", "count_ps", "sum",
                         "sum_squares", "mean", "median"]

    def test_median_odd(self):
        assert stats([5, 1, 3, 9, 7])["median"] == 5

    def test_single_value_sets_every_threshold_to_it(self):
        s = stats([42], thresholds=(90, -10, 50))
        for label in ("90", "50"):
            assert (s[f"count_{label}"], s[f"upper_{label}"], s[f"mean_{label}"]) == (1, 42, 42)
        assert s["lower_top10"] == 42 and s["sum_squares_top10"] == 42 * 42

    def test_threshold_rounding_is_javascripts(self):
        # 25% of 10 = 2.5 rounds up (Math.round), not to even.
        assert stats(list(range(1, 11)), thresholds=(25,))["count_25"] == 3
        assert stats(list(range(1, 11)), thresholds=(15,))["count_15"] == 2

    def test_threshold_with_nothing_in_it_is_skipped(self):
        s = stats([1, 2, 3], thresholds=(10,))
        assert "count_10" not in s

    def test_negative_threshold_takes_the_top(self):
        s = stats(list(range(1, 11)), thresholds=(-20,))
        assert (s["count_top20"], s["lower_top20"], s["sum_top20"], s["mean_top20"],
                s["sum_squares_top20"]) == (2, 9, 19, 9.5, 181)

    def test_negative_threshold_covering_everything_is_the_total_not_nan(self):
        s = stats(list(range(1, 11)), thresholds=(-99.9,))
        assert s["count_top99_9"] == 10 and s["sum_top99_9"] == 55 and s["mean_top99_9"] == 5.5

    def test_sample_rate_counts(self):
        s = stats([1, 2], count=20.0, interval=10)
        assert s["count"] == 20.0 and s["count_ps"] == 2.0

    def test_no_values(self):
        assert timer_statistics([], 0.0, 10, [90], (1,)) == [("count", 0), ("count_ps", 0)]

    def test_histogram(self):
        s = stats([0.005, 0.05, 0.05, 0.5, 5, 50, 500], bins=(0.01, 0.1, 1, math.inf))
        assert (s["histogram.bin_0_01"], s["histogram.bin_0_1"], s["histogram.bin_1"],
                s["histogram.bin_inf"]) == (1, 2, 1, 3)

    def test_histogram_drops_values_past_the_last_finite_bin(self):
        s = stats([1, 5, 50, 500], bins=(10, 100))
        assert (s["histogram.bin_10"], s["histogram.bin_100"]) == (2, 1)

    def test_histogram_bins_are_non_inclusive_upper_limits(self):
        s = stats([10, 10, 9.99], bins=(10, 20))
        assert (s["histogram.bin_10"], s["histogram.bin_20"]) == (1, 2)


def test_histogram_rule_first_substring_match_wins():
    rules = (HistogramRule("nohist", ()), HistogramRule("foo", (1.0,)),
             HistogramRule("", (10.0,)))
    assert histogram_bins("a.foo.b", rules) == (1.0,)
    assert histogram_bins("nohist.foo", rules) == ()
    assert histogram_bins("other", rules) == (10.0,)
    assert histogram_bins("other", ()) == ()


@pytest.mark.parametrize("name, kept", [
    ("count", True), ("median", True), ("upper_90", True), ("upper_99_9", False),
    ("lower_top10", False), ("mean_90", True), ("histogram.bin_5", True), ("sum", False),
    ("count_90", False), ("upper", False),
])
def test_calculated_timer_metrics_filter(name, kept):
    wanted = frozenset({"count", "median", "upper_percent", "histogram", "mean_percent"})
    assert keep_statistic(name, wanted) is kept


def test_lower_top_percent_filter():
    assert keep_statistic("lower_top10", frozenset({"lower_percent"}))


def names(settings, snapshot):
    points, num_stats = graphite_points(snapshot, process(snapshot, settings), settings, 100)
    return {name: value for name, value, _ in points}, num_stats


SNAPSHOT = Snapshot(counters={"c": 10.0, "t;env=prod": 4.0}, timers={"tm": [5.0]},
                    timer_counters={"tm": 1.0}, gauges={"g": 3.0}, sets={"s": 2})


class TestNames:
    def test_legacy(self):
        got, num = names(replace(OFFLINE, flush_interval=10), SNAPSHOT)
        assert got["stats.c"] == 1.0 and got["stats_counts.c"] == 10.0
        assert got["stats.t;env=prod"] == 0.4 and got["stats_counts.t;env=prod"] == 4.0
        assert got["stats.timers.tm.upper"] == 5.0
        assert got["stats.gauges.g"] == 3.0 and got["stats.sets.s.count"] == 2
        assert num == 5

    def test_legacy_ignores_prefixes_but_not_the_suffix(self):
        settings = replace(OFFLINE, global_prefix="x", prefix_counter="y", global_suffix="suf")
        got, _ = names(settings, SNAPSHOT)
        assert "stats.c.suf" in got and "stats_counts.c.suf" in got
        assert "stats_counts.t.suf;env=prod" in got  # tags after the suffix

    def test_non_legacy(self):
        settings = replace(OFFLINE, legacy_namespace=False, global_prefix="g",
                           prefix_counter="c", prefix_timer="t", prefix_gauge="ga",
                           prefix_set="se", global_suffix="suf")
        got, _ = names(settings, SNAPSHOT)
        assert {"g.c.c.rate.suf", "g.c.c.count.suf", "g.c.t.count.suf;env=prod",
                "g.t.tm.upper.suf", "g.ga.g.suf", "g.se.s.count.suf"} <= set(got)

    def test_non_legacy_empty_prefixes(self):
        settings = replace(OFFLINE, legacy_namespace=False, global_prefix="",
                           prefix_counter="", prefix_timer="", prefix_gauge="", prefix_set="")
        got, _ = names(settings, SNAPSHOT)
        assert {"c.rate", "c.count", "tm.upper", "g", "s.count"} <= set(got)

    def test_flush_counts_off(self):
        got, _ = names(replace(OFFLINE, flush_counts=False), SNAPSHOT)
        assert "stats.c" in got and not any(n.startswith("stats_counts.") for n in got)

    def test_unsanitized_keys_are_sanitized_on_output(self):
        snap = Snapshot(counters={"a b/c;t=1": 1.0})
        got, _ = names(replace(OFFLINE, key_name_sanitize=False), snap)
        assert "stats_counts.a_b-c;t=1" in got

    def test_own_names(self):
        legacy = OFFLINE
        assert own_name(legacy, "numStats") == "statsd.numStats"
        assert own_name(legacy, "processing_time") == "stats.statsd.processing_time"
        assert (own_name(legacy, "graphiteStats.calculationtime")
                == "stats.statsd.graphiteStats.calculationtime")
        other = replace(OFFLINE, legacy_namespace=False, global_prefix="g", global_suffix="s",
                        prefix_stats="p")
        assert own_name(other, "numStats") == "g.p.numStats.s"
        assert own_name(other, "graphiteStats.last_flush") == "g.p.graphiteStats.last_flush.s"
