"""Test helpers for the statsd daemon: settings from etsy configs, a clocked daemon."""

from __future__ import annotations

import math
from dataclasses import replace

from twisted.internet.task import Clock

from statsd_daemon.service import StatsdService
from statsd_daemon.settings import HistogramRule, StatsdSettings

OFFLINE = StatsdSettings(port=0, admin_port=0, carbon=())


def settings_from_etsy(config: dict, **overrides) -> StatsdSettings:
    """Our settings for an etsy statsd config object (golden files)."""
    values: dict = {}
    if "flushInterval" in config:
        values["flush_interval"] = config["flushInterval"] / 1000
    if "percentThreshold" in config:
        pct = config["percentThreshold"]
        values["percent_threshold"] = tuple(map(float, pct if isinstance(pct, list) else [pct]))
    if "histogram" in config:
        values["histogram"] = tuple(
            HistogramRule(rule["metric"], tuple(math.inf if b == "inf" else float(b)
                                                for b in rule["bins"]))
            for rule in config["histogram"])
    simple = {"calculatedTimerMetrics": "calculated_timer_metrics",
              "deleteIdleStats": "delete_idle_stats", "deleteCounters": "delete_counters",
              "deleteTimers": "delete_timers", "deleteSets": "delete_sets",
              "deleteGauges": "delete_gauges", "gaugesMaxTTL": "gauges_max_ttl",
              "flush_counts": "flush_counts", "prefixStats": "prefix_stats",
              "keyNameSanitize": "key_name_sanitize"}
    for etsy, ours in simple.items():
        if etsy in config:
            value = config[etsy]
            values[ours] = tuple(value) if isinstance(value, list) else value
    graphite = {"legacyNamespace": "legacy_namespace", "globalPrefix": "global_prefix",
                "prefixCounter": "prefix_counter", "prefixTimer": "prefix_timer",
                "prefixGauge": "prefix_gauge", "prefixSet": "prefix_set",
                "globalSuffix": "global_suffix"}
    for etsy, ours in graphite.items():
        if etsy in config.get("graphite", {}):
            values[ours] = config["graphite"][etsy]
    values.update(overrides)
    return replace(OFFLINE, **values)


class RecordingSink:
    name = "recording"

    def __init__(self) -> None:
        self.flushes: list[list[tuple[str, float, int]]] = []

    def send(self, points) -> None:
        self.flushes.append(list(points))


def clocked_daemon(settings: StatsdSettings, start: float = 1_000_000.0):
    """A daemon with no sockets on a fake clock, recording what it flushes."""
    clock = Clock()
    clock.advance(start)
    daemon = StatsdService(settings, clock, timer=clock.seconds)
    sink = RecordingSink()
    daemon.sinks.append(sink)
    return daemon, clock, sink
