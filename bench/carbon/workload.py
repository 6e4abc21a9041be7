"""The carbon ingest benchmark's workload: metric names, points, wire payloads, and the
read-back that tells when every point sent is in its whisper file.

Shared by bench/carbon_ingest.py (which sends and verifies) and bench/carbon/ceiling.py
(the bare whisper loop, run by carbon's venv python).  Not part of the test run.

A workload is N metrics x P points at a STEP-second step.  Metric i is named
`bench.hostHH.cpu.mNNNNN` (HH = i // 1000 + 1, NNNNN = i), so 1,000 metrics share
each host folder.  Point j (0 = oldest) of every metric has the timestamp
`base - STEP * (P - 1 - j)` and the value `marker * 10000 + j`: each run gets a new
marker, so a point read back is known to come from this run and not from an earlier
one that wrote the same slot.  Payloads are ordered the way a statsd daemon flushes:
timestamp by timestamp, every metric once per timestamp.
"""

from __future__ import annotations

import os
import pickle
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass

STEP = 10
RETENTIONS = "10s:1d"
ARCHIVES = [(10, 8640)]          # RETENTIONS as whisper's archive list
PICKLE_BATCH = 500               # datapoints per pickle frame (carbon's MAX_DATAPOINTS_PER_MESSAGE)


def metric_name(i: int) -> str:
    return f"bench.host{i // 1000 + 1:02d}.cpu.m{i:05d}"


def metric_relpath(i: int) -> str:
    return metric_name(i).replace(".", os.sep) + ".wsp"


def aligned_now(step: int = STEP) -> int:
    return int(time.time()) // step * step


@dataclass(frozen=True)
class Workload:
    metrics: int
    points: int
    base: int            # timestamp of the newest point (a multiple of STEP)
    marker: int          # distinguishes this run's values from earlier runs'

    @property
    def total(self) -> int:
        return self.metrics * self.points

    def timestamps(self) -> list[int]:
        return [self.base - STEP * (self.points - 1 - j) for j in range(self.points)]

    def values(self) -> list[float]:
        return [float(self.marker * 10000 + j) for j in range(self.points)]

    def names(self) -> list[str]:
        return [metric_name(i) for i in range(self.metrics)]

    # -- wire payloads ---------------------------------------------------------
    def plaintext(self) -> bytes:
        names = self.names()
        parts = []
        for ts, value in zip(self.timestamps(), self.values(), strict=True):
            tail = f" {value:.0f} {ts}\n"
            parts.append(tail.join(names) + tail)
        return "".join(parts).encode()

    def pickle_frames(self) -> bytes:
        """Length-prefixed pickle frames of PICKLE_BATCH datapoints, protocol 2, as
        carbon's own relay client sends them."""
        out = []
        batch: list = []
        for item in self._datapoints():
            batch.append(item)
            if len(batch) == PICKLE_BATCH:
                out.append(_frame(batch))
                batch = []
        if batch:
            out.append(_frame(batch))
        return b"".join(out)

    def _datapoints(self) -> Iterator[tuple[str, tuple[int, float]]]:
        names = self.names()
        for ts, value in zip(self.timestamps(), self.values(), strict=True):
            for name in names:
                yield (name, (ts, value))

    def per_metric_points(self) -> list[tuple[int, float]]:
        """The points of any one metric, as whisper.update_many takes them."""
        return list(zip(self.timestamps(), self.values(), strict=True))


def _frame(batch: list) -> bytes:
    data = pickle.dumps(batch, protocol=2)
    return struct.pack("!L", len(data)) + data


# ------------------------------------------------------------------- read-back
class CommitChecker:
    """Counts, file by file, the points of a workload that whisper.fetch returns.

    Files already complete are not read again, so repeated passes get cheaper as the
    writer catches up.  `root` is the whisper tree's top folder."""

    def __init__(self, root: str, workload: Workload):
        import whisper  # imported here so that payload building needs no whisper

        self.whisper = whisper
        self.root = root
        self.w = workload
        self.expected = workload.values()
        self.from_time = workload.base - STEP * workload.points
        self.until_time = workload.base
        self.found = [0] * workload.metrics          # points found per metric
        self.pending = list(range(workload.metrics))
        self.errors: dict[str, int] = {}

    @property
    def committed(self) -> int:
        return sum(self.found)

    @property
    def complete(self) -> bool:
        return not self.pending

    def count_file(self, i: int) -> int:
        path = os.path.join(self.root, metric_relpath(i))
        try:
            (start, _end, step), values = self.whisper.fetch(
                path, self.from_time, self.until_time)
        except FileNotFoundError:
            return 0
        except Exception as exc:  # a half-written header, a lock: count it, try again
            key = type(exc).__name__
            self.errors[key] = self.errors.get(key, 0) + 1
            return 0
        if step != STEP:
            raise RuntimeError(f"{path}: step {step}, expected {STEP} (schema not applied?)")
        first = self.w.base - STEP * (self.w.points - 1)
        offset = (first - start) // STEP
        exp = self.expected
        n = 0
        for j in range(self.w.points):
            k = offset + j
            if 0 <= k < len(values) and values[k] == exp[j]:
                n += 1
        return n

    def check_pass(self) -> float | None:
        """Read every pending file once.  Returns the monotonic time at which the last
        pending file was found complete, if this pass completed the workload."""
        still = []
        done_at = None
        for i in self.pending:
            n = self.count_file(i)
            self.found[i] = n
            if n < self.w.points:
                still.append(i)
            else:
                done_at = time.monotonic()
        self.pending = still
        return done_at if not still else None
