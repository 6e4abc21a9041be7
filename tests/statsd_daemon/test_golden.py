"""The daemon reproduces etsy statsd 0.9.0's flushed output (golden files).

The files under golden/ were recorded from a real etsy statsd 0.9.0 by
`python bench/record_etsy_golden.py`. Each case is replayed through our daemon on a fake
clock: one flush before the first step (the recorder also waited for one), then each
step's packets and one flush. Names must match exactly and values to the last bit but
for float summation order. Timing figures (processing_time, graphiteStats.*) and the
value of timestamp_lag depend on the run and are not compared.

Cases named deviation_* record etsy behaviour we change on purpose; they are checked
against our documented behaviour in test_deviations.py instead.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.statsd_daemon.helpers import clocked_daemon, settings_from_etsy

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.glob("*.json") if not p.name.startswith("deviation_"))

# Inputs inside otherwise-compatible cases that we refuse on purpose: names with an
# empty path node are bad lines here (they would make `stats..x` or `x./` paths).
EMPTY_NODE_KEYS = ("trailing.dot.", "..double..dots")


def volatile(name: str) -> bool:
    return ("graphiteStats." in name or name.rpartition(".")[2] == "processing_time"
            or ".processing_time." in name)


def adjust_for_deviations(case: str, flush: dict[str, str], interval: float,
                          packets: list[str]) -> dict[str, str]:
    if case != "key_sanitization":
        return flush
    out = {}
    dropped = 0
    for name, value in flush.items():
        if any(name.endswith("." + key) for key in EMPTY_NODE_KEYS):
            dropped += name.startswith("stats_counts.")
            continue
        out[name] = value
    out["statsd.numStats"] = str(int(out["statsd.numStats"]) - dropped)
    bad = sum(packet.split(":")[0] in EMPTY_NODE_KEYS for packet in packets)
    count = float(out["stats_counts.statsd.bad_lines_seen"]) + bad
    out["stats_counts.statsd.bad_lines_seen"] = str(count)
    out["stats.statsd.bad_lines_seen"] = str(count / interval)
    return out


def replay(path: Path) -> list[tuple[dict[str, str], dict[str, float]]]:
    case = json.loads(path.read_text())
    settings = settings_from_etsy(case["config"])
    daemon, clock, sink = clocked_daemon(settings)
    interval = settings.flush_interval
    if any("timestamp_lag" in name for name in case["steps"][0]["flush"]):
        daemon.flusher.flush(clock.seconds())  # the recorder skipped etsy's first flush
    pairs = []
    for step in case["steps"]:
        for packet in step["packets"]:
            daemon.aggregator.ingest(packet.encode("utf-8"))
        clock.advance(interval)
        daemon.flusher.flush(clock.seconds())
        ours = {name: value for name, value, _ in sink.flushes[-1]}
        etsy = adjust_for_deviations(path.stem, step["flush"], interval, step["packets"])
        pairs.append((etsy, ours))
    return pairs


def same(expected: str, actual: float) -> bool:
    want = float(expected)
    if math.isnan(want) or math.isnan(actual):
        return math.isnan(want) and math.isnan(actual)
    return math.isclose(want, actual, rel_tol=1e-12, abs_tol=1e-12)


def test_there_are_golden_files():
    assert len(CASES) >= 20


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_reproduces_etsy(path):
    for number, (etsy, ours) in enumerate(replay(path)):
        etsy_names = {n for n in etsy if not volatile(n)}
        our_names = {n for n in ours if not volatile(n)}
        assert etsy_names - our_names == set(), f"step {number}: missing"
        assert our_names - etsy_names == set(), f"step {number}: extra"
        wrong = {name: (etsy[name], ours[name]) for name in etsy_names
                 if "timestamp_lag" not in name and not same(etsy[name], ours[name])}
        assert wrong == {}, f"step {number}: etsy value, ours"
