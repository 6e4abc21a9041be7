"""The write cache: points waiting for the writer, bounded, shared by two threads.

Each metric's points sit in one `array('d')` of interleaved timestamps and values (16
bytes a point, against about 100 for carbon's dict of timestamp to value). A re-sent
timestamp is kept until the points are taken, and then the last value given for it wins,
as in carbon. `size` counts points held; past `hard_limit` new points are dropped and
counted in `overflow`. The receivers (reactor thread) add; the writer thread chooses a
metric with a drain strategy and takes all its points at once.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable

Points = list[tuple[float, float]]

STRATEGIES = ("sorted", "max", "naive")


def dedupe(flat: array | Iterable[float]) -> Points:
    """(timestamp, value) pairs, oldest first, the last value of a timestamp winning."""
    values = iter(flat)
    latest = dict(zip(values, values, strict=True))
    return sorted(latest.items())


class MetricCache:
    def __init__(self, max_size: float = float("inf"), strategy: str = "sorted",
                 hard_limit: float | None = None) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown drain strategy {strategy!r}")
        self.max_size = max_size
        self.hard_limit = max_size if hard_limit is None else hard_limit
        self.strategy = strategy
        self.lock = threading.Lock()
        self.size = 0
        self.overflow = 0
        self._points: dict[str, array] = {}
        # Names the writer may choose (a dict as an ordered set): all but the parked
        # ones, which wait for their file to be created or for a retry after an error.
        self._ready: dict[str, None] = {}
        self._parked: set[str] = set()
        self._queue: list[str] = []  # the `sorted` strategy's pass, most points last

    def __len__(self) -> int:
        return len(self._points)

    def __contains__(self, name: str) -> bool:
        return name in self._points

    def store(self, name: str, timestamp: float, value: float) -> bool:
        """Add one point; False when the cache is past its hard limit (dropped)."""
        with self.lock:
            if self.size >= self.hard_limit:
                self.overflow += 1
                return False
            flat = self._points.get(name)
            if flat is None:
                self._points[name] = array("d", (timestamp, value))
                if name not in self._parked:
                    self._ready[name] = None
            else:
                flat.append(timestamp)
                flat.append(value)
            self.size += 1
            return True

    def store_many(self, points: Iterable[tuple[str, float, float]]) -> int:
        """Add points (already checked and normalized); how many were dropped."""
        dropped = 0
        with self.lock:
            cache = self._points
            ready = self._ready
            parked = self._parked
            room = self.hard_limit - self.size
            stored = 0
            for name, timestamp, value in points:
                if stored >= room:
                    dropped += 1
                    continue
                flat = cache.get(name)
                if flat is None:
                    cache[name] = array("d", (timestamp, value))
                    if name not in parked:
                        ready[name] = None
                else:
                    flat.append(timestamp)
                    flat.append(value)
                stored += 1
            self.size += stored
            self.overflow += dropped
        return dropped

    def store_upto(self, points: list[tuple[str, float, float]]
                   ) -> list[tuple[str, float, float]]:
        """Add points up to the hard limit; the ones that did not fit, in order (for a
        TCP receiver to hold while its sender is paused, instead of dropping them)."""
        with self.lock:
            room = max(0, int(min(self.hard_limit - self.size, len(points))))
        rest = points[room:]
        self.store_many(points[:room])
        return rest

    def get(self, name: str) -> Points:
        """The cached points of one metric (for cache queries), deduplicated."""
        with self.lock:
            flat = self._points.get(name)
            flat = array("d", flat) if flat is not None else None
        return dedupe(flat) if flat is not None else []

    def names(self) -> list[str]:
        with self.lock:
            return list(self._points)

    def pop(self, name: str) -> Points:
        """Take every point of `name` (deduplicated, oldest first)."""
        with self.lock:
            flat = self._points.pop(name, None)
            if flat is None:
                return []
            self._ready.pop(name, None)
            self.size -= len(flat) // 2
        return dedupe(flat)

    def restore(self, name: str, points: Points) -> None:
        """Put back points the writer could not write, before any newer ones (so a
        value that arrived meanwhile for the same timestamp still wins)."""
        if not points:
            return
        with self.lock:
            older = array("d")
            for timestamp, value in points:
                older.append(timestamp)
                older.append(value)
            newer = self._points.get(name)
            if newer is not None:
                older.extend(newer)
            self._points[name] = older
            if name not in self._parked:
                self._ready[name] = None
            self.size += len(points)

    def park(self, name: str) -> None:
        """Keep `name`'s points (and take more) but do not choose it until `unpark`."""
        with self.lock:
            self._parked.add(name)
            self._ready.pop(name, None)

    def unpark(self, name: str) -> None:
        with self.lock:
            self._parked.discard(name)
            if name in self._points:
                self._ready[name] = None

    @property
    def parked(self) -> int:
        return len(self._parked)

    def choose(self) -> str | None:
        """The next metric to write, by the drain strategy; None when every cached
        metric is parked (or there is none)."""
        with self.lock:
            ready = self._ready
            if not ready:
                return None
            if self.strategy == "naive":
                return next(iter(ready))
            if self.strategy == "max":
                points = self._points
                return max(ready, key=lambda name: len(points[name]))
            # sorted: each pass writes every metric once, the fullest first.
            while self._queue:
                name = self._queue.pop()
                if name in ready:
                    return name
            points = self._points
            self._queue = sorted(ready, key=lambda name: len(points[name]))
            return self._queue.pop()
