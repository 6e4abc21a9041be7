"""The pure part of the client: names, values, tags, lines and packets. No I/O.

A metric line is `name:value|type[|@rate][|#tag,tag...]`, the DogStatsD order, which
`statsd_daemon` parses. Everything here is a plain function over plain values, so the
wire format can be tested exhaustively without a socket.

Names and tags are cleaned with the daemon's own rules (`statsd_daemon/parser.py`,
etsy's `sanitizeKeyName`), restated here because the client must not import the
daemon: sending a name through the client and reading it back from carbon gives the
same text. A name that the daemon would refuse (empty, or with an empty path node
such as `a..b`) is refused here instead, so the daemon never counts a bad line for it.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import timedelta
from itertools import accumulate
from operator import add

# The daemon's rules (statsd_daemon/parser.py): whitespace runs become `_`, `/` becomes
# `-`, then only these characters survive.
_WHITESPACE = re.compile(r"\s+")
_NOT_IN_NAME = re.compile(r"[^a-zA-Z_\-0-9.;=]")
_NOT_IN_TAG_NAME = re.compile(r"[^a-zA-Z_\-0-9.]")
_NOT_IN_TAG_VALUE = re.compile(r"[^a-zA-Z_\-0-9.=]")
# Characters that would cut a set member into other fields or lines.
_NOT_IN_MEMBER = re.compile(r"[:|\n]")

COUNTER = "c"
GAUGE = "g"
TIMER = "ms"
SET = "s"
HISTOGRAM = "h"
DISTRIBUTION = "d"

Tags = Mapping[str, object] | Iterable[str] | None


def sanitize_name(name: str) -> str:
    """The daemon's `sanitize_key`: `a b/c:d` -> `a_b-cd`."""
    return _NOT_IN_NAME.sub("", _WHITESPACE.sub("_", name).replace("/", "-"))


def valid_name(name: str) -> bool:
    """Whether a sanitized name is a Graphite path the daemon accepts: its part before
    any `;tag=value` is non-empty and has no empty node (`.a`, `a.`, `a..b`)."""
    path = name.split(";", 1)[0]
    return bool(path) and not (path[0] == "." or path[-1] == "." or ".." in path)


def clean_prefix(prefix: str | None) -> str:
    """A prefix ready to be put in front of a name: sanitized, dots trimmed, with its
    separating dot (`"web"` and `"web."` both give `"web."`; `None` gives `""`)."""
    if not prefix:
        return ""
    cleaned = sanitize_name(str(prefix)).strip(".")
    return cleaned + "." if cleaned else ""


def metric_name(prefix: str, stat: object) -> str | None:
    """`prefix` (from `clean_prefix`) joined to the sanitized `stat`, or None when the
    result is not a name the daemon accepts (or `stat` is not a string)."""
    if not isinstance(stat, str):
        return None
    name = prefix + sanitize_name(stat)
    return name if valid_name(name) else None


def format_number(value: object) -> str | None:
    """A number as the daemon's parser reads it, or None (NaN, infinities, non-numbers).

    Integers (and bools) are written as integers, floats as their shortest repr
    (`1e-07`, `2.5`), anything else through `float()`.
    """
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else None
    if kind is bool:
        return "1" if value else "0"
    if isinstance(value, int):  # an int subclass (IntEnum...)
        return str(int(value))
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return repr(number) if math.isfinite(number) else None


