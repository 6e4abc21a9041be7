"""From an interval's `Snapshot` to the Graphite points etsy statsd 0.9 would send.

`timer_statistics` is etsy's `lib/process_metrics.js` done with numpy; `GraphiteNames`
and `graphite_points` are its graphite backend's naming (`backends/graphite.js`). Both
are pure: the caller measures the time they take and passes it back in for the
daemon's own `processing_time` and `calculationtime` metrics.

Departures from etsy, on purpose: a negative threshold that covers every value gives
the true sum instead of NaN (etsy indexes before the first element).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import numpy as np

from statsd_daemon.aggregator import Snapshot
from statsd_daemon.parser import sanitize_key
from statsd_daemon.settings import HistogramRule, StatsdSettings

Point = tuple[str, float, int]
Stats = list[tuple[str, float]]


def js_number(x: float) -> str:
    """A number as JavaScript's `String(x)` writes it (what etsy puts on the wire and in
    percentile and bin names): integers without `.0`, no exponent between 1e-7 and 1e21."""
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == int(x) and abs(x) < 1e21:
        return str(int(x))
    text = repr(float(x))
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = int(exponent)
    if -7 < power < 21:
        return format(Decimal(text), "f")
    return f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def threshold_label(pct: float) -> str:
    """etsy's `clean_pct`: `99.9` -> `99_9`, `-10` -> `top10` (first `.` and `-` only)."""
    return js_number(pct).replace(".", "_", 1).replace("-", "top", 1)


def bin_label(limit: float) -> str:
    return "bin_" + ("inf" if math.isinf(limit) else js_number(limit).replace(".", "_", 1))


def histogram_bins(key: str, rules: Iterable[HistogramRule]) -> tuple[float, ...]:
    """Bins of the first rule whose `metric` is a substring of the key."""
    for rule in rules:
        if rule.metric in key:
            return rule.bins
    return ()


def timer_statistics(values: list[float], count: float, interval: float,
                     thresholds: Iterable[float], bins: tuple[float, ...]) -> Stats:
    """Every statistic etsy computes for one timer, in etsy's order.

    Sums are running sums (numpy's cumsum), as etsy's are, so the figures agree to the
    last bit with what etsy sends.
    """
    if not values:
        return [("count", 0), ("count_ps", 0)]
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    n = len(ordered)
    cumulative = np.cumsum(ordered)
    cumulative_squares = np.cumsum(ordered * ordered)
    low, high = float(ordered[0]), float(ordered[-1])
    out: Stats = []
    for pct in thresholds:
        if n > 1:
            within = math.floor(abs(pct) / 100 * n + 0.5)  # JavaScript's Math.round
            if within == 0:
                continue
            within = min(within, n)
            if pct > 0:
                boundary = float(ordered[within - 1])
                total = float(cumulative[within - 1])
                squares = float(cumulative_squares[within - 1])
            else:
                boundary = float(ordered[n - within])
                below = n - within - 1
                total = float(cumulative[-1] - (cumulative[below] if below >= 0 else 0.0))
                squares = float(cumulative_squares[-1]
                                - (cumulative_squares[below] if below >= 0 else 0.0))
            mean = total / within
        else:
            within, boundary, total, squares, mean = 1, high, low, low * low, low
        label = threshold_label(pct)
        out += [(f"count_{label}", within), (f"mean_{label}", mean),
                (f"{'upper' if pct > 0 else 'lower'}_{label}", boundary),
                (f"sum_{label}", total), (f"sum_squares_{label}", squares)]
    total = float(cumulative[-1])
    mean = total / n
    deviations = ordered - mean
    spread = float(np.cumsum(deviations * deviations)[-1])
    mid = n // 2
    median = float(ordered[mid]) if n % 2 else float((ordered[mid - 1] + ordered[mid]) / 2)
    out += [("std", math.sqrt(spread / n)), ("upper", high), ("lower", low),
            ("count", count), ("count_ps", count / interval), ("sum", total),
            ("sum_squares", float(cumulative_squares[-1])), ("mean", mean),
            ("median", median)]
    if bins:
        start = 0
        for limit in bins:
            stop = n if math.isinf(limit) else int(np.searchsorted(ordered, limit, "left"))
            stop = max(stop, start)
            out.append((f"histogram.{bin_label(limit)}", stop - start))
            start = stop
    return out


