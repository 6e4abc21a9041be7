"""The self-watching dashboard: statsd's and carbon's own names, saved once."""

from __future__ import annotations

from carbon_store.settings import CarbonSettings
from render_web.graphstore import GraphStore, check_dashboard
from statsd_daemon.settings import StatsdSettings
from statsgraph.selfwatch import DASHBOARD, dashboard, ensure_dashboard


def targets(body) -> list[str]:
    return [t for panel in body["panels"] for t in panel["targets"]]


def test_the_legacy_namespace_names():
    body = dashboard(StatsdSettings(), CarbonSettings())
    check_dashboard(body)  # a body the API would accept
    assert targets(body) == [
        "stats.statsd.packets_received", "stats.statsd.metrics_received",
        "stats_counts.statsd.bad_lines_seen", "stats.statsd.graphiteStats.flush_time",
        "stats.statsd.processing_time", "sumSeries(carbon.agents.*.cache.size)",
        "sumSeries(carbon.agents.*.committedPoints)", "sumSeries(carbon.agents.*.creates)"]


def test_the_modern_namespace_and_prefixes():
    body = dashboard(StatsdSettings(legacy_namespace=False, global_prefix="app"),
                     CarbonSettings(carbon_metric_prefix="store"))
    names = targets(body)
    assert "app.counters.statsd.packets_received.rate" in names
    assert "app.counters.statsd.bad_lines_seen.count" in names
    assert "sumSeries(store.agents.*.cache.size)" in names


def test_saved_once_and_edits_kept(tmp_path):
    store = GraphStore(tmp_path / "graphs.db")
    assert ensure_dashboard(store, StatsdSettings(), CarbonSettings()) is True
    edited = dict(store.get("dashboards", DASHBOARD), refresh=0)
    for key in ("name", "created", "updated"):
        edited.pop(key)
    store.put("dashboards", DASHBOARD, edited)
    assert ensure_dashboard(store, StatsdSettings(), CarbonSettings()) is False
    assert store.get("dashboards", DASHBOARD)["refresh"] == 0
