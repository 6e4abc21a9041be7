"""From decoded input to cached points: parsing, name checks, counting what is refused.

Shared by every receiver (plaintext TCP and UDP, pickle); pure apart from the cache it
fills. Normalized names are remembered (bounded), so a metric seen before costs a dict
lookup instead of a tag sort and a path check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from carbon_store.cache import MetricCache
from carbon_store.names import BadName, normalize
from carbon_store.wire import BadInput, Point, parse_line, parse_pickle

BadHandler = Callable[[str, str], None]


class Intake:
    NAME_CACHE_LIMIT = 100_000

    def __init__(self, cache: MetricCache, now: Callable[[], float],
                 on_bad: BadHandler | None = None) -> None:
        self.cache = cache
        self.now = now
        self.on_bad = on_bad
        self.received = 0
        self.bad_lines = 0
        self.bad_names = 0
        self.dropped = 0
        self._names: dict[str, str | BadName] = {}
        self._known_bytes: dict[bytes, str] = {}  # raw name bytes -> normalized name

    def bad(self, reason: str, text: str) -> None:
        """Count and log (through on_bad) one refused line, frame or point."""
        self.bad_lines += 1
        if self.on_bad is not None:
            self.on_bad(reason, text)

    def _name(self, raw: str) -> str | None:
        known = self._names.get(raw)
        if known is None:
            try:
                known = normalize(raw)
            except BadName as exc:
                known = exc
            if len(self._names) >= self.NAME_CACHE_LIMIT:
                self._names.clear()
            self._names[raw] = known
        if isinstance(known, BadName):
            self.bad_names += 1
            self.bad(f"refused name: {known}", raw[:200])
            return None
        return known

    def _named(self, points: Iterable[Point]) -> list[Point]:
        good = []
        for raw, timestamp, value in points:
            name = self._name(raw)
            if name is not None:
                good.append((name, timestamp, value))
        self.received += len(good)
        return good

    def store(self, points: list[Point], hold: bool = False) -> list[Point]:
        """Cache checked points. Past the cache's hard limit they are dropped (and
        counted), or with `hold` returned, for a stream receiver to keep."""
        if not points:
            return []
        if hold:
            return self.cache.store_upto(points)
        self.dropped += self.cache.store_many(points)
        return []

    def lines(self, lines: Iterable[bytes], hold: bool = False) -> list[Point]:
        """Cache plaintext lines; returns the points that did not fit (with `hold`)."""
        return self.store(self.parse_lines(lines), hold)

    def pickle(self, payload: bytes, hold: bool = False) -> list[Point]:
        """Cache one pickle frame; returns the points that did not fit (with `hold`)."""
        return self.store(self.parse_pickle(payload), hold)

    def parse_lines(self, lines: Iterable[bytes]) -> list[Point]:
        """Plaintext lines (without newlines) as checked points; empty ones ignored.

        The usual line (a known name, two plain numbers) takes a fast path: names are
        remembered by their bytes, and numbers are parsed from bytes. Anything else goes
        through `wire.parse_line`, which also says what is wrong with it.
        """
        points: list[Point] = []
        append = points.append
        known = self._known_bytes
        for line in lines:
            fields = line.split()
            if len(fields) == 3:
                name = known.get(fields[0])
                if name is not None:
                    try:
                        value = float(fields[1])
                        stamp = float(fields[2])
                    except ValueError:
                        pass
                    else:
                        # finite value (inf - inf and nan - nan are nan), stamp in range
                        if value - value == 0.0 and 0.0 <= stamp < 4294967296.0:
                            append((name, stamp, value))
                            continue
            elif not fields:
                continue
            self._slow_line(line, points)
        self.received += len(points)
        return points

    def _slow_line(self, line: bytes, points: list[Point]) -> None:
        try:
            raw, stamp, value = parse_line(line, self.now)
        except BadInput as exc:
            self.bad(str(exc), line[:400].decode("utf-8", "replace"))
            return
        name = self._name(raw)
        if name is None:
            return
        points.append((name, stamp, value))
        if raw.encode("utf-8") == line.split()[0]:
            if len(self._known_bytes) >= self.NAME_CACHE_LIMIT:
                self._known_bytes.clear()
            self._known_bytes[line.split()[0]] = name

    def parse_pickle(self, payload: bytes) -> list[Point]:
        """One pickle frame's payload as checked points."""
        try:
            points, refused = parse_pickle(payload, self.now)
        except BadInput as exc:
            self.bad(str(exc), f"<pickle frame of {len(payload)} bytes>")
            return []
        for reason in refused:
            self.bad(reason, "<pickled datapoint>")
        return self._named(points)
