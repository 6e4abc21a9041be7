"""The tag index: which tagged series (`name;k=v`) exist, and graphite's tag queries.

A tagged series is stored under `_tagged/<hash>/...`, a sha256 of its name, so the path
cannot give the name back. The names therefore come from a registry file the store
appends to, `_tagged/names.txt` (one normalized name a line, see `register_tagged`),
kept only while the series' whisper file exists, and from the names held only in the
cache (given as a callable). Matching follows graphite-web 1.1.10's TagDB: operators
`=`, `!=`, `=~`, `!=~`; a spec matching the empty value also matches series without the
tag; regexes are anchored at the start of the value; at least one expression must
require a non-empty value.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from carbon_store.names import BadName, normalize, relative_path

REGISTRY = os.path.join("_tagged", "names.txt")
DEFAULT_AUTOCOMPLETE_LIMIT = 100  # graphite's TAGDB_AUTOCOMPLETE_LIMIT
_TAGSPEC = re.compile(r"^([^;!=]+)(!?=~?)([^;]*)$")


def register_tagged(storage: str | Path, name: str) -> None:
    """Record a tagged series' name (the writer calls this when it creates the file).
    One short append per name, so concurrent writers do not interleave lines."""
    if ";" not in name:
        return
    line = (normalize(name) + "\n").encode("utf-8", "surrogatepass")
    path = Path(storage) / REGISTRY
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def parse_tags(name: str) -> dict[str, str]:
    """A series name's tags, `name` included (an untagged name has only `name`)."""
    metric, *pairs = name.split(";")
    tags = {"name": metric}
    for pair in pairs:
        key, _, value = pair.partition("=")
        tags[key] = value
    return tags


def _anchored(spec: str) -> re.Pattern[str]:
    try:
        return re.compile(spec if spec.startswith("^") else f"^({spec})")
    except re.error as exc:
        raise ValueError(f"invalid regular expression {spec!r}: {exc}") from None


@dataclass(frozen=True)
class TagExpr:
    """One `tag<op>spec` condition of seriesByTag."""

    tag: str
    operator: str
    spec: str

    @classmethod
    def parse(cls, text: str) -> TagExpr:
        found = _TAGSPEC.match(text)
        if found is None:
            raise ValueError(f"Invalid tagspec {text}")
        expr = cls(*found.groups())
        if expr.operator in ("=~", "!=~"):
            _anchored(expr.spec)  # a bad regex is refused when parsed
        return expr

    def accepts(self, value: str) -> bool:
        """Whether a series whose tag has `value` ('' when absent) passes."""
        if self.operator == "=":
            return value == self.spec
        if self.operator == "!=":
            return value != self.spec
        found = _anchored(self.spec).match(value) is not None
        return found if self.operator == "=~" else not found

    @property
    def matches_empty(self) -> bool:
        return self.accepts("")


def parse_expressions(exprs: Iterable[str]) -> list[TagExpr]:
    """The conditions, refusing (ValueError) a query every empty series would pass."""
    parsed = [TagExpr.parse(text) for text in exprs]
    if all(expr.matches_empty for expr in parsed):
        raise ValueError("At least one tagspec must not match the empty string")
    return parsed


def _limit(limit: int | str | None) -> int:
    """graphite reads a missing limit as its default; Grafana sends `limit=0` when it
    knows none, which graphite would answer with nothing, so 0 means the default here."""
    try:
        value = int(limit) if limit not in (None, "") else 0
    except ValueError:
        raise ValueError(f"limit must be an integer, not {limit!r}") from None
    return value if value > 0 else DEFAULT_AUTOCOMPLETE_LIMIT


def _add_sorted(result: list[str], item: str, limit: int) -> None:
    """Keep `result` the `limit` smallest distinct items seen."""
    at = bisect.bisect_left(result, item)
    if at < len(result) and result[at] == item:
        return
    if at >= limit:
        return
    result.insert(at, item)
    del result[limit:]


