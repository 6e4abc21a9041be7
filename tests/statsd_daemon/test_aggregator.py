"""Aggregation between flushes and the reset rules at each flush (etsy 0.9 semantics)."""

from dataclasses import replace

import pytest

from statsd_daemon.aggregator import Aggregator
from tests.statsd_daemon.helpers import OFFLINE


def make(**settings):
    bad = []
    agg = Aggregator(replace(OFFLINE, **settings), on_bad_line=lambda r, t: bad.append((r, t)))
    return agg, bad


def test_counters_add_up_across_packets_and_lines():
    agg, _ = make()
    agg.ingest(b"a:1|c\na:2|c")
    agg.ingest(b"a:-0.5|c")
    agg.ingest(b"a:1|c|@0.1")
    assert agg.flush().counters["a"] == pytest.approx(12.5)


def test_internal_counters():
    agg, bad = make()
    agg.ingest(b"a:1|c\n\nb:2|c\nnonsense")
    agg.ingest(b"\n")
    snap = agg.flush()
    assert snap.counters["statsd.packets_received"] == 2
    assert snap.counters["statsd.metrics_received"] == 3  # empty lines are not metrics
    assert snap.counters["statsd.bad_lines_seen"] == 1
    assert bad == [("no value", "nonsense")]
    assert "statsd.events_received" not in snap.counters


def test_internal_counters_follow_prefix_stats():
    agg, _ = make(prefix_stats="mine")
    agg.ingest(b"x")
    assert agg.flush().counters["mine.bad_lines_seen"] == 1


def test_every_bad_sample_counts_and_good_ones_survive():
    agg, bad = make()
    agg.ingest(b"k:1|c:x|c:5|ms\nk:2|zz\ngood:1|c")
    snap = agg.flush()
    assert snap.counters["statsd.bad_lines_seen"] == 2
    assert snap.counters["k"] == 1 and snap.counters["good"] == 1
    assert snap.timers["k"] == [5.0]
    assert [reason for reason, _ in bad] == ["counter value is not a number",
                                             "unknown metric type 'zz'"]


def test_bad_line_reported_on_every_occurrence_even_when_cached():
    agg, bad = make()
    for _ in range(3):
        agg.ingest(b"junk")
    assert len(bad) == 3
    assert agg.bad_lines_total == 3


def test_events_and_service_checks_are_counted_not_bad():
    agg, bad = make()
    agg.ingest(b"_e{1,1}:a|b\n_sc|check|0\n_e{1,1}:c|d")
    snap = agg.flush()
    assert snap.counters["statsd.events_received"] == 2
    assert snap.counters["statsd.service_checks_received"] == 1
    assert snap.counters["statsd.bad_lines_seen"] == 0
    assert bad == []
    # Once seen, they are flushed every interval like any counter.
    assert agg.flush().counters["statsd.events_received"] == 0


def test_timers_and_sample_rate_counts():
    agg, _ = make()
    agg.ingest(b"t:10|ms\nt:20|ms|@0.5\nt:5|h")
    snap = agg.flush()
    assert snap.timers["t"] == [10.0, 20.0, 5.0]
    assert snap.timer_counters["t"] == 4.0


def test_gauges_set_delta_and_persist():
    agg, _ = make()
    agg.ingest(b"g:10|g\ng:+5|g\ng:-3|g\nnew:-4|g")
    assert agg.flush().gauges == {"g": 12.0, "new": -4.0}
    assert agg.flush().gauges == {"g": 12.0, "new": -4.0}  # kept across flushes
    agg.ingest(b"g:1|g")
    assert agg.flush().gauges["g"] == 1.0


def test_sets_count_distinct_members():
    agg, _ = make()
    agg.ingest(b"s:a|s\ns:b|s\ns:a|s\nt:1|s")
    assert agg.flush().sets == {"s": 2, "t": 1}
    assert agg.flush().sets == {"s": 0, "t": 0}  # kept, empty


