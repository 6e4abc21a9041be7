"""graphite-web's time grammar (`render/attime.py`): `from`/`until`/`now` values and intervals.

Everything here follows graphite-web 1.1.10 to the letter, quirks included (`12am` is noon,
`12pm` is midnight, `MM/DD/1969` means 2069, a literal `+` always starts the offset), because
dashboards and saved URLs rely on the times they get today.

Time zones: graphite uses pytz; we use `zoneinfo`, so `localize` reproduces pytz's
`localize(is_dst=False)` choice for wall times that happen twice or never, and offsets are
applied to the instant (UTC), not to the wall clock, exactly as pytz arithmetic does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

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
_OFFSET_PART = re.compile(r"(\d*)([a-z]*)")

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# graphite numbers weekdays from Sunday.
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMED_TIMES = (("noon", 12), ("midnight", 0), ("teatime", 16))
_DAY_WORDS = {"yesterday": -1, "today": 0, "tomorrow": 1}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def unit_seconds(unit: str) -> int:
    """Seconds of a unit named by any prefix-extension graphite accepts (`s`, `sec`,
    `seconds`, `min`, `minutes`, `h`, `hours`, ...). `m` alone is refused, as graphite
    does: it could be minutes or months."""
    for prefix, seconds in _UNITS:
        if unit.startswith(prefix):
            return seconds
    raise InputError(f"Invalid offset unit {unit!r}")


def _offset_body_seconds(body: str) -> int:
    """Sum of `<digits><unit>` runs (`1h30min`); an empty body is 0 seconds."""
    total, position = 0, 0
    while position < len(body):
        match = _OFFSET_PART.match(body, position)
        assert match is not None  # both groups may be empty, so it always matches
        if not match.group(1):
            raise InputError(f"Invalid offset {body!r}")
        try:
            count = int(match.group(1))
        except ValueError:  # more digits than int() takes
            raise InputError(f"Invalid offset {body!r}") from None
        total += count * unit_seconds(match.group(2))
        position = match.end()
    return total


def parse_offset(text: str) -> int:
    """`-1h30min` -> -5400 seconds; no sign means `+`."""
    text = text.strip().replace(" ", "").replace("_", "").lower()
    sign = 1
    if text[:1] in "+-" and text:
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if not text:
        raise InputError("empty time offset")
    return sign * _offset_body_seconds(text)


def _signed_offset_seconds(offset: str) -> int:
    """The offset part of a time (`-1d`, `+3h`); unlike `parse_offset` a bare sign is 0,
    as in graphite (so `now-` is now)."""
    if not offset:
        return 0
    sign = -1 if offset[0] == "-" else 1
    return sign * _offset_body_seconds(offset[1:])


# --- time zones ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Lower-cased zone name -> canonical name, for pytz's case-insensitive lookup."""
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(name: str | None, default: tzinfo) -> tzinfo:
    """The `tz` request parameter as a zone. Like pytz, names are case-insensitive and
    `_plus_`/`_minus_` stand for `+`/`-`; an unknown name silently means `default`, which is
    what graphite does (it ignores a bad `tz`)."""
    if name is None:
        return default
    if name.upper() == "UTC":
        key: str | None = "UTC"
    else:
        unmunged = name.replace("_plus_", "+").replace("_minus_", "-")
        key = _zone_names().get(unmunged.lower())
    if key is None:
        return default
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC if key == "UTC" else default


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """Attach `tz` to a wall-clock time the way pytz's `localize(is_dst=False)` does: a time
    skipped by a DST jump keeps the offset in force before the jump; a time that occurs
    twice takes its standard-time (non-DST) occurrence, else the later one."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive.replace(fold=0):
        return first  # skipped wall time: fold=0 uses the pre-transition offset
    standard = [candidate for candidate in (first, second) if not candidate.dst()]
    if len(standard) == 1:
        return standard[0]
    return max(first, second, key=lambda candidate: candidate.astimezone(UTC))


def _in_zone(moment: datetime, tz: tzinfo) -> datetime:
    if moment.tzinfo is None:
        return localize(moment, tz)
    return moment.astimezone(tz)


def to_epoch(moment: datetime) -> int:
    """Whole Unix seconds, rounded down (graphite's `epoch()` truncates the timetuple)."""
    return (moment - _EPOCH) // _SECOND


# --- the grammar --------------------------------------------------------------------------


def parse_attime(text: str, tz: tzinfo, now: datetime) -> datetime:
    """An aware datetime in `tz` for a graphite time (`-1d`, `now`, `1600000000`,
    `04:00_20110501`, `noon yesterday`, `monday+3h`, ...) relative to `now`."""
    try:
        return _parse_attime(text, tz, _in_zone(now, tz))
    except (ValueError, OverflowError, OSError) as error:  # InputError is a ValueError
        raise InputError(f"Invalid time {text!r}: {error}") from None


def _looks_like_yyyymmdd(digits: str) -> bool:
    return (
        len(digits) == 8
        and int(digits[:4]) > 1900
        and int(digits[4:6]) < 13
        and int(digits[6:]) < 32
    )


def _parse_attime(text: str, tz: tzinfo, now: datetime) -> datetime:
    cleaned = text.strip().lower().replace("_", "").replace(",", "").replace(" ", "")
    if cleaned.isdigit() and not _looks_like_yyyymmdd(cleaned):
        return datetime.fromtimestamp(int(cleaned), tz)
    reference, offset = _split_reference(cleaned)
    base = _parse_reference(reference, tz, now)
    shifted = base.astimezone(UTC) + timedelta(seconds=_signed_offset_seconds(offset))
    return shifted.astimezone(tz)


def _split_reference(cleaned: str) -> tuple[str, str]:
    """Cut at the first `+`, or failing that the first `-`; the sign stays on the offset."""
    for sign in "+-":
        at = cleaned.find(sign)
        if at != -1:
            return cleaned[:at], cleaned[at:]
    return cleaned, ""


def _number(digits: str, what: str) -> int:
    try:
        return int(digits)
    except ValueError:
        raise InputError(f"{what} is not a number: {digits!r}") from None


def _parse_time_of_day(ref: str) -> tuple[str, int, int]:
    """Strip a leading time of day; returns the rest with hour and minute (00:00 if none)."""
    hour = minute = 0
    colon = ref.find(":")
    if 0 < colon < 3:
        hour = _number(ref[:colon], "hour")
        minute = _number(ref[colon + 1 : colon + 3], "minute")
        ref = ref[colon + 3 :]
        if ref.startswith("am"):
            ref = ref[2:]
        elif ref.startswith("pm"):
            hour = (hour + 12) % 24
            ref = ref[2:]
    at = ref.find("am")
    if 0 < at < 3:
        hour = _number(ref[:at], "hour")
        ref = ref[at + 2 :]
    at = ref.find("pm")
    if 0 < at < 3:
        hour = (_number(ref[:at], "hour") + 12) % 24
        ref = ref[at + 2 :]
    for word, word_hour in _NAMED_TIMES:
        if ref.startswith(word):
            hour, minute = word_hour, 0
            ref = ref[len(word) :]
            break
    return ref, hour, minute


def _full_year(year: int) -> int:
    if year < 1900:
        year += 1900
    if year < 1970:
        year += 100
    return year


def _day_of_month(ref: str) -> int:
    """The day after a month name: its last two characters if digits, else its last one."""
    for width in (2, 1):
        tail = ref[-width:]
        if tail.isdigit():
            return _number(tail, "day of month")
    raise InputError("Day of month required after month name")


def _apply_day(day: str, wall: datetime, hour: int, minute: int) -> datetime | None:
    """The naive wall time for a day reference (`wall` carries today's date and the time of
    day); None when `day` is not a day reference at all."""
    if day in _DAY_WORDS:
        return wall + timedelta(days=_DAY_WORDS[day])
    if day.count("/") == 2:
        month, day_of_month, year = (_number(part, "date") for part in day.split("/"))
        return datetime(_full_year(year), month, day_of_month, hour, minute)
    if len(day) == 8 and day.isdigit():
        return datetime(int(day[:4]), int(day[4:6]), int(day[6:8]), hour, minute)
    if day[:3] in _MONTHS:
        month = _MONTHS.index(day[:3]) + 1
        return datetime(wall.year, month, _day_of_month(day), hour, minute)
    if day[:3] in _WEEKDAYS:
        today = (wall.weekday() + 1) % 7
        return wall - timedelta(days=(today - _WEEKDAYS.index(day[:3])) % 7)
    if not day:
        return wall
    return None


def _parse_reference(ref: str, tz: tzinfo, now: datetime) -> datetime:
    if ref in ("", "now"):
        return now
    day, hour, minute = _parse_time_of_day(ref)
    wall = now.replace(tzinfo=None, fold=0, hour=hour, minute=minute, second=0, microsecond=0)
    moment = _apply_day(day, wall, hour, minute)
    if moment is None:
        raise InputError(f"Unknown day reference: {ref}")
    return localize(moment, tz)


# --- the request's time window ----------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A render request's time range in whole Unix seconds, with its reference time and
    zone."""

    start: int
    end: int
    now: int
    tz: tzinfo


def time_window(
    from_text: str | None,
    until_text: str | None,
    now_text: str | None,
    tz: tzinfo,
    wall_clock: float,
) -> Window:
    """`from`/`until`/`now` as graphite's render view reads them: `None` means the parameter
    was absent (an empty string is present and means now). `now` is relative to the wall
    clock, `from` (default `-1d`) and `until` (default now) to `now`; a reversed range is
    swapped and an empty one refused."""
    clock = datetime.fromtimestamp(wall_clock, tz)
    now = clock if now_text is None else parse_attime(now_text, tz, clock)
    until = now if until_text is None else parse_attime(until_text, tz, now)
    since = parse_attime("-1d" if from_text is None else from_text, tz, now)
    # Compare instants: datetimes sharing a zoneinfo compare by wall clock, ignoring fold.
    start, end = sorted((since.astimezone(UTC), until.astimezone(UTC)))
    # Compared in whole seconds: a range within one second would be empty once truncated.
    if to_epoch(start) == to_epoch(end):
        raise InputError("Invalid empty time range")
    return Window(start=to_epoch(start), end=to_epoch(end), now=to_epoch(now), tz=tz)
