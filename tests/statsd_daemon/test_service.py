"""The flush schedule and the daemon's own figures, on twisted.internet.task.Clock."""

from dataclasses import replace

import pytest

from statsd_daemon.service import boundary_after, boundary_before
from tests.statsd_daemon.helpers import OFFLINE, clocked_daemon


def points_of(flush):
    return {name: (value, ts) for name, value, ts in flush}


@pytest.mark.parametrize("now, interval, before, after", [
    (100.0, 10, 100.0, 110.0), (100.5, 10, 100.0, 110.0), (109.999, 10, 100.0, 110.0),
    (99.9999999, 10, 100.0, 110.0),  # within clock granularity of a boundary: that boundary
    (7.2, 0.5, 7.0, 7.5), (60.0, 60, 60.0, 120.0),
])
def test_boundaries(now, interval, before, after):
    assert boundary_before(now, interval) == before
    assert boundary_after(now, interval) == after


def test_flushes_on_wall_clock_multiples_with_the_boundary_as_timestamp():
    daemon, clock, sink = clocked_daemon(replace(OFFLINE, flush_interval=10), start=1003.7)
    daemon.startService()
    clock.advance(6.2)  # 1009.9: nothing yet
    assert sink.flushes == []
    daemon.aggregator.ingest(b"a:1|c")
    clock.advance(0.1)  # 1010.0
    assert len(sink.flushes) == 1
    assert points_of(sink.flushes[0])["stats_counts.a"] == (1.0, 1010)
    for _ in range(3):
        clock.advance(10)
    assert [flush[0][2] for flush in sink.flushes] == [1010, 1020, 1030, 1040]


def test_a_late_reactor_still_stamps_the_boundary_it_flushes():
    daemon, clock, sink = clocked_daemon(replace(OFFLINE, flush_interval=10), start=1000.0)
    daemon.startService()
    clock.advance(10)  # 1010: first flush
    clock.advance(25)  # 1035: one late call; intervals missed are skipped, not bunched
    assert [flush[0][2] for flush in sink.flushes] == [1010, 1030]
    clock.advance(5)
    assert sink.flushes[-1][0][2] == 1040


def test_timestamp_lag_from_the_second_flush():
    daemon, clock, sink = clocked_daemon(replace(OFFLINE, flush_interval=10), start=1000.0)
    daemon.startService()
    clock.advance(10)
    assert "stats.gauges.statsd.timestamp_lag" not in points_of(sink.flushes[0])
    clock.advance(10)
    assert points_of(sink.flushes[1])["stats.gauges.statsd.timestamp_lag"][0] == 0
    clock.advance(25)
    # 1045 - 1020 - 10: how late the flush ran, as etsy measures it
    assert points_of(sink.flushes[2])["stats.gauges.statsd.timestamp_lag"][0] == 15


def test_stop_flushes_what_is_pending_into_the_next_slot():
    daemon, clock, sink = clocked_daemon(replace(OFFLINE, flush_interval=10), start=1000.0)
    daemon.startService()
    clock.advance(13)
    daemon.aggregator.ingest(b"late:5|c")
    daemon.stopService()
    last = points_of(sink.flushes[-1])
    assert last["stats_counts.late"] == (5.0, 1020)
    clock.advance(100)
    assert len(sink.flushes) == 2  # nothing after the stop


def test_own_figures_are_flushed():
    daemon, clock, sink = clocked_daemon(replace(OFFLINE, flush_interval=10), start=1000.0)
    daemon.startService()
    daemon.aggregator.ingest(b"a:1|c\nb:1|ms")
    clock.advance(10)
    got = points_of(sink.flushes[0])
    assert got["statsd.numStats"][0] == 5  # a, b and the three internal counters
    assert "stats.statsd.processing_time" in got
    assert "stats.statsd.graphiteStats.calculationtime" in got


def test_reconfigure_changes_the_interval_and_the_names():
    daemon, clock, sink = clocked_daemon(replace(OFFLINE, flush_interval=10), start=1000.0)
    daemon.startService()
    clock.advance(10)
    daemon.reconfigure(replace(OFFLINE, flush_interval=5, legacy_namespace=False))
    daemon.sinks.append(sink)  # the reload rebuilt the sinks; keep recording
    daemon.aggregator.ingest(b"a:1|c")
    clock.advance(5)
    last = points_of(sink.flushes[-1])
    assert last["stats.counters.a.count"] == (1.0, 1015)
    assert last["stats.counters.a.rate"] == (0.2, 1015)


def test_flush_failure_does_not_stop_the_loop(monkeypatch):
    daemon, clock, _sink = clocked_daemon(replace(OFFLINE, flush_interval=10), start=1000.0)
    daemon.startService()
    calls = []

    def broken(timestamp):
        calls.append(timestamp)
        raise RuntimeError("boom")
    monkeypatch.setattr(daemon, "flush_points", broken)
    clock.advance(10)
    clock.advance(10)
    assert calls == [1010, 1020]
