"""The statsd line format, parsed into operations on the aggregator's state.

One line is `key:value|type[|@rate][|#tags]`, or etsy's legacy multi-sample form
`key:v1|t1:v2|t2`, in which every `:`-separated part is a sample of its own. The result
of parsing a line is a tuple of *ops*, plain tuples `(kind, key, value, weight)`, so the
aggregator can cache them per distinct line and apply them without parsing again:

- COUNTER: value is the increment already scaled by 1/rate;
- TIMER: value in ms (or any unit, for DogStatsD `h`/`d`), weight = 1/rate;
- GAUGE: set; GAUGE_DELTA: add (a leading sign on the value);
- SET: value is the member string;
- BAD: key is the reason, value the offending text; one per bad sample, as etsy counts;
- EVENT / SERVICE_CHECK: DogStatsD `_e{...}` and `_sc|...` lines, counted and skipped.

Where this departs from etsy statsd 0.9 on purpose (sample rates outside (0, 1], unknown
types, names that sanitize to nothing or hold an empty path node, DogStatsD tags sorted and
bare tags given the value `true`), it says so below.
"""

from __future__ import annotations

import math
import re
from typing import Any

COUNTER, TIMER, GAUGE, GAUGE_DELTA, SET, BAD, EVENT, SERVICE_CHECK = range(8)

Op = tuple[int, str, Any, float]

_WHITESPACE = re.compile(r"\s+")
_NOT_IN_KEY = re.compile(r"[^a-zA-Z_\-0-9.;=]")
_NOT_IN_TAG_NAME = re.compile(r"[^a-zA-Z_\-0-9.]")
_NOT_IN_TAG_VALUE = re.compile(r"[^a-zA-Z_\-0-9.=]")
# What JavaScript's isNumber() accepts in practice, minus hex, Infinity and NaN.
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*\Z")
_SIGNED = re.compile(r"\s*[+-]")

COUNTER_TYPES = frozenset({"c", "m"})  # `m` (meter) is a counter in etsy and statsd_spec
TIMER_TYPES = frozenset({"ms", "h", "d"})  # DogStatsD histogram and distribution: timers
# DogStatsD fields after the type that carry nothing the aggregation uses: container
# id, external data, cardinality, client-side timestamp.
_EXTENSION = re.compile(r"(?:c|e|card):|T\d+\Z")


def sanitize_key(key: str) -> str:
    """etsy's `sanitizeKeyName`: whitespace runs to `_`, `/` to `-`, then only
    `[a-zA-Z0-9_-.;=]` survive (so any non-ASCII character is removed)."""
    return _NOT_IN_KEY.sub("", _WHITESPACE.sub("_", key).replace("/", "-"))


def _clean_tag_part(text: str, pattern: re.Pattern[str]) -> str:
    """etsy's key rules, with `;` (a tag separator) turned into `_` as etsy does."""
    text = _WHITESPACE.sub("_", text.strip()).replace("/", "-").replace(";", "_")
    return pattern.sub("", text)


def tagged_key(name: str, tags: list[str], sanitize: bool) -> str:
    """`name;k=v;...` with tags sorted by name, as carbon normalizes a tagged series.

    `tags` holds `k:v` (DogStatsD) or `k=v` (Graphite) strings; a bare `k` becomes
    `k=true` (etsy would write `;k`, which carbon rejects). A tag whose name is empty
    after cleaning is dropped. The last value given for a tag name wins.
    """
    pairs: dict[str, str] = {}
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        cut = min((i for i in (tag.find(":"), tag.find("=")) if i >= 0), default=-1)
        if cut < 0:
            tag_name, value = tag, "true"
        else:
            tag_name, value = tag[:cut], tag[cut + 1:]
        if sanitize:
            tag_name = _clean_tag_part(tag_name, _NOT_IN_TAG_NAME)
            value = _clean_tag_part(value, _NOT_IN_TAG_VALUE)
        if not tag_name:
            continue
        pairs[tag_name] = value.lstrip("~") or "true"
    if not pairs:
        return name
    return name + "".join(f";{k}={pairs[k]}" for k in sorted(pairs))


def metric_key(raw: str, tags: list[str], sanitize: bool = True) -> str:
    """The aggregation key for a raw name and its DogStatsD tags; raises ValueError
    with the reason when the name cannot become a Graphite path."""
    name, *graphite_tags = raw.split(";")
    if sanitize:
        name = sanitize_key(name)
    if not name:
        raise ValueError("empty metric name")
    if name.startswith(".") or name.endswith(".") or ".." in name:
        raise ValueError("metric name has an empty path node")
    if graphite_tags or tags:
        return tagged_key(name, graphite_tags + tags, sanitize)
    return name