def test_default_reset_keeps_keys_at_zero():
    agg, _ = make()
    agg.ingest(b"c:1|c\nt:1|ms\ns:x|s")
    agg.flush()
    snap = agg.flush()
    assert snap.counters["c"] == 0
    assert snap.timers["t"] == [] and snap.timer_counters["t"] == 0
    assert snap.sets["s"] == 0


def test_delete_idle_stats_deletes_everything_idle():
    agg, _ = make(delete_idle_stats=True)
    agg.ingest(b"c:1|c\nt:1|ms\ns:x|s\ng:1|g\nmy.packets_received:1|c")
    agg.flush()
    snap = agg.flush()
    assert "c" not in snap.counters and "t" not in snap.timers
    assert "s" not in snap.sets and "g" not in snap.gauges
    # The daemon's own counters, and etsy's substring quirk, stay (at zero).
    assert snap.counters["statsd.packets_received"] == 0
    assert snap.counters["my.packets_received"] == 0


def test_delete_overrides_per_type():
    agg, _ = make(delete_idle_stats=True, delete_gauges=False, delete_counters=False)
    agg.ingest(b"c:1|c\ng:1|g\nt:1|ms")
    agg.flush()
    snap = agg.flush()
    assert snap.counters["c"] == 0 and snap.gauges["g"] == 1 and "t" not in snap.timers


@pytest.mark.parametrize("ttl, flushes_sent", [(1, 1), (2, 2), (3, 3)])
def test_gauges_max_ttl(ttl, flushes_sent):
    agg, _ = make(delete_gauges=True, gauges_max_ttl=ttl)
    agg.ingest(b"g:5|g")
    sent = sum("g" in agg.flush().gauges for _ in range(5))
    assert sent == flushes_sent


def test_gauge_ttl_resets_on_update():
    agg, _ = make(delete_gauges=True, gauges_max_ttl=2)
    agg.ingest(b"g:5|g")
    agg.flush()
    agg.ingest(b"g:+1|g")
    assert agg.flush().gauges["g"] == 6
    assert agg.flush().gauges["g"] == 6
    assert "g" not in agg.flush().gauges


def test_parse_cache_is_bounded_and_correct_after_clearing(monkeypatch):
    agg, _ = make()
    monkeypatch.setattr(Aggregator, "CACHE_LIMIT", 10)
    for i in range(25):
        agg.ingest(b"k%d:1|c" % i)
        agg.ingest(b"hot:1|c")
    assert len(agg._cache) <= 10
    snap = agg.flush()
    assert snap.counters["hot"] == 25 and snap.counters["k24"] == 1


def test_configure_drops_cache_so_new_rules_apply():
    agg, _ = make()
    agg.ingest(b"a b:1|c")
    agg.configure(replace(OFFLINE, key_name_sanitize=False))
    agg.ingest(b"a b:1|c")
    snap = agg.flush()
    assert snap.counters["a_b"] == 1 and snap.counters["a b"] == 1


def test_reject_counts_a_bad_line():
    agg, bad = make()
    agg.reject("line too long", "xxx")
    assert agg.flush().counters["statsd.bad_lines_seen"] == 1
    assert bad == [("line too long", "xxx")]


class TestDelete:
    def test_exact_and_prefix(self):
        agg, _ = make()
        agg.ingest(b"a.b:1|c\na.c:1|c\nab:1|c\nz:1|c")
        results = agg.delete("counters", ["z", "a.*", "missing"])
        assert results == [("z", True), ("a.b", True), ("a.c", True), ("missing", False)]
        assert set(agg.counters) == {"ab"}

    def test_timers_gauges_sets(self):
        agg, _ = make(delete_gauges=True)
        agg.ingest(b"t:1|ms\ng:1|g\ns:x|s")
        assert agg.delete("timers", ["t"]) == [("t", True)]
        assert "t" not in agg.timer_counters
        assert agg.delete("gauges", ["g"]) == [("g", True)]
        assert "g" not in agg.gauge_ttl
        assert agg.delete("sets", ["s"]) == [("s", True)]
        snap = agg.flush()
        assert not snap.timers and not snap.gauges and not snap.sets
