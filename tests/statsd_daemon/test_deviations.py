"""Where we differ from etsy statsd 0.9.0 on purpose, against its recorded output.

Each golden/deviation_*.json holds what etsy flushed; these tests replay the same
packets and check our documented behaviour instead, name by name.
"""

import json
import math
from pathlib import Path

from tests.statsd_daemon.helpers import clocked_daemon, settings_from_etsy

GOLDEN = Path(__file__).parent / "golden"


def first_flush(case_name):
    case = json.loads((GOLDEN / f"{case_name}.json").read_text())
    settings = settings_from_etsy(case["config"])
    daemon, clock, sink = clocked_daemon(settings)
    step = case["steps"][0]
    for packet in step["packets"]:
        daemon.aggregator.ingest(packet.encode("utf-8"))
    clock.advance(settings.flush_interval)
    daemon.flusher.flush(clock.seconds())
    return step["flush"], {name: value for name, value, _ in sink.flushes[-1]}


def test_rates_and_unknown_types_are_bad_lines():
    etsy, ours = first_flush("deviation_rates")
    assert etsy["stats_counts.zero"] == "Infinity"  # what we refuse to do
    for refused in ("zero", "two", "unk", "up", "extra"):
        assert f"stats_counts.{refused}" not in ours
    assert "stats.timers.tzero.count" not in ours
    assert ours["stats_counts.statsd.bad_lines_seen"] == 6
    # DogStatsD histogram and distribution are timers; a meter is a counter, as in etsy.
    assert ours["stats.timers.h.upper"] == 5 and ours["stats.timers.d.upper"] == 5
    assert ours["stats_counts.m"] == float(etsy["stats_counts.m"]) == 5


def test_tags_are_sorted_and_bare_tags_are_true():
    etsy, ours = first_flush("deviation_tags")
    assert "stats_counts.y;b=2;a;c=3" in etsy
    assert ours["stats_counts.y;a=true;b=2;c=3"] == 2
    assert ours["stats_counts.z;a=bc"] == float(etsy["stats_counts.z;a=bc"])
    assert ours["stats_counts.w;a_b=1"] == float(etsy["stats_counts.w;a_b=1"])
    assert ours["stats_counts.e"] == 1
    assert ours["stats_counts.d;a=2"] == 1  # one value per tag name: the last
    # A sample rate after the tags is still a sample rate (etsy glued it to the tag).
    assert "stats_counts.o;env=prod0.5" in etsy
    assert ours["stats_counts.o;env=prod"] == 2
    assert ours["stats_counts.sp;env=pr_od"] == 1


def test_numbers_javascript_would_take():
    etsy, ours = first_flush("deviation_values")
    assert etsy["stats_counts.hex"] == "16" and "stats_counts.hex" not in ours
    assert "stats_counts.inf" not in ours
    assert ours["stats_counts.sp"] == 2  # surrounding spaces are fine in both
    assert "stats_counts." in etsy and "stats_counts." not in ours
    assert ours["stats_counts.statsd.bad_lines_seen"] == 4


def test_crlf_line_ends_are_just_line_ends():
    etsy, ours = first_flush("deviation_crlf")
    assert etsy["stats.timers.tneg.upper"] == "-5"  # etsy skipped the check on "ms\r"
    assert "stats.timers.tneg.upper" not in ours
    assert etsy["stats.sets.s.count"] == "1" and ours["stats.sets.s.count"] == 2
    assert ours["stats_counts.c"] == 1 and ours["stats.gauges.g"] == 3
    assert ours["stats.timers.t.upper"] == 5


def test_negative_thresholds_covering_everything_give_the_true_sum():
    etsy, ours = first_flush("deviation_timer_negative_thresholds")
    nan = [name for name, value in etsy.items() if value == "NaN"]
    assert nan, "the golden file shows etsy's NaN"
    for name in nan:
        assert not math.isnan(ours[name])
    assert ours["stats.timers.t.a.sum_top99_9"] == 55
    assert ours["stats.timers.t.a.mean_top99_9"] == 5.5
    assert ours["stats.timers.t.a.sum_squares_top99_9"] == 385
    same = [name for name, value in etsy.items() if value != "NaN" and "timers" in name]
    for name in same:
        assert math.isclose(ours[name], float(etsy[name]), rel_tol=1e-12), name