def milliseconds(delta: object) -> object:
    """A `timing` argument in milliseconds: a `timedelta` is converted exactly to the
    microsecond, a number is returned as is."""
    if isinstance(delta, timedelta):
        return (delta // timedelta(microseconds=1)) / 1000
    return delta


def format_member(value: object) -> str:
    """A set member: `:`, `|` and newlines would split the line, so they become `_`."""
    text = value if isinstance(value, str) else str(value)
    return _NOT_IN_MEMBER.sub("_", text)


def format_rate(rate: float) -> str:
    """The `|@rate` field, empty for a rate of 1 (or more)."""
    return "" if rate >= 1 else "|@" + repr(float(rate))


def _clean_tag_part(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub("", _WHITESPACE.sub("_", text.strip()).replace("/", "-").replace(";", "_"))


def clean_tag(name: object, value: object) -> tuple[str, str | None] | None:
    """One tag cleaned as the daemon cleans it; `value` None is a bare tag (the daemon
    gives it the value `true`). None when the name cleans to nothing."""
    tag_name = _clean_tag_part(str(name), _NOT_IN_TAG_NAME)
    if not tag_name:
        return None
    if value is None:
        return tag_name, None
    tag_value = _clean_tag_part(str(value), _NOT_IN_TAG_VALUE)
    return tag_name, (tag_value or None)


def split_tag(tag: str) -> tuple[str, str | None]:
    """`k:v` or `k=v` (cut at the first of either, as the daemon does) or a bare `k`."""
    cuts = [i for i in (tag.find(":"), tag.find("=")) if i >= 0]
    if not cuts:
        return tag, None
    cut = min(cuts)
    return tag[:cut], tag[cut + 1:]


def normalize_tags(tags: Tags) -> dict[str, str | None]:
    """Tags given as a mapping `{name: value}` or as strings `"name:value"`, `"name=value"`
    or `"name"`, cleaned, in order; a name given twice keeps its last value."""
    result: dict[str, str | None] = {}
    if not tags:
        return result
    if isinstance(tags, str):
        tags = [tags]
    if isinstance(tags, Mapping):
        pairs: Iterable[tuple[object, object]] = tags.items()
    else:
        pairs = (split_tag(str(tag)) for tag in tags)
    for name, value in pairs:
        cleaned = clean_tag(name, value)
        if cleaned is not None:
            result[cleaned[0]] = cleaned[1]
    return result


def merge_tags(constant: Mapping[str, str | None], tags: Tags) -> dict[str, str | None]:
    """The constant tags with the per-call ones on top: a per-call tag replaces a
    constant tag of the same name."""
    if not tags:
        return dict(constant)
    return {**constant, **normalize_tags(tags)}


def format_tags(tags: Mapping[str, str | None]) -> str:
    """The `|#k:v,k2` field (DogStatsD), empty when there are no tags."""
    if not tags:
        return ""
    return "|#" + ",".join(name if value is None else f"{name}:{value}"
                           for name, value in tags.items())


def format_line(name: str, value: str, kind: str, rate: float = 1.0, tags: str = "") -> str:
    """One line; `tags` is a `format_tags` result."""
    return f"{name}:{value}|{kind}{format_rate(rate)}{tags}"


def gauge_lines(name: str, value: object, delta: bool, suffix: str) -> str | None:
    """The gauge line(s), `suffix` being the rate and tag fields. A delta is signed
    (`+5`, `-5`); an absolute negative value is written as `0|g` then the value, two
    lines to send in one packet, since a signed value would be read as a delta."""
    text = format_number(value)
    if text is None:
        return None
    if delta:
        if text[0] != "-":
            text = "+" + text
        return f"{name}:{text}|g{suffix}"
    if text[0] == "-":
        return f"{name}:0|g{suffix}\n{name}:{text}|g{suffix}"
    return f"{name}:{text}|g{suffix}"


def pack(lines: list[bytes], max_size: int) -> list[bytes]:
    """Join lines with newlines into as few packets as possible, in order, each at most
    `max_size` bytes. A line longer than `max_size` on its own goes alone in its packet
    (it cannot be split); an item holding several lines (a negative gauge) is never
    split across packets.

    Greedy, with the cuts found by bisection over running sizes, so the per-line work
    stays in C: `ends[k]` is the size of `lines[:k]` joined, plus one.
    """
    count = len(lines)
    if count == 0:
        return []
    ends = list(map(add, accumulate(map(len, lines), initial=0), range(count + 1)))
    if ends[-1] - 1 <= max_size:
        return [b"\n".join(lines)]
    packets = []
    start = 0
    while start < count:
        stop = bisect_right(ends, ends[start] + max_size + 1, start + 1) - 1
        if stop <= start:
            stop = start + 1  # a line too long for any packet goes alone
        packets.append(b"\n".join(lines[start:stop]))
        start = stop
    return packets
