"""Property-based tests of the time grammar: any text parses or raises InputError.

`from`, `until`, `now`, `tz` and the interval arguments of functions come straight from
request URLs, so no text may raise anything but `InputError` (a 400 with its message);
anything else would be a 500. Offsets built from known parts must add up exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from render_web.attime import (
    Window,
    parse_attime,
    parse_offset,
    parse_timezone,
    time_window,
    to_epoch,
)
from render_web.functions.registry import InputError

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _zones() -> list[tzinfo]:
    zones: list[tzinfo] = [UTC]
    for name in ("America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"):
        try:
            zones.append(ZoneInfo(name))
        except Exception:  # no tz database on this machine
            continue
    return zones


ZONES = st.sampled_from(_zones())
# Reference times over the whole range a clock can show, DST changes included.
NOWS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC))
# Text made of the grammar's own words, so that random input reaches every branch.
WORDS = st.lists(st.sampled_from([
    "now", "today", "yesterday", "tomorrow", "noon", "midnight", "teatime", "am", "pm",
    "+", "-", ":", "/", "_", ",", " ", "1", "12", "30", "2011", "20110501", "99999999999",
    "1h", "30min", "2d", "1w", "3mon", "1y", "10s", "sec", "seconds", "minutes", "m",
    "jan", "feb", "december", "mon", "monday", "sun", "sat", "00", "13", "25", "60", "0",
    "1969", "1900", "9999", "\u0661", "\u00b2", "\u0130", "\t", "e", "x", "-1d", "+3h",
]), max_size=8).map("".join)
TEXTS = st.one_of(WORDS, st.text(max_size=30), st.text("0123456789+-:/ hdmnowy", max_size=25))


def _parses_or_input_error(call, *args: object) -> object:
    try:
        return call(*args)
    except InputError as error:
        assert str(error)
        return error


@PROPERTY
@given(TEXTS)
def test_parse_offset_is_seconds_or_input_error(text: str) -> None:
    result = _parses_or_input_error(parse_offset, text)
    assert isinstance(result, int | InputError)


@PROPERTY
@given(TEXTS, ZONES, NOWS)
def test_parse_attime_is_a_time_or_input_error(text: str, tz: tzinfo, now: datetime) -> None:
    result = _parses_or_input_error(parse_attime, text, tz, now)
    if isinstance(result, datetime):
        assert result.tzinfo is not None and result.utcoffset() is not None


@PROPERTY
@given(st.one_of(st.none(), TEXTS), st.one_of(st.none(), TEXTS), st.one_of(st.none(), TEXTS),
       ZONES, st.floats(0, 8.0e9))
def test_time_window_is_a_window_or_input_error(from_text: str | None,
                                                until_text: str | None,
                                                now_text: str | None, tz: tzinfo,
                                                wall_clock: float) -> None:
    result = _parses_or_input_error(time_window, from_text, until_text, now_text, tz,
                                    wall_clock)
    if isinstance(result, Window):
        assert result.start < result.end


@PROPERTY
@given(st.one_of(st.none(), st.text(max_size=30), st.sampled_from(
    ["UTC", "utc", "Europe/Berlin", "europe/berlin", "Etc/GMT_plus_5", "Etc/GMT_minus_3",
     "../../etc/passwd", "/etc/localtime", "", "Nowhere/Land", "\x00"])))
def test_parse_timezone_never_raises(name: str | None) -> None:
    assert isinstance(parse_timezone(name, UTC), tzinfo)


# -- offsets made of known parts add up exactly ------------------------------------

UNITS = {
    1: ["s", "sec", "secs", "second", "seconds"],
    60: ["min", "mins", "minute", "minutes"],
    3600: ["h", "hour", "hours"],
    86400: ["d", "day", "days"],
    604800: ["w", "week", "weeks"],
    2592000: ["mon", "month", "months"],
    31536000: ["y", "year", "years"],
}
PART = st.sampled_from([(s, u) for s, spellings in UNITS.items() for u in spellings]).flatmap(
    lambda unit: st.tuples(st.integers(0, 400), st.just(unit[0]), st.just(unit[1])))


@PROPERTY
@given(st.lists(PART, min_size=1, max_size=4), st.sampled_from(["", "+", "-"]),
       st.sampled_from(["", " ", "_"]), st.booleans())
def test_offset_parts_add_up(parts: list[tuple[int, int, str]], sign: str, spacer: str,
                             upper: bool) -> None:
    text = sign + spacer.join(f"{n}{spacer}{unit}" for n, _, unit in parts)
    text = text.upper() if upper else text
    seconds = sum(n * size for n, size, _ in parts)
    assert parse_offset(text) == (-seconds if sign == "-" else seconds)


@PROPERTY
@given(st.lists(PART, min_size=1, max_size=3), st.sampled_from(["+", "-"]),
       st.sampled_from(["", "now"]), ZONES, NOWS)
def test_relative_time_is_now_shifted(parts: list[tuple[int, int, str]], sign: str,
                                      base: str, tz: tzinfo, now: datetime) -> None:
    seconds = sum(n * size for n, size, _ in parts)
    shift = timedelta(seconds=-seconds if sign == "-" else seconds)
    assume(datetime(1, 1, 2, tzinfo=UTC) < now + shift < datetime(9999, 12, 30, tzinfo=UTC))
    text = base + sign + "".join(f"{n}{unit}" for n, _, unit in parts)
    moment = parse_attime(text, tz, now)
    assert moment == now + shift and moment.tzinfo is tz


@PROPERTY
@given(st.integers(0, 2**33), ZONES)
def test_epoch_seconds_are_that_instant(seconds: int, tz: tzinfo) -> None:
    text = str(seconds)
    looks_like_a_date = (len(text) == 8 and int(text[:4]) > 1900 and int(text[4:6]) < 13
                         and int(text[6:]) < 32)
    assume(not looks_like_a_date)
    assert to_epoch(parse_attime(text, tz, datetime(2020, 1, 1, tzinfo=UTC))) == seconds


@PROPERTY
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31)),
       st.sampled_from(["{H:02d}:{M:02d}_{Y:04d}{m:02d}{d:02d}",
                        "{H:02d}:{M:02d}_{m:02d}/{d:02d}/{Y:04d}", "{Y:04d}{m:02d}{d:02d}"]))
def test_absolute_times_in_utc(moment: datetime, pattern: str) -> None:
    text = pattern.format(H=moment.hour, M=moment.minute, Y=moment.year, m=moment.month,
                          d=moment.day)
    expected = moment.replace(second=0, microsecond=0, tzinfo=UTC)
    if "H" not in pattern:
        expected = expected.replace(hour=0, minute=0)
    assert parse_attime(text, UTC, datetime(2020, 1, 1, tzinfo=UTC)) == expected


HUGE = "9" * 5000  # past int()'s digit limit: a ValueError unless caught


@pytest.mark.parametrize("text", [HUGE + "s", "-" + HUGE + "min", "1h" + HUGE + "d"])
def test_huge_offsets_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_offset(text)


@pytest.mark.parametrize("text", [HUGE, "-" + HUGE + "s", "now-" + HUGE + "d", HUGE + ":00",
                                  "12:" + HUGE, "99999999999999999999d", "-99999999999y",
                                  "jan" + HUGE, "01/01/" + HUGE])
def test_huge_times_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_attime(text, UTC, datetime(2020, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("from_text, wall_clock", [("today", 0.5), ("-0s", 100.25),
                                                   ("now-0d", 7.0)])
def test_a_window_within_one_second_is_empty(from_text: str, wall_clock: float) -> None:
    """`today` at 00:00:00.5: the range is half a second, nothing in whole seconds."""
    with pytest.raises(InputError, match="empty time range"):
        time_window(from_text, None, None, UTC, wall_clock)
