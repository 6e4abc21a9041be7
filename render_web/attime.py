"""graphite-web's time grammar (`render/attime.py`): `from`/`until` values and intervals."""

from __future__ import annotations

import re

from render_web.functions.registry import InputError

_UNITS = (
    ("s", 1),
    ("min", 60),
    ("h", 3600),
    ("d", 86400),
    ("w", 604800),
    ("mon", 2592000),
    ("y", 31536000),
)
_OFFSET_PART = re.compile(r"(\d+)([a-z]*)")


def unit_seconds(unit: str) -> int:
    """Seconds of a unit named by any prefix-extension graphite accepts (`s`, `sec`,
    `seconds`, `min`, `minutes`, `h`, `hours`, ...). `m` alone is refused, as graphite
    does: it could be minutes or months."""
    for prefix, seconds in _UNITS:
        if unit.startswith(prefix):
            return seconds
    raise InputError(f"Invalid offset unit {unit!r}")


def parse_offset(text: str) -> int:
    """`-1h30min` -> -5400 seconds; no sign means `+`."""
    text = text.strip().replace(" ", "").replace("_", "").lower()
    sign = 1
    if text[:1] in "+-" and text:
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if not text:
        raise InputError("empty time offset")
    total, position = 0, 0
    while position < len(text):
        match = _OFFSET_PART.match(text, position)
        if match is None or not match.group(2):
            raise InputError(f"Invalid offset {text!r}")
        total += int(match.group(1)) * unit_seconds(match.group(2))
        position = match.end()
    return sign * total
