"""The [statsd] settings: etsy's keys, their parsing and the derived delete flags."""

import math

import pytest

from statsd_daemon.settings import HistogramRule, StatsdSettings, parse_histogram
from statsgraph.configfile import ConfigError, parse_ini
from statsgraph.options import OptionError, resolve


def load(text):
    return resolve(StatsdSettings, parse_ini(text, "s.conf").section("statsd"), None)


def test_defaults_match_etsy_and_the_design():
    s = StatsdSettings()
    assert (s.port, s.admin_port, s.carbon, s.flush_interval) == (
        8125, 8126, (("127.0.0.1", 2003),), 10.0)
    assert s.percent_threshold == (90.0,) and s.legacy_namespace and s.flush_counts
    assert s.prefix_stats == "statsd" and s.global_prefix == "stats"
    assert not s.deletes_counters and not s.deletes_gauges and s.gauges_max_ttl == 1
    assert s.bind == "127.0.0.1"


def test_the_shipped_config_file_is_the_defaults():
    from pathlib import Path
    shipped = Path(__file__).resolve().parents[2] / "conf" / "statsgraph.conf"
    settings = resolve(StatsdSettings, parse_ini(shipped.read_text(), str(shipped))
                       .section("statsd"), None)
    assert settings == StatsdSettings()


def test_delete_idle_stats_is_the_default_of_each_delete():
    s = load("[statsd]\ndelete_idle_stats = true\ndelete_gauges = false\n")
    assert s.deletes_counters and s.deletes_timers and s.deletes_sets
    assert not s.deletes_gauges


def test_thresholds():
    assert load("[statsd]\npercent_threshold = 90, 99.9, -10\n").percent_threshold == (
        90.0, 99.9, -10.0)
    for bad in ("0", "101", "-100.5", "x"):
        with pytest.raises(ConfigError, match="percent_threshold"):
            load(f"[statsd]\npercent_threshold = {bad}\n")


def test_histogram_rules():
    rules = parse_histogram("api: 0.01, 0.1, 1, inf\n*: 10, 100\nnohist:")
    assert rules == (HistogramRule("api", (0.01, 0.1, 1.0, math.inf)),
                     HistogramRule("", (10.0, 100.0)), HistogramRule("nohist", ()))
    assert parse_histogram("a: 1; b: 2") == (HistogramRule("a", (1.0,)),
                                            HistogramRule("b", (2.0,)))
    assert parse_histogram("") == ()


@pytest.mark.parametrize("text", ["no colon here", "a: 10, 1", "a: 1, x", "a: -1", "a: 1, 1",
                                  "a: inf, 5"])
def test_bad_histograms(text):
    with pytest.raises(OptionError):
        parse_histogram(text)


def test_multiline_histogram_in_a_file():
    s = load("[statsd]\nhistogram =\n    api: 1, inf\n    *: 5\n")
    assert s.histogram == (HistogramRule("api", (1.0, math.inf)), HistogramRule("", (5.0,)))


@pytest.mark.parametrize("key", ["global_prefix", "prefix_counter", "global_suffix",
                                 "prefix_stats"])
def test_prefixes_have_no_stray_dots(key):
    with pytest.raises(ConfigError, match=key):
        load(f"[statsd]\n{key} = .bad\n")
    assert getattr(load(f"[statsd]\n{key} = a.b\n"), key) == "a.b"


def test_carbon_destinations_and_protocol():
    s = load("[statsd]\ncarbon = a:2003, [::1]:2004\ncarbon_protocol = PICKLE\n")
    assert s.carbon == (("a", 2003), ("::1", 2004)) and s.carbon_protocol == "pickle"
    assert load("[statsd]\ncarbon = none\n").carbon == ()
