"""storage-schemas.conf and storage-aggregation.conf, in carbon's syntax.

Sections are rules tried in file order; the first whose `pattern` (a Python regex,
searched unanchored) matches a metric name wins. Carbon's built-in defaults follow the
file's rules: 60-second points for 7 days, and whisper's xFilesFactor 0.5 with average.
Retentions use carbon's units (`s m h d w y`, or plain numbers: seconds and points).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import whisper

from statsgraph.configfile import ConfigError, IniSection, parse_ini

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_AMOUNT = re.compile(r"(\d+)([a-z]?)\Z")

Archive = tuple[int, int]  # seconds per point, points


def parse_retention(text: str) -> Archive:
    """`10s:6h` -> (10, 2160); `60:1440` -> (60, 1440)."""
    precision_text, sep, span_text = text.strip().partition(":")
    if not sep:
        raise ValueError(f"invalid retention {text.strip()!r} (want PRECISION:DURATION)")
    precision = _amount(precision_text, "precision")
    if precision <= 0:
        raise ValueError(f"precision must be positive in {text.strip()!r}")
    match = _AMOUNT.match(span_text.strip())
    if not match:
        raise ValueError(f"invalid duration {span_text.strip()!r}")
    points = _amount(span_text, "duration") // precision if match[2] else int(match[1])
    if points <= 0:
        raise ValueError(f"retention {text.strip()!r} holds no point")
    return precision, points


def _amount(text: str, what: str) -> int:
    match = _AMOUNT.match(text.strip())
    if not match:
        raise ValueError(f"invalid {what} {text.strip()!r}")
    unit = match[2] or "s"
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r} in {text.strip()!r} (use one of s m h d w y)")
    return int(match[1]) * UNITS[unit]


@dataclass(frozen=True)
class SchemaRule:
    name: str
    pattern: re.Pattern[str] | None  # None: the built-in default, matches everything
    archives: tuple[Archive, ...]

    def matches(self, metric: str) -> bool:
        return self.pattern is None or self.pattern.search(metric) is not None


@dataclass(frozen=True)
class AggregationRule:
    name: str
    pattern: re.Pattern[str] | None
    x_files_factor: float | None
    method: str | None

    def matches(self, metric: str) -> bool:
        return self.pattern is None or self.pattern.search(metric) is not None


DEFAULT_SCHEMA = SchemaRule("default (built in)", None, ((60, 60 * 24 * 7),))
DEFAULT_AGGREGATION = AggregationRule("default (built in)", None, 0.5, "average")


@dataclass(frozen=True)
class Metadata:
    """What a new whisper file is created with."""

    archives: tuple[Archive, ...]
    x_files_factor: float
    method: str
    schema: str
    aggregation: str


class StorageRules:
    """Both files' rules; `lookup` gives a new metric's archives and aggregation."""

    def __init__(self, schemas: list[SchemaRule], aggregations: list[AggregationRule]) -> None:
        self.schemas = [*schemas, DEFAULT_SCHEMA]
        self.aggregations = [*aggregations, DEFAULT_AGGREGATION]

    def lookup(self, metric: str) -> Metadata:
        schema = next(rule for rule in self.schemas if rule.matches(metric))
        aggregation = next(rule for rule in self.aggregations if rule.matches(metric))
        xff = 0.5 if aggregation.x_files_factor is None else aggregation.x_files_factor
        method = aggregation.method or "average"
        return Metadata(schema.archives, xff, method, schema.name, aggregation.name)


def _pattern(section: IniSection) -> re.Pattern[str]:
    if "pattern" not in section.values:
        raise section.error("pattern", "missing key 'pattern'")
    try:
        return re.compile(section.values["pattern"].strip())
    # OverflowError: a repeat count past re's limit; RecursionError: nesting too deep
    except (re.error, OverflowError, RecursionError) as exc:
        raise section.error("pattern", f"invalid regular expression: {exc}") from None


def parse_schemas(text: str, path: str) -> list[SchemaRule]:
    rules = []
    for section in parse_ini(text, path).sections.values():
        unknown = set(section.values) - {"pattern", "retentions", "priority"}
        if unknown:
            key = sorted(unknown)[0]
            raise section.error(key, f"unknown key in a storage schema: {key!r}")
        pattern = _pattern(section)
        if "retentions" not in section.values:
            raise section.error("retentions", "missing key 'retentions'")
        try:
            archives = tuple(parse_retention(part)
                             for part in section.values["retentions"].split(",")
                             if part.strip())
            whisper.validateArchiveList(list(archives))
        except (ValueError, whisper.InvalidConfiguration) as exc:
            raise section.error("retentions", str(exc)) from None
        rules.append(SchemaRule(section.name, pattern, archives))
    return rules


def parse_aggregation(text: str, path: str) -> list[AggregationRule]:
    rules = []
    for section in parse_ini(text, path).sections.values():
        unknown = set(section.values) - {"pattern", "xfilesfactor", "aggregationmethod"}
        if unknown:
            key = sorted(unknown)[0]
            raise section.error(key, f"unknown key in an aggregation rule: {key!r}")
        pattern = _pattern(section)
        xff = None
        if "xfilesfactor" in section.values:
            try:
                xff = float(section.values["xfilesfactor"])
            except ValueError:
                xff = -1.0
            if not 0.0 <= xff <= 1.0:
                raise section.error("xfilesfactor", "xFilesFactor is a number in [0, 1]")
        method = section.values.get("aggregationmethod")
        if method is not None:
            method = method.strip()
            if method not in whisper.aggregationMethods:
                raise section.error("aggregationmethod", f"unknown aggregationMethod "
                                    f"{method!r} (one of {', '.join(whisper.aggregationMethods)})")
        rules.append(AggregationRule(section.name, pattern, xff, method))
    return rules


def load_rules(schemas_path: Path, aggregation_path: Path | None) -> StorageRules:
    """Read both files; the aggregation file is optional, as in carbon."""
    try:
        schemas_text = schemas_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read storage schemas: {exc.strerror}",
                          path=str(schemas_path)) from exc
    schemas = parse_schemas(schemas_text, str(schemas_path))
    aggregations: list[AggregationRule] = []
    if aggregation_path is not None and aggregation_path.exists():
        aggregations = parse_aggregation(aggregation_path.read_text(encoding="utf-8"),
                                         str(aggregation_path))
    return StorageRules(schemas, aggregations)
