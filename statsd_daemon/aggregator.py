"""In-memory aggregation of statsd samples between two flushes.

`Aggregator.ingest` is the hot path: every datagram goes through it. It splits the
packet into lines and looks each line up in a bounded cache of already-parsed lines, so
that the usual traffic (the same `api.requests:1|c` thousands of times a second) costs a
dict lookup and a dict update per line. `flush` hands the interval's state over as a
`Snapshot` and resets it the way etsy statsd does (counters to zero or deleted, timers
emptied, sets emptied, gauges kept until their TTL runs out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from statsd_daemon.parser import (
    BAD,
    COUNTER,
    EVENT,
    GAUGE,
    GAUGE_DELTA,
    SERVICE_CHECK,
    SET,
    TIMER,
    Op,
    decode,
    parse_line,
)
from statsd_daemon.settings import StatsdSettings

BadLineHandler = Callable[[str, str], None]

_KEPT_COUNTER_WORDS = ("packets_received", "metrics_received", "bad_lines_seen")
_TALLIED = frozenset({COUNTER, TIMER, SET})


@dataclass
class Snapshot:
    """What one flush interval gathered, handed to the flush computation."""

    counters: dict[str, float] = field(default_factory=dict)
    timers: dict[str, list[float]] = field(default_factory=dict)
    timer_counters: dict[str, float] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)
    sets: dict[str, int] = field(default_factory=dict)  # cardinality


class Aggregator:
    """State of the current interval; pure (no clock, no I/O)."""

    #: Distinct lines remembered. Cleared whole when full: cheap, and the hot lines
    #: come back within a few packets.
    CACHE_LIMIT = 50_000

    def __init__(self, settings: StatsdSettings, on_bad_line: BadLineHandler | None = None
                 ) -> None:
        self.on_bad_line = on_bad_line
        self.counters: dict[str, float] = {}
        self.timers: dict[str, list[float]] = {}
        self.timer_counters: dict[str, float] = {}
        self.gauges: dict[str, float] = {}
        self.gauge_ttl: dict[str, int] = {}
        self.sets: dict[str, set[str]] = {}
        # Per-interval counts of the daemon's own; flushed as counters.
        self.packets_received = 0
        self.metrics_received = 0
        self.bad_lines_seen = 0
        self.events_received = 0
        self.service_checks_received = 0
        # Since start, for the admin interface.
        self.bad_lines_total = 0
        self.packets_total = 0
        self.configure(settings)

    def configure(self, settings: StatsdSettings) -> None:
        """Apply (new) settings; parsed lines depend on them, so the cache goes."""
        if hasattr(self, "_cache"):
            self.settle()  # what came under the old settings counts under them
        self.settings = settings
        self._sanitize = settings.key_name_sanitize
        self._deletes_gauges = settings.deletes_gauges
        self._gauges_max_ttl = settings.gauges_max_ttl
        if not self._deletes_gauges:
            self.gauge_ttl = {}
        self._cache: dict[bytes, list | tuple[Op, ...]] = {}
        prefix = settings.prefix_stats
        self.internal_names = {
            "bad_lines_seen": f"{prefix}.bad_lines_seen",
            "packets_received": f"{prefix}.packets_received",
            "metrics_received": f"{prefix}.metrics_received",
            "events_received": f"{prefix}.events_received",
            "service_checks_received": f"{prefix}.service_checks_received",
        }

    # -- ingest: the hot path -------------------------------------------------------
    #
    # A cached line is either its ops (applied at once: gauges, whose order matters, and
    # bad lines, which are logged as they come) or a tally `[count, ops]` for lines whose
    # effect does not depend on order (counters, timers, sets): the hot path only counts
    # them, and `settle` applies each distinct line once, `count` times over.

    def _compile(self, line: bytes) -> list | tuple[Op, ...]:
        cache = self._cache
        if len(cache) >= self.CACHE_LIMIT:
            self.settle()
            cache.clear()
        ops = parse_line(decode(line), self._sanitize)
        entry = [0, ops] if all(op[0] in _TALLIED for op in ops) else ops
        cache[line] = entry
        return entry

    def ingest(self, packet: bytes) -> None:
        """Account for one datagram (or one block of complete TCP lines)."""
        self.packets_received += 1
        cache_get = self._cache.get
        lines = 0
        for line in packet.split(b"\n"):
            if not line:
                continue
            lines += 1
            entry = cache_get(line)
            if entry is None:
                entry = self._compile(line)
                cache_get = self._cache.get
            if entry.__class__ is list:
                entry[0] += 1
            else:
                self._apply(entry, 1)
        self.metrics_received += lines

    def settle(self) -> None:
        """Apply the tallied lines to the state (before anyone looks at it)."""
        for entry in self._cache.values():
            if entry.__class__ is list and entry[0]:
                self._apply(entry[1], entry[0])
                entry[0] = 0

    def _apply(self, ops: tuple[Op, ...], times: int) -> None:
        for kind, key, value, weight in ops:
            if kind == COUNTER:
                self.counters[key] = self.counters.get(key, 0.0) + value * times
            elif kind == TIMER:
                values = self.timers.get(key)
                if values is None:
                    self.timers[key] = values = []
                    self.timer_counters[key] = 0.0
                if times == 1:
                    values.append(value)
                else:
                    values.extend([value] * times)
                self.timer_counters[key] += weight * times
            elif kind == SET:
                members = self.sets.get(key)
                if members is None:
                    self.sets[key] = {value}
                else:
                    members.add(value)
            elif kind == GAUGE:
                self.gauges[key] = value
                if self._deletes_gauges:
                    self.gauge_ttl[key] = self._gauges_max_ttl
            elif kind == GAUGE_DELTA:
                self.gauges[key] = self.gauges.get(key, 0.0) + value
                if self._deletes_gauges:
                    self.gauge_ttl[key] = self._gauges_max_ttl
            else:
                self._special(kind, key, value)

    def reject(self, reason: str, text: str) -> None:
        """Count input the edge refused before it became a line (e.g. over-long)."""
        self.metrics_received += 1
        self._special(BAD, reason, text)

    def _special(self, kind: int, reason: str, text: str) -> None:
        if kind == BAD:
            self.bad_lines_seen += 1
            self.bad_lines_total += 1
            if self.on_bad_line is not None:
                self.on_bad_line(reason, text)
        elif kind == EVENT:
            self.events_received += 1
        elif kind == SERVICE_CHECK:
            self.service_checks_received += 1

    # -- flush ----------------------------------------------------------------------

    def flush(self) -> Snapshot:
        """Hand over the interval's state and reset it for the next one."""
        self.settle()
        settings = self.settings
        names = self.internal_names
        counters = self.counters
        for attr in ("bad_lines_seen", "packets_received", "metrics_received"):
            counters[names[attr]] = counters.get(names[attr], 0.0) + getattr(self, attr)
        for attr in ("events_received", "service_checks_received"):
            # Only once seen, so that a pure statsd feed flushes what etsy flushes.
            if getattr(self, attr) or names[attr] in counters:
                counters[names[attr]] = counters.get(names[attr], 0.0) + getattr(self, attr)
        self.packets_total += self.packets_received
        for attr in ("bad_lines_seen", "packets_received", "metrics_received",
                     "events_received", "service_checks_received"):
            setattr(self, attr, 0)

        snapshot = Snapshot(
            counters=counters,
            timers=self.timers,
            timer_counters=self.timer_counters,
            gauges=dict(self.gauges),
            sets={key: len(members) for key, members in self.sets.items()},
        )
        if settings.deletes_counters:
            # etsy keeps (at zero) every counter whose key *contains* an internal
            # counter's name, not just its own three; so do we, for identical output.
            self.counters = {key: 0.0 for key in counters
                             if any(word in key for word in _KEPT_COUNTER_WORDS)}
        else:
            self.counters = dict.fromkeys(counters, 0.0)
        if settings.deletes_timers:
            self.timers, self.timer_counters = {}, {}
        else:
            self.timers = {key: [] for key in self.timers}
            self.timer_counters = dict.fromkeys(self.timer_counters, 0.0)
        if settings.deletes_sets:
            self.sets = {}
        else:
            self.sets = {key: set() for key in self.sets}
        if self._deletes_gauges:
            for key in list(self.gauge_ttl):
                self.gauge_ttl[key] -= 1
                if self.gauge_ttl[key] < 1:
                    self.gauges.pop(key, None)
                    del self.gauge_ttl[key]
        return snapshot

    def set_gauge(self, key: str, value: float) -> None:
        """A gauge the daemon sets itself (timestamp_lag), not counted as traffic."""
        self.gauges[key] = value
        if self._deletes_gauges:
            self.gauge_ttl[key] = self._gauges_max_ttl

    # -- management -----------------------------------------------------------------

    def table(self, kind: str) -> dict:
        """The live dict of one metric type, by its admin-command name."""
        self.settle()
        return {"counters": self.counters, "timers": self.timers, "gauges": self.gauges,
                "sets": self.sets}[kind]

    def delete(self, kind: str, patterns: Iterable[str]) -> list[tuple[str, bool]]:
        """Delete metrics by exact name or `prefix.*`; (name, found) for each outcome."""
        table = self.table(kind)
        results: list[tuple[str, bool]] = []
        for pattern in patterns:
            if pattern.endswith(".*"):
                prefix = pattern[:-1]
                matched = [key for key in table if key.startswith(prefix)]
            else:
                matched = [pattern] if pattern in table else []
            if not matched:
                results.append((pattern, False))
            for key in matched:
                del table[key]
                if kind == "timers":
                    self.timer_counters.pop(key, None)
                elif kind == "gauges":
                    self.gauge_ttl.pop(key, None)
                results.append((key, True))
        return results