def keep_statistic(name: str, wanted: frozenset[str]) -> bool:
    """etsy's calculatedTimerMetrics filter: `upper_90`, `lower_top10` match
    `upper_percent`, `lower_percent` (a trailing `_<digits>` or `_top<digits>`)."""
    if name.startswith("histogram."):
        return "histogram" in wanted
    head, sep, tail = name.rpartition("_")
    if sep and tail.removeprefix("top").isdigit() and tail.removeprefix("top"):
        name = head + "_percent"
    return name in wanted


@dataclass(frozen=True)
class GraphiteNames:
    """The namespaces of etsy's graphite backend for one set of settings."""

    settings: StatsdSettings

    def _join(self, *parts: str) -> str:
        return ".".join(part for part in parts if part)

    @cached_property
    def suffix(self) -> str:
        return "." + self.settings.global_suffix if self.settings.global_suffix else ""

    def name(self, namespace: tuple[str, ...], key: str, *tail: str) -> str:
        """`namespace.key.tail` + suffix, with any `;tags` of the key moved last."""
        metric, sep, tags = key.partition(";")
        if not self.settings.key_name_sanitize:
            metric = sanitize_key(metric)
        return ".".join((*namespace, metric, *tail)) + self.suffix + (sep + tags if sep else "")

    def namespaces(self) -> dict[str, tuple[str, ...]]:
        s = self.settings
        if s.legacy_namespace:
            return {"global": ("stats",), "counter": ("stats",), "timer": ("stats", "timers"),
                    "gauge": ("stats", "gauges"), "set": ("stats", "sets")}
        root = (s.global_prefix,) if s.global_prefix else ()

        def under(prefix: str) -> tuple[str, ...]:
            return root + ((prefix,) if prefix else ())
        return {"global": root, "counter": under(s.prefix_counter),
                "timer": under(s.prefix_timer), "gauge": under(s.prefix_gauge),
                "set": under(s.prefix_set)}


@dataclass
class Processed:
    """etsy's `counter_rates` and `timer_data`."""

    counter_rates: dict[str, float]
    timer_data: dict[str, Stats]


def process(snapshot: Snapshot, settings: StatsdSettings) -> Processed:
    interval = settings.flush_interval
    rates = {key: value / interval for key, value in snapshot.counters.items()}
    wanted = frozenset(settings.calculated_timer_metrics)
    timer_data: dict[str, Stats] = {}
    for key, values in snapshot.timers.items():
        bins = histogram_bins(key, settings.histogram) if values else ()
        stats = timer_statistics(values, snapshot.timer_counters.get(key, 0.0), interval,
                                 settings.percent_threshold, bins)
        if wanted:
            stats = [(name, value) for name, value in stats if keep_statistic(name, wanted)]
        timer_data[key] = stats
    return Processed(rates, timer_data)


def graphite_points(snapshot: Snapshot, processed: Processed, settings: StatsdSettings,
                    timestamp: int) -> tuple[list[Point], int]:
    """The points of the interval's metrics, and etsy's `numStats` (how many metrics).

    The daemon's own figures follow them, named by `own_name`.
    """
    names = GraphiteNames(settings)
    ns = names.namespaces()
    points: list[Point] = []
    add = points.append
    legacy = settings.legacy_namespace
    for key, value in snapshot.counters.items():
        rate = processed.counter_rates[key]
        if legacy:
            add((names.name(ns["counter"], key), rate, timestamp))
            if settings.flush_counts:
                add((names.name(("stats_counts",), key), value, timestamp))
        else:
            add((names.name(ns["counter"], key, "rate"), rate, timestamp))
            if settings.flush_counts:
                add((names.name(ns["counter"], key, "count"), value, timestamp))
    for key, stats in processed.timer_data.items():
        for stat, value in stats:
            add((names.name(ns["timer"], key, stat), value, timestamp))
    for key, value in snapshot.gauges.items():
        add((names.name(ns["gauge"], key), value, timestamp))
    for key, size in snapshot.sets.items():
        add((names.name(ns["set"], key, "count"), size, timestamp))
    num_stats = (len(snapshot.counters) + len(processed.timer_data) + len(snapshot.gauges)
                 + len(snapshot.sets))
    return points, num_stats


def own_name(settings: StatsdSettings, key: str) -> str:
    """Name of one of the daemon's own figures (`numStats`, `processing_time`,
    `graphiteStats.*`), where etsy puts them in either namespace."""
    names = GraphiteNames(settings)
    if settings.legacy_namespace:
        head = settings.prefix_stats if key == "numStats" else f"stats.{settings.prefix_stats}"
        return f"{head}.{key}{names.suffix}"
    return names.name(names.namespaces()["global"], settings.prefix_stats, key)
