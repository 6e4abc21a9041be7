"""The pipeline watching itself: the ready-made "statsgraph" dashboard of statsd's and
carbon's own metrics, which `statsgraph run` saves on first run (an operator's edits to
it are kept: it is only created when missing).

The names come from statsd's own naming for the settings in force (legacy or modern
namespace, prefixes), so the panels show what the daemon really writes.
"""

from __future__ import annotations

from typing import Any

from carbon_store.settings import CarbonSettings
from statsd_daemon.flush import GraphiteNames, own_name
from statsd_daemon.settings import StatsdSettings

DASHBOARD = "statsgraph"


def _counter(settings: StatsdSettings, key: str, total: bool) -> str:
    """A counter of statsd's own (`statsd.packets_received`): its rate or its count."""
    names = GraphiteNames(settings)
    ns = names.namespaces()
    if settings.legacy_namespace:
        return names.name(("stats_counts",) if total else ns["counter"], key)
    return names.name(ns["counter"], key, "count" if total else "rate")


def dashboard(statsd: StatsdSettings, carbon: CarbonSettings) -> dict[str, Any]:
    """The dashboard's body in the API's shape (ad-hoc panels, last hour)."""
    agents = f"{carbon.carbon_metric_prefix}.agents.*"

    def panel(title: str, targets: list[str], **params: str) -> dict[str, Any]:
        return {"title": title, "targets": targets,
                "params": {"title": title, "hideLegend": "false", **params}}

    return {
        "title": "statsgraph: the pipeline itself",
        "from": "-1h", "until": "now", "refresh": 60,
        "panels": [
            panel("statsd: packets and metrics received per second", [
                _counter(statsd, "statsd.packets_received", total=False),
                _counter(statsd, "statsd.metrics_received", total=False)]),
            panel("statsd: bad lines per flush", [
                _counter(statsd, "statsd.bad_lines_seen", total=True)]),
            panel("statsd: flush and processing time (ms)", [
                own_name(statsd, "graphiteStats.flush_time"),
                own_name(statsd, "processing_time")]),
            panel("carbon: cache size (points)", [
                f"sumSeries({agents}.cache.size)"]),
            panel("carbon: points committed per minute", [
                f"sumSeries({agents}.committedPoints)"]),
            panel("carbon: files created per minute", [
                f"sumSeries({agents}.creates)"]),
        ],
    }


def ensure_dashboard(store: Any, statsd: StatsdSettings, carbon: CarbonSettings) -> bool:
    """Save the dashboard unless one of that name exists; whether it was created."""
    from render_web.graphstore import NotFoundError

    try:
        store.get("dashboards", DASHBOARD)
        return False
    except NotFoundError:
        store.put("dashboards", DASHBOARD, dashboard(statsd, carbon))
        return True
