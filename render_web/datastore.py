"""The renderer's view of carbon_store's read side: patterns in, numpy series out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from carbon_store.patterns import is_pattern
from carbon_store.reader import CachedPoints, CacheSource, MetricReader
from render_web.series import STORAGE_CONSOLIDATION, TimeSeries


def is_wildcard(path: str) -> bool:
    return any(is_pattern(node) for node in path.split("."))


class StoreSource:
    """Finds each pattern's metrics and fetches them all with one cache query."""

    def __init__(self, reader: MetricReader) -> None:
        self.reader = reader

    def expand(self, pattern: str) -> list[str]:
        """The metric names a path means: itself when it has no wildcard (no index
        lookup, so a metric is readable the moment its file exists), else the leaves
        the pattern matches."""
        if not is_wildcard(pattern):
            return [pattern]
        return [node.path for node in self.reader.find(pattern) if node.is_leaf]

    def fetch(self, patterns: Sequence[str], start: int, end: int, now: int
              ) -> dict[str, list[TimeSeries]]:
        names = {pattern: self.expand(pattern) for pattern in patterns}
        wanted = list(dict.fromkeys(n for group in names.values() for n in group))
        found = self.reader.fetch_many(wanted, start, end, now)
        out: dict[str, list[TimeSeries]] = {}
        for pattern, group in names.items():
            out[pattern] = [
                TimeSeries(name, series.start, series.step, series.values,
                           path_expression=pattern,
                           consolidation=STORAGE_CONSOLIDATION.get(series.aggregation,
                                                                   "average"))
                for name in sorted(group) if (series := found.get(name)) is not None]
        return out


class ThreadLocalCache:
    """One cache query client per serving thread (a client holds one socket)."""

    def __init__(self, factory: Callable[[], CacheSource]) -> None:
        self.factory = factory
        self.local = threading.local()

    def client(self) -> CacheSource:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = self.factory()
        return client

    def query_bulk(self, metrics: list[str]) -> dict[str, CachedPoints]:
        return self.client().query_bulk(metrics)

    def find(self, pattern: str) -> list[str]:
        return self.client().find(pattern)
