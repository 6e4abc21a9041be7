"""Checks of the pipeline as a whole, made before `statsgraph run` starts anything.

Each service's settings can be right on their own and still lose data together: statsd
flushing more often than the whisper slots its outputs land in keeps only the last flush
of each slot, and a count rolled up by averaging is no longer a count. The check flushes
one sample metric of each type through statsd's own naming and looks up where each name
would land in the storage rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carbon_store.schemas import StorageRules
from statsd_daemon.aggregator import Snapshot
from statsd_daemon.flush import graphite_points, own_name, process
from statsd_daemon.settings import StatsdSettings

# Statistics whose meaning is a total (also per percentile, `count_90`): averaging
# them when rolled up loses it.
TOTAL = re.compile(r"(count|sum|sum_squares)(_\d+(_\d+)?)?$")


@dataclass(frozen=True)
class Finding:
    fatal: bool
    message: str

    def __str__(self) -> str:
        return ("error: " if self.fatal else "warning: ") + self.message


def sample_names(settings: StatsdSettings) -> dict[str, str]:
    """What statsd would name one counter, timer, gauge and set (and its own numStats),
    keyed by a description."""
    snapshot = Snapshot(counters={"sample": 1.0}, timers={"sample": [1.0]},
                        timer_counters={"sample": 1.0}, gauges={"sample": 1.0},
                        sets={"sample": 1})
    points, _ = graphite_points(snapshot, process(snapshot, settings), settings, 0)
    names = {name: name for name, _, _ in points}
    names[own_name(settings, "numStats")] = own_name(settings, "numStats")
    return names


def is_count(name: str, settings: StatsdSettings) -> bool:
    """Whether a flushed name carries a total (a counter's count, a timer's count or
    sum, a set's count)."""
    if settings.legacy_namespace and name.startswith("stats_counts."):
        return True
    return TOTAL.fullmatch(name.rsplit(".", 1)[-1]) is not None


def check_pipeline(settings: StatsdSettings, rules: StorageRules) -> list[Finding]:
    """Errors (data would be lost) and warnings (graphs would have holes)."""
    findings: list[Finding] = []
    interval = settings.flush_interval
    reported_steps: set[tuple[str, int]] = set()
    for name in sorted(sample_names(settings)):
        metadata = rules.lookup(name)
        step = metadata.archives[0][0]
        rule = metadata.schema
        if (rule, step) not in reported_steps:
            if interval < step:
                findings.append(Finding(True, (
                    f"statsd flushes every {interval:g} s but {name} lands in storage rule "
                    f"[{rule}] whose finest retention keeps one point per {step} s: only the "
                    f"last flush of each {step} s would survive. Make the flush interval "
                    f"{step} s or the retention's first step {interval:g} s.")))
                reported_steps.add((rule, step))
            elif interval > step:
                findings.append(Finding(False, (
                    f"statsd flushes every {interval:g} s but {name} lands in storage rule "
                    f"[{rule}] with {step} s points: graphs of it will have empty slots "
                    f"between flushes.")))
                reported_steps.add((rule, step))
        if is_count(name, settings) and metadata.method == "average" and len(
                metadata.archives) > 1:
            findings.append(Finding(True, (
                f"{name} is a total but storage-aggregation rule "
                f"[{metadata.aggregation}] rolls it up by averaging, which turns sums "
                f"into averages in every coarser archive. Give it aggregationMethod = sum.")))
    return findings
