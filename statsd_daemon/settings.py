"""Every setting of the statsd daemon: command-line flag and `[statsd]` key in one place.

Key names follow etsy statsd's `exampleConfig.js` in snake_case (`flushInterval` is
`flush_interval`, `graphite.legacyNamespace` is `legacy_namespace`), except that the
flush interval is in seconds, like every other duration in statsgraph.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from statsgraph.options import (
    OptionError,
    choice,
    int_at_least,
    option,
    parse_bool,
    parse_destinations,
    parse_float,
    parse_float_list,
    parse_optional_bool,
    parse_port,
    parse_str,
    parse_word_list,
    positive_float,
    split_list,
)

MIB = 1024 * 1024


@dataclass(frozen=True)
class HistogramRule:
    """Timers whose key contains `metric` get `bins` (etsy's `histogram` entries)."""

    metric: str
    bins: tuple[float, ...]  # ascending upper limits; math.inf allowed last


def parse_histogram(text: str) -> tuple[HistogramRule, ...]:
    """One rule per line or `;`: `SUBSTRING: BIN, BIN, ..., inf`.

    `*` as the substring matches every timer (etsy's empty `metric`); a rule with no
    bins switches histograms off for the timers it matches. First match wins.
    """
    rules = []
    for entry in text.replace(";", "\n").splitlines():
        entry = entry.strip()
        if not entry:
            continue
        metric, sep, bins_text = entry.partition(":")
        if not sep:
            raise OptionError(f"expected 'SUBSTRING: BIN, BIN, ...', got {entry!r}")
        metric = metric.strip()
        bins: list[float] = []
        for word in split_list(bins_text):
            if word.lower() == "inf":
                bins.append(math.inf)
                continue
            try:
                value = float(word)
            except ValueError:
                raise OptionError(f"a histogram bin is a number or inf, got {word!r}") from None
            if not math.isfinite(value) or value <= 0:
                raise OptionError(f"a histogram bin is a positive number, got {word!r}")
            bins.append(value)
        if any(b >= c for b, c in itertools.pairwise(bins)):
            raise OptionError(f"histogram bins must ascend, got {bins_text.strip()!r}")
        rules.append(HistogramRule("" if metric == "*" else metric, tuple(bins)))
    return tuple(rules)


def parse_thresholds(text: str) -> tuple[float, ...]:
    values = parse_float_list(text)
    for value in values:
        if value == 0 or not -100 <= value <= 100:
            raise OptionError(f"a percent threshold is in [-100, 100] and not 0, got {value:g}")
    return values


def non_negative_float(text: str) -> float:
    value = parse_float(text)
    if value < 0:
        raise OptionError(f"must be 0 or more, got {text.strip()}")
    return value


def parse_prefix(text: str) -> str:
    """A namespace element: may be empty, has no leading or trailing dot."""
    text = text.strip()
    if text.startswith(".") or text.endswith(".") or ".." in text:
        raise OptionError(f"a prefix cannot begin or end with a dot, got {text!r}")
    return text


@dataclass(frozen=True)
class StatsdSettings:
    """Settings of `statsgraph statsd`; see `statsgraph statsd --help`."""

    bind: str = option("127.0.0.1", parse_str, "address every listener binds",
                       metavar="ADDRESS")
    port: int = option(8125, parse_port, "UDP and TCP port for metrics; 0 = do not listen",
                       metavar="PORT")
    admin_port: int = option(8126, parse_port,
                             "management (admin) TCP port; 0 = do not listen", metavar="PORT")
    udp_recv_buffer: int = option(8 * MIB, int_at_least(0),
                                  "UDP receive buffer to ask the kernel for, in bytes "
                                  "(0 = the kernel's default)", metavar="BYTES")
    idle_timeout: float = option(300.0, non_negative_float,
                                 "seconds a TCP metrics or admin connection may stay silent "
                                 "before it is closed; 0 = never", metavar="SECONDS")
    carbon: tuple[tuple[str, int], ...] = option(
        (("127.0.0.1", 2003),), parse_destinations,
        "carbon destination HOST:PORT ('none' for no destination)",
        metavar="HOST:PORT", repeatable=True)
    carbon_protocol: str = option("text", choice("text", "pickle"),
                                  "carbon protocol: text (plaintext) or pickle",
                                  metavar="PROTOCOL")
    max_queue_points: int = option(1_000_000, int_at_least(1),
                                   "points kept per destination while it is unreachable; "
                                   "the oldest beyond that are dropped and counted",
                                   metavar="POINTS")
    drain_timeout: float = option(10.0, positive_float,
                                  "seconds a clean stop waits for queued points to be sent",
                                  metavar="SECONDS")
    console: bool = option(False, parse_bool, "also log every flushed point (debugging)",
                           metavar="BOOL")
    flush_interval: float = option(10.0, positive_float, "seconds between flushes",
                                   metavar="SECONDS")
    percent_threshold: tuple[float, ...] = option(
        (90.0,), parse_thresholds, "timer percentiles (negative: the top N percent)",
        metavar="LIST")
    histogram: tuple[HistogramRule, ...] = option(
        (), parse_histogram, "timer histograms: 'SUBSTRING: BIN, ..., inf' per line or ';'",
        metavar="RULES")
    calculated_timer_metrics: tuple[str, ...] = option(
        (), parse_word_list, "only these timer statistics (e.g. count, median, "
        "upper_percent, histogram); empty = all", metavar="LIST")
    flush_counts: bool = option(True, parse_bool, "also send stats_counts (raw counts)",
                                metavar="BOOL")
    delete_idle_stats: bool = option(False, parse_bool,
                                     "send nothing for a metric that got no data in the "
                                     "interval (default of every delete_*)", metavar="BOOL")
    delete_counters: bool | None = option(None, parse_optional_bool,
                                          "drop idle counters (default: delete_idle_stats)",
                                          metavar="BOOL")
    delete_timers: bool | None = option(None, parse_optional_bool,
                                        "drop idle timers (default: delete_idle_stats)",
                                        metavar="BOOL")
    delete_sets: bool | None = option(None, parse_optional_bool,
                                      "drop idle sets (default: delete_idle_stats)",
                                      metavar="BOOL")
    delete_gauges: bool | None = option(None, parse_optional_bool,
                                        "drop idle gauges after gauges_max_ttl flushes "
                                        "(default: delete_idle_stats)", metavar="BOOL")
    gauges_max_ttl: int = option(1, int_at_least(1),
                                 "flushes an idle gauge is still sent when delete_gauges",
                                 metavar="FLUSHES")
    key_name_sanitize: bool = option(True, parse_bool,
                                     "clean metric names as they arrive (etsy's rules)",
                                     metavar="BOOL")
    prefix_stats: str = option("statsd", parse_prefix, "prefix of the daemon's own metrics",
                               metavar="PREFIX")
    legacy_namespace: bool = option(True, parse_bool,
                                    "etsy's legacy names (stats.K, stats_counts.K, "
                                    "stats.timers.K...)", metavar="BOOL")
    global_prefix: str = option("stats", parse_prefix,
                                "first element of every name (legacy_namespace = false)",
                                metavar="PREFIX")
    prefix_counter: str = option("counters", parse_prefix, "counters' element (non-legacy)",
                                 metavar="PREFIX")
    prefix_timer: str = option("timers", parse_prefix, "timers' element (non-legacy)",
                               metavar="PREFIX")
    prefix_gauge: str = option("gauges", parse_prefix, "gauges' element (non-legacy)",
                               metavar="PREFIX")
    prefix_set: str = option("sets", parse_prefix, "sets' element (non-legacy)",
                             metavar="PREFIX")
    global_suffix: str = option("", parse_prefix, "last element of every name (non-legacy)",
                                metavar="SUFFIX")
    health_status: str = option("up", choice("up", "down"),
                                "health reported by the admin 'health' command at start",
                                metavar="STATUS")

    # Derived: each delete_* falls back to delete_idle_stats, as in etsy.
    @property
    def deletes_counters(self) -> bool:
        return self.delete_idle_stats if self.delete_counters is None else self.delete_counters

    @property
    def deletes_timers(self) -> bool:
        return self.delete_idle_stats if self.delete_timers is None else self.delete_timers

    @property
    def deletes_sets(self) -> bool:
        return self.delete_idle_stats if self.delete_sets is None else self.delete_sets

    @property
    def deletes_gauges(self) -> bool:
        return self.delete_idle_stats if self.delete_gauges is None else self.delete_gauges
