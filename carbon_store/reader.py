"""The read side, shared with the renderer: find metrics and fetch their points, from
the whisper files merged with what the cache has not written yet.

`CarbonLinkClient` asks a running store over its cache query port (blocking, for a WSGI
app); a store's cache being away only means reading the files alone. `MetricReader`
finds names by Graphite pattern (cache-only metrics included) and fetches a series the
way graphite-web does: the whisper archive that covers the range, then the cached points
laid into it (aggregated with the file's method when the archive is coarser).

A name whose path leads out of the storage directory through a symbolic link is read
as if it had no file. A request may open a `scope` to refuse, before reading, what would
pass its limits, and to learn which metrics had a file that could not be read.
"""

from __future__ import annotations

import os
import pickle
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
import whisper
from twisted.logger import Logger

from carbon_store.index import Containment, MetricIndex, check_pattern
from carbon_store.names import BadName, normalize, relative_path
from carbon_store.patterns import PathPattern, find_cached
from carbon_store.schemas import StorageRules
from carbon_store.wire import BadInput, safe_loads

log = Logger()
CachedPoints = list[tuple[float, float]]


class CacheSource(Protocol):
    def query_bulk(self, metrics: list[str]) -> dict[str, CachedPoints]: ...

    def find(self, pattern: str) -> list[str]: ...


class LocalCache:
    """A `MetricCache` in the same process, seen as a cache source."""

    def __init__(self, cache: object) -> None:
        self.cache = cache

    def query_bulk(self, metrics: list[str]) -> dict[str, CachedPoints]:
        return {metric: self.cache.get(metric) for metric in metrics}

    def find(self, pattern: str) -> list[str]:
        return find_cached(self.cache.names(), pattern)


