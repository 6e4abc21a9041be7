"""The small whisper dataset behind tests/render_web/golden/ (recorded from graphite-web 1.1.10
by bench/record_render_golden.py).

Every value is a function of a fixed seed and of END, so the files can be rebuilt anywhere and
graphite-web's answers stay valid.  Points are written with whisper's own `create` and
`update_many(now=END)`; a render must also pass `now=END` down to the whisper fetch (graphite-web
does with the request's `now`), otherwise the data lies outside every retention.

Values are integers or halves so that sums and differences are exact in binary floating point:
a renderer that adds in another order still gets the same bits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import whisper

END = 1_699_999_200          # 2023-11-14 22:00:00 UTC, a multiple of 3600
HOUR = 3600
DAY = 86400
SEED = 20231114

FAST = ((10, 6 * HOUR // 10),)                    # 10s:6h
SLOW = ((60, DAY // 60),)                         # 60s:1d
ROLLUP = ((10, HOUR // 10), (60, DAY // 60))      # 10s:1h,60s:1d


@dataclass(frozen=True)
class Metric:
    """One whisper file: its archives, rollup, and values at timestamps END-(n-1)*step..END."""

    name: str
    archives: tuple[tuple[int, int], ...]
    values: Callable[[np.random.Generator, int], np.ndarray]   # NaN = do not write the point
    aggregation: str = "average"
    x_files_factor: float = 0.5

    @property
    def step(self) -> int:
        return self.archives[0][0]

    @property
    def points(self) -> int:
        """How many points of the finest archive are written (its whole retention)."""
        seconds, count = self.archives[-1][0], self.archives[-1][1]
        return seconds * count // self.step


def _cpu(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.round(rng.uniform(0, 100, n) * 2) / 2


def _load(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 16, n).astype(float)


def _temperature(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(-20, 21, n).astype(float)


def _wrapping_counter(rng: np.random.Generator, n: int) -> np.ndarray:
    """A 16-bit counter: increments of 0..50, wrapping at 65536 about 40 minutes before END."""
    total = np.cumsum(rng.integers(0, 51, n))
    start = 65536 - int(total[n - 240])          # the wrap falls on point n-240
    return ((start + total) % 65536).astype(float)


def _resetting_counter(rng: np.random.Generator, n: int) -> np.ndarray:
    """Increments of 0..9, restarting from 0 (a process restart) 25 minutes before END."""
    inc = rng.integers(0, 10, n)
    values = np.cumsum(inc)
    reset = n - 150
    values[reset:] -= values[reset]
    return values.astype(float)


def _slow_counter(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.cumsum(rng.integers(100, 1000, n)).astype(float)


def _sparse(rng: np.random.Generator, n: int) -> np.ndarray:
    """Every 7th point missing, plus a run of 20 missing points 30 minutes before END."""
    values = rng.integers(0, 100, n).astype(float)
    values[np.arange(n) % 7 == 3] = np.nan
    values[n - 180:n - 160] = np.nan
    return values


def _tail_gaps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Missing for the last 30 points (the current value is stale) and 5 in the middle."""
    values = rng.integers(1, 50, n).astype(float)
    values[n - 30:] = np.nan
    values[n - 200:n - 195] = np.nan
    return values


def _rate(low: int, high: int) -> Callable[[np.random.Generator, int], np.ndarray]:
    def make(rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(low, high, n).astype(float)
    return make


def _constant(value: float) -> Callable[[np.random.Generator, int], np.ndarray]:
    def make(rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, value)
    return make


def _zeros_with_gaps(rng: np.random.Generator, n: int) -> np.ndarray:
    values = np.zeros(n)
    values[np.arange(n) % 5 == 0] = rng.integers(1, 4, n)[np.arange(n) % 5 == 0]
    values[np.arange(n) % 11 == 0] = np.nan
    return values


METRICS: tuple[Metric, ...] = (
    Metric("golden.servers.web1.cpu", FAST, _cpu),
    Metric("golden.servers.web2.cpu", FAST, _cpu),
    Metric("golden.servers.web3.cpu", FAST, _cpu),
    Metric("golden.servers.web1.load", FAST, _load),
    Metric("golden.servers.web2.load", FAST, _load),
    Metric("golden.servers.web3.load", FAST, _load),
    Metric("golden.servers.db1.cpu", SLOW, _cpu),
    Metric("golden.counters.requests", FAST, _wrapping_counter),
    Metric("golden.counters.errors", FAST, _resetting_counter),
    Metric("golden.counters.bytes", SLOW, _slow_counter),
    Metric("golden.gaps.sparse", FAST, _sparse),
    Metric("golden.gaps.tail", FAST, _tail_gaps),
    Metric("golden.rates.hits", FAST, _rate(0, 20)),
    Metric("golden.rates.misses", FAST, _rate(0, 5)),
    Metric("golden.apps.alpha.get.count", FAST, _rate(10, 30)),
    Metric("golden.apps.alpha.post.count", FAST, _rate(0, 10)),
    Metric("golden.apps.beta.get.count", FAST, _rate(20, 60)),
    Metric("golden.apps.beta.post.count", FAST, _rate(0, 5)),
    Metric("golden.sum.events", ROLLUP, _rate(0, 7), aggregation="sum", x_files_factor=0.0),
    Metric("golden.rollup.requests", ROLLUP, _rate(50, 150)),
    Metric("golden.misc.temperature", FAST, _temperature),
    Metric("golden.misc.one", SLOW, _constant(1.0)),
    Metric("golden.misc.zero", FAST, _zeros_with_gaps),
)


def metric_path(root: Path, name: str) -> Path:
    return Path(root, *name.split(".")).with_suffix(".wsp")


def write_metric(root: Path, metric: Metric, rng: np.random.Generator) -> None:
    """(Re)create one file and write its points, oldest first, as carbon would."""
    path = metric_path(root, metric.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    whisper.create(str(path), list(metric.archives), xFilesFactor=metric.x_files_factor,
                   aggregationMethod=metric.aggregation)
    n = metric.points
    values = metric.values(rng, n)
    stamps = END - (n - 1 - np.arange(n)) * metric.step
    keep = ~np.isnan(values)
    points = list(zip(stamps[keep].tolist(), values[keep].tolist(), strict=True))
    whisper.update_many(str(path), points, now=END)


def build(root: Path) -> None:
    """Write every golden metric under root (a WHISPER_DIR); same bytes on every run."""
    for index, metric in enumerate(METRICS):
        write_metric(Path(root), metric, np.random.default_rng([SEED, index]))


if __name__ == "__main__":
    import sys

    build(Path(sys.argv[1]))
    print(END)