class TagIndex:
    """The tagged series of one storage directory, re-read at most every `max_age`
    seconds (registry lines and file existence) plus the cache-only names."""

    def __init__(self, storage: str | Path,
                 cache_names: Callable[[], Iterable[str]] | None = None,
                 max_age: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.storage = Path(storage)
        self.cache_names = cache_names
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Lock()
        self._on_disk: list[str] = []
        self._read_at: float | None = None

    def _disk_names(self) -> list[str]:
        with self._lock:
            now = self.clock()
            if self._read_at is None or now - self._read_at >= self.max_age:
                self._on_disk = self._read_registry()
                self._read_at = now
            return self._on_disk

    def _read_registry(self) -> list[str]:
        try:
            text = (self.storage / REGISTRY).read_bytes().decode("utf-8", "surrogatepass")
        except OSError:
            return []
        names = set()
        for line in text.splitlines():
            try:
                name = normalize(line)
            except BadName:
                continue
            if ";" in name and (self.storage / relative_path(name)).is_file():
                names.add(name)
        return sorted(names)

    def names(self) -> list[str]:
        """Every known tagged series, sorted."""
        names = set(self._disk_names())
        if self.cache_names is not None:
            for name in self.cache_names():
                if ";" in name:
                    try:
                        names.add(normalize(name))
                    except BadName:
                        continue
        return sorted(names)

    def series_tags(self) -> list[tuple[str, dict[str, str]]]:
        return [(name, parse_tags(name)) for name in self.names()]

    # -- queries ------------------------------------------------------------------------

    def find_series(self, exprs: Iterable[str]) -> list[str]:
        """The names passing every expression, sorted (ValueError for a bad query)."""
        parsed = parse_expressions(exprs)
        return [name for name, tags in self.series_tags()
                if all(e.accepts(tags.get(e.tag, "")) for e in parsed)]

    def list_tags(self, tag_filter: str | None = None, limit: int | str | None = None
                  ) -> list[str]:
        pattern = _anchored(tag_filter) if tag_filter else None
        tags = sorted({tag for _, tags in self.series_tags() for tag in tags})
        tags = [t for t in tags if pattern is None or pattern.match(t)]
        count = int(limit) if limit not in (None, "") else 0
        return tags[:count] if count > 0 else tags

    def list_values(self, tag: str, value_filter: str | None = None,
                    limit: int | str | None = None) -> list[tuple[str, int]]:
        """(value, number of series with it) for one tag, sorted by value."""
        pattern = _anchored(value_filter) if value_filter else None
        counts: dict[str, int] = {}
        for _, tags in self.series_tags():
            value = tags.get(tag)
            if value is not None and (pattern is None or pattern.match(value)):
                counts[value] = counts.get(value, 0) + 1
        values = sorted(counts.items())
        count = int(limit) if limit not in (None, "") else 0
        return values[:count] if count > 0 else values

    def auto_complete_tags(self, exprs: list[str], tag_prefix: str | None = None,
                           limit: int | str | None = None) -> list[str]:
        """Tags of the series matching `exprs`, less the tags the expressions name."""
        count = _limit(limit)
        if not exprs:
            return [t for t in self.list_tags() if not tag_prefix or t.startswith(tag_prefix)
                    ][:count]
        searched = {TagExpr.parse(e).tag for e in exprs}
        result: list[str] = []
        for name in self.find_series(exprs):
            for tag in parse_tags(name):
                if tag in searched or (tag_prefix and not tag.startswith(tag_prefix)):
                    continue
                _add_sorted(result, tag, count)
        return result

    def auto_complete_values(self, exprs: list[str], tag: str,
                             value_prefix: str | None = None,
                             limit: int | str | None = None) -> list[str]:
        """Values of `tag` among the series matching `exprs`."""
        count = _limit(limit)
        if not exprs:
            return [v for v, _ in self.list_values(tag)
                    if not value_prefix or v.startswith(value_prefix)][:count]
        result: list[str] = []
        for name in self.find_series([*exprs, f"{tag}!="]):
            value = parse_tags(name).get(tag)
            if value is None or (value_prefix and not value.startswith(value_prefix)):
                continue
            _add_sorted(result, value, count)
        return result