class CarbonLinkClient:
    """A blocking client of carbon's cache query protocol, with one persistent socket."""

    def __init__(self, host: str, port: int, timeout: float = 1.0,
                 retry_delay: float = 15.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.retry_delay = retry_delay
        self._socket: socket.socket | None = None
        self._down_until = 0.0

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def request(self, request: dict) -> dict | None:
        """The reply, or None when the cache cannot be asked (it is then left alone for
        `retry_delay` seconds, as graphite-web does)."""
        if time.monotonic() < self._down_until:
            return None
        payload = pickle.dumps(request, protocol=2)
        try:
            if self._socket is None:
                self._socket = socket.create_connection(self.address, timeout=self.timeout)
            self._socket.sendall(struct.pack("!L", len(payload)) + payload)
            (size,) = struct.unpack("!L", self._recv(4))
            reply = safe_loads(self._recv(size))
        except (OSError, struct.error, BadInput) as exc:
            log.warn("cache query to {address} failed: {why}", address=self.address, why=exc)
            self.close()
            self._down_until = time.monotonic() + self.retry_delay
            return None
        return reply if isinstance(reply, dict) else None

    def _recv(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = self._socket.recv(size)
            if not chunk:
                raise OSError("connection closed by the cache")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def query_bulk(self, metrics: list[str]) -> dict[str, CachedPoints]:
        reply = self.request({"type": "cache-query-bulk", "metrics": metrics}) or {}
        return reply.get("datapointsByMetric", {}) if isinstance(reply, dict) else {}

    def find(self, pattern: str) -> list[str]:
        """Cache-only names (our extension; a real carbon answers with an error)."""
        reply = self.request({"type": "cache-find", "pattern": pattern}) or {}
        names = reply.get("metrics", [])
        return [n for n in names if isinstance(n, str)]


class ReadLimitError(Exception):
    """A read refused before it was made, because it would pass the scope's limits."""


@dataclass
class ReadScope:
    """What one request may read and has read, and the metrics whose file was unreadable
    (metric -> why), in the thread that opened it."""

    max_series: int | None = None
    max_points: int | None = None
    series: int = 0
    points: int = 0
    unreadable: dict[str, str] = field(default_factory=dict)

    def charge(self, points: int) -> None:
        """Count one more series of `points` points, or refuse it."""
        if self.max_series is not None and self.series + 1 > self.max_series:
            raise ReadLimitError(f"the request reads more than {self.max_series} series "
                                 "(max_series); narrow the targets")
        if self.max_points is not None and self.points + points > self.max_points:
            raise ReadLimitError(f"the request reads more than {self.max_points} points "
                                 "(max_points); narrow the targets or the time range")
        self.series += 1
        self.points += points


class Node(NamedTuple):
    """A branch or leaf of the tree (a tuple: finds make thousands of them)."""

    path: str
    is_leaf: bool


@dataclass
class Series:
    """Points at `start + i*step` up to `end` (exclusive); NaN where there is none."""

    name: str
    start: int
    end: int
    step: int
    values: np.ndarray
    aggregation: str = "average"

    def to_list(self) -> list[float | None]:
        return [None if v != v else v for v in self.values.tolist()]


class MetricReader:
    def __init__(self, storage: str | Path, cache: CacheSource | None = None,
                 rules: Callable[[], StorageRules] | None = None,
                 index: MetricIndex | None = None) -> None:
        self.root = Path(storage)
        self.cache = cache
        self.rules = rules
        # Without an index of its own, the reader looks at the disk at most once a second.
        self.index = index if index is not None else MetricIndex(self.root, max_age=1.0)
        self.containment = Containment(self.root)
        self._local = threading.local()

    @contextmanager
    def scope(self, max_series: int | None = None, max_points: int | None = None
              ) -> Iterator[ReadScope]:
        """Reads made in this thread inside the block are counted against the limits
        (`ReadLimitError` before one would pass them) and their failures collected."""
        scope = ReadScope(max_series, max_points)
        previous = getattr(self._local, "scope", None)
        self._local.scope = scope
        try:
            yield scope
        finally:
            self._local.scope = previous

    # -- find -------------------------------------------------------------------------

    def find(self, pattern: str) -> list[Node]:
        """Branches and leaves matching a Graphite pattern, on disk or only cached
        (PatternTooComplex, a ValueError, before asking either for too costly a one)."""
        check_pattern(pattern)
        found = dict(self.index.find(pattern))
        if self.cache is not None:
            depth = len(PathPattern(pattern).nodes)
            for name in self.cache.find(pattern):
                parts = name.split(".")
                if len(parts) == depth:
                    found[name] = True
                elif len(parts) > depth:
                    found.setdefault(".".join(parts[:depth]), False)
        return [Node(path, leaf) for path, leaf in sorted(found.items())]

    # -- fetch ------------------------------------------------------------------------

    def fetch(self, name: str, start: float, end: float, now: float | None = None
              ) -> Series | None:
        """One series over (start, end], or None if neither file nor cache has it."""
        return self.fetch_many([name], start, end, now).get(name)

    def fetch_many(self, names: list[str], start: float, end: float,
                   now: float | None = None) -> dict[str, Series]:
        """The series of every name that has a file or cached points, with one cache
        query for all of them (a render asks the cache once, not once per series)."""
        now = time.time() if now is None else now
        valid = []
        for name in names:
            try:
                valid.append(normalize(name))
            except BadName:
                continue
        cached = self.cache.query_bulk(valid) if self.cache and valid else {}
        out = {}
        for name in valid:
            series = self._fetch_one(name, start, end, now, cached.get(name) or [])
            if series is not None:
                out[name] = series
        return out

    def _fetch_one(self, name: str, start: float, end: float, now: float,
                   cached: CachedPoints) -> Series | None:
        scope: ReadScope | None = getattr(self._local, "scope", None)
        charge = scope.charge if scope is not None else None
        path = self.root / relative_path(name)
        try:
            if not self.containment.contains(path):
                log.warn("not reading {path}: a symbolic link leads out of the storage "
                         "directory", path=str(path))
                raise FileNotFoundError(path)
            found = fetch_array(str(path), start, end, now, charge)
        except FileNotFoundError:
            found = None
        except (OSError, ValueError, whisper.WhisperException) as exc:
            log.warn("cannot read {path}: {why}", path=str(path), why=exc)
            if scope is not None:
                scope.unreadable[name] = f"{relative_path(name)}: {_reason(exc)}"
            found = None
        if found is not None:
            first, last, step, values, method = found
            return merge(Series(name, first, last, step, values, method), cached)
        if not cached:
            return None
        step = self._step(name)
        # Only as far back as a file of this metric would keep (or, without rules, the
        # oldest cached point): a window of a century must not allocate a century.
        oldest = (now - self._retention(name) if self.rules
                  else min(t for t, _ in cached) - step)
        start = max(start, oldest)
        end = max(start, end)
        first = int(start // step * step + step)
        last = int(end // step * step + step)
        if charge is not None:
            charge((last - first) // step)
        series = Series(name, first, last, step, np.full((last - first) // step, np.nan),
                        self._method(name))
        return merge(series, cached)

    def _retention(self, name: str) -> int:
        return max(step * points for step, points in self.rules().lookup(name).archives)

    def _step(self, name: str) -> int:
        return self.rules().lookup(name).archives[0][0] if self.rules else 60

    def _method(self, name: str) -> str:
        return self.rules().lookup(name).method if self.rules else "average"


def _reason(exc: Exception) -> str:
    """Why a file could not be read, without the absolute path (a client sees it)."""
    if isinstance(exc, whisper.CorruptWhisperFile):
        return f"corrupt whisper file: {exc.error}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


# Whisper's point record ("!Ld": big-endian uint32 timestamp, float64 value) as a numpy
# type, derived from whisper's own format string.
POINT = np.dtype([("t", ">u4"), ("v", ">f8")])
assert POINT.itemsize == whisper.pointSize and whisper.pointFormat == "!Ld"


def fetch_array(path: str, start: float, end: float, now: float,
                charge: Callable[[int], None] | None = None
                ) -> tuple[int, int, int, np.ndarray, str] | None:
    """`whisper.fetch` with the values as a numpy array (NaN where a slot holds no point
    of its time), and the file's aggregation method: (first, last, step, values, method).

    The header, the archive chosen and the slots read are exactly whisper.fetch's (its
    `file_fetch` and `__archive_fetch`, which tests compare this with); only the decoding
    is numpy's: whisper unpacks and checks each point in a Python loop, which costs 2.5 ms
    for a day of 10-second points, against 0.05 ms here.

    `charge` is told how many points will be read before any is (it may refuse them by
    raising). A file shorter than its header says is refused as corrupt, rather than
    read as a shorter series.
    """
    header = whisper.info(path)  # None when the file cannot be opened
    if header is None:
        raise FileNotFoundError(path)
    start, end, now = int(start), int(end), int(now)
    if start > end:
        raise ValueError(f"from time {start} is after until time {end}")
    oldest = now - header["maxRetention"]
    if start > now or end < oldest:
        return None
    start = max(start, oldest)
    end = min(end, now)
    archives = header["archives"]
    archive = next((a for a in archives if a["retention"] >= now - start), archives[-1])
    step = archive["secondsPerPoint"]
    first = start - start % step + step
    last = end - end % step + step
    if first == last:
        last += step
    count = (last - first) // step
    if charge is not None:
        charge(count)
    offset, size = archive["offset"], archive["size"]
    with open(path, "rb") as fh:
        expected_size = max(a["offset"] + a["size"] for a in archives)
        if os.fstat(fh.fileno()).st_size < expected_size:
            raise whisper.CorruptWhisperFile(
                f"file is truncated (shorter than the {expected_size} bytes its header "
                "says)", path)
        fh.seek(offset)
        base = np.frombuffer(fh.read(POINT.itemsize), POINT)
        if len(base) < 1:
            raise whisper.CorruptWhisperFile("Unable to read base datapoint", path)
        base_time = int(base["t"][0])
        if base_time == 0:
            return first, last, step, np.full(count, np.nan), header["aggregationMethod"]
        from_offset = offset + ((first - base_time) // step * POINT.itemsize) % size
        until_offset = offset + ((last - base_time) // step * POINT.itemsize) % size
        fh.seek(from_offset)
        if from_offset < until_offset:
            data = fh.read(until_offset - from_offset)
        else:
            data = fh.read(offset + size - from_offset)
            fh.seek(offset)
            data += fh.read(until_offset - offset)
    points = np.frombuffer(data, POINT)
    expected = first + step * np.arange(len(points), dtype=np.int64)
    values = np.where(points["t"] == expected, points["v"], np.nan).astype(np.float64)
    return first, last, step, values, header["aggregationMethod"]


def merge(series: Series, cached: CachedPoints) -> Series:
    """Lay cached points into a series: the last point of each step wins; where the
    series' step is coarser than the points, they are aggregated with its method."""
    if not cached:
        return series
    buckets: dict[int, list[float]] = {}
    for timestamp, value in sorted(cached):
        index = int((timestamp - series.start) // series.step)
        if 0 <= index < len(series.values):
            buckets.setdefault(index, []).append(value)
    if buckets:
        series.values = series.values.copy()  # may be a read-only view of the file's bytes
    for index, values in buckets.items():
        if len(values) == 1 or series.aggregation == "last":
            series.values[index] = values[-1]
        else:
            series.values[index] = whisper.aggregate(series.aggregation, values)
    return series