def _number(text: str) -> float | None:
    """The value, or None; digits that overflow a float (`1e999`) are refused like `inf`."""
    if not _NUMBER.match(text):
        return None
    try:
        value = float(text)
    except ValueError:  # `\s` matches U+001C..U+001F, which float() does not strip
        return None
    return value if math.isfinite(value) else None


def _parse_sample(key: str, bit: str, line: str) -> Op:
    fields = bit.split("|")
    if len(fields) < 2:
        return (BAD, "no type", line, 0.0)
    text = fields[0]
    kind = fields[1].strip()
    rate = 1.0
    for extra in fields[2:]:
        if extra.startswith("@"):
            value = _number(extra[1:])
            # On purpose unlike etsy: @0 would give infinite counts, @2 half counts.
            if value is None or not 0.0 < value <= 1.0:
                return (BAD, "sample rate not in (0, 1]", line, 0.0)
            if not math.isfinite(1.0 / value):  # a subnormal rate: infinite weight
                return (BAD, "sample rate too small", line, 0.0)
            rate = value
        else:
            return (BAD, f"unknown field {extra[:40]!r}", line, 0.0)
    if kind in COUNTER_TYPES:
        value = _number(text)
        if value is None:
            return (BAD, "counter value is not a number", line, 0.0)
        scaled = value * (1.0 / rate)
        if not math.isfinite(scaled):
            return (BAD, "counter value out of range", line, 0.0)
        return (COUNTER, key, scaled, 0.0)
    if kind in TIMER_TYPES:
        value = _number(text)
        if value is None:
            return (BAD, "timer value is not a number", line, 0.0)
        if value < 0 and kind == "ms":
            return (BAD, "negative timer value", line, 0.0)
        return (TIMER, key, value, 1.0 / rate)
    if kind == "g":
        value = _number(text)
        if value is None:
            return (BAD, "gauge value is not a number", line, 0.0)
        return (GAUGE_DELTA if _SIGNED.match(text) else GAUGE, key, value, 0.0)
    if kind == "s":
        return (SET, key, text or "0", 0.0)
    # On purpose unlike etsy, which counts anything else as a counter.
    return (BAD, f"unknown metric type {kind[:20]!r}", line, 0.0)


def _split_extensions(rest: str) -> tuple[str, list[str]]:
    """Separate DogStatsD extension fields (`|c:<container>`, `|T<ts>`...) from the
    sample text, which etsy's legacy form splits on `:`.

    They can only follow a complete single sample (`value|type[|@rate]`); a `:` earlier
    than them means the legacy multi-sample form, which has no extensions.
    """
    fields = rest.split("|")
    for i in range(2, len(fields)):
        if _EXTENSION.match(fields[i]):
            head = fields[:i]
            if any(":" in field for field in head):
                break
            tail = fields[i:]
            rates = [field for field in tail if field.startswith("@")]
            return "|".join(head + rates), [f for f in tail if not f.startswith("@")]
        if ":" in fields[i]:
            break
    return rest, []


def parse_line(line: str, sanitize: bool = True) -> tuple[Op, ...]:
    """The ops of one line (without its newline)."""
    if line.startswith("_e{"):
        return ((EVENT, "", None, 0.0),)
    if line.startswith("_sc|"):
        return ((SERVICE_CHECK, "", None, 0.0),)
    tags: list[str] = []
    cut = line.find("|#")
    main = line
    if cut >= 0:
        end = line.find("|", cut + 2)
        tag_text = line[cut + 2:] if end < 0 else line[cut + 2:end]
        tags = tag_text.split(",")
        main = line[:cut] if end < 0 else line[:cut] + line[end:]
    raw_key, sep, rest = main.partition(":")
    if not sep:
        return ((BAD, "no value", line, 0.0),)
    rest, extensions = _split_extensions(rest)
    for field in extensions:
        if not _EXTENSION.match(field):
            return ((BAD, f"unknown field {field[:40]!r}", line, 0.0),)
    try:
        key = metric_key(raw_key, tags, sanitize)
    except ValueError as exc:
        return ((BAD, str(exc), line, 0.0),)
    return tuple(_parse_sample(key, bit, line) for bit in rest.split(":"))


def decode(line: bytes) -> str:
    """Bytes off the wire as text; invalid UTF-8 becomes U+FFFD (then sanitized away)."""
    return line.decode("utf-8", "replace")
