"""graphite-web 1.1.10's time grammar; every expected value below is worked out by hand.

Reference moments used throughout:
- UTC: Thursday 2015-01-01 11:00:00 UTC = 1420110000 (2015-01-01 00:00 UTC = 1420070400).
- America/New_York 2021: DST starts Sun 03-14 02:00 EST -> 03:00 EDT; ends Sun 11-07
  02:00 EDT -> 01:00 EST.  EST = UTC-5, EDT = UTC-4.
- Europe/Berlin 2021: DST starts Sun 03-28 02:00 CET -> 03:00 CEST; ends Sun 10-31
  03:00 CEST -> 02:00 CET.  CET = UTC+1, CEST = UTC+2.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from render_web.attime import (
    Window,
    localize,
    parse_attime,
    parse_offset,
    parse_timezone,
    time_window,
    to_epoch,
    unit_seconds,
)
from render_web.functions.registry import InputError


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except Exception:  # no tz database on this machine
        pytest.skip(f"time zone {name} not available")


NOW = datetime(2015, 1, 1, 11, 0, tzinfo=UTC)  # a Thursday


def utc(text: str, now: datetime = NOW, tz: tzinfo = UTC) -> datetime:
    """The parsed instant, in UTC (same-zone datetimes compare by wall clock, so compare
    instants)."""
    return parse_attime(text, tz, now).astimezone(UTC)


def u(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


# --- offsets and units ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "seconds"),
    [
        ("s", 1), ("se", 1), ("sec", 1), ("seconds", 1),
        ("min", 60), ("minute", 60), ("minutes", 60),
        ("h", 3600), ("hour", 3600), ("hours", 3600),
        ("d", 86400), ("days", 86400),
        ("w", 604800), ("weeks", 604800),
        ("mon", 2592000), ("month", 2592000), ("months", 2592000),  # 30 days
        ("y", 31536000), ("years", 31536000),  # 365 days
    ],
)  # fmt: skip
def test_unit_seconds_accepts_graphite_prefixes(unit: str, seconds: int) -> None:
    assert unit_seconds(unit) == seconds


@pytest.mark.parametrize("unit", ["m", "mi", "mo", "ms", "", "x", "q"])
def test_unit_seconds_refuses_ambiguous_or_unknown(unit: str) -> None:
    with pytest.raises(InputError, match="Invalid offset unit"):
        unit_seconds(unit)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("-1h30min", -5400),  # -(3600 + 1800)
        ("5min", 300),
        ("+2d", 172800),
        ("1mon", 2592000),
        ("-1y", -31536000),
        ("2w", 1209600),
        ("10 seconds", 10),
        ("1_H", 3600),  # underscores and case are ignored
        ("0d", 0),
        ("1d1h1min1s", 90061),  # 86400 + 3600 + 60 + 1
    ],
)
def test_parse_offset(text: str, seconds: int) -> None:
    assert parse_offset(text) == seconds


@pytest.mark.parametrize("text", ["", "-", "+", "-5m", "5", "h", "1h-30min", "1h!"])
def test_parse_offset_refuses(text: str) -> None:
    with pytest.raises(InputError):
        parse_offset(text)


# --- references in UTC ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", u(2015, 1, 1, 11)),
        ("", u(2015, 1, 1, 11)),
        ("  NOW ", u(2015, 1, 1, 11)),
        ("-", u(2015, 1, 1, 11)),  # a bare sign is a zero offset
        ("now-", u(2015, 1, 1, 11)),
        ("-1d", u(2014, 12, 31, 11)),
        ("-1h30min", u(2015, 1, 1, 9, 30)),
        ("now-1h30min", u(2015, 1, 1, 9, 30)),
        ("+1h", u(2015, 1, 1, 12)),
        ("now+1h", u(2015, 1, 1, 12)),
        ("-1w", u(2014, 12, 25, 11)),
        ("-2mon", u(2014, 11, 2, 11)),  # 60 days: Jan 1 - 31 d = Dec 1, - 29 d = Nov 2
        ("-1_D", u(2014, 12, 31, 11)),
        ("-6 hours", u(2015, 1, 1, 5)),
    ],
)
def test_now_and_offsets(text: str, expected: datetime) -> None:
    assert utc(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8:50", u(2015, 1, 1, 8, 50)),
        ("08:50", u(2015, 1, 1, 8, 50)),
        ("8:50am", u(2015, 1, 1, 8, 50)),
        ("8:50pm", u(2015, 1, 1, 20, 50)),
        ("8am", u(2015, 1, 1, 8)),
        ("10pm", u(2015, 1, 1, 22)),
        ("11AM", u(2015, 1, 1, 11)),
        ("noon", u(2015, 1, 1, 12)),
        ("midnight", u(2015, 1, 1, 0)),
        ("teatime", u(2015, 1, 1, 16)),
        # graphite's 12-hour quirks, kept: hour + 12 mod 24 for pm, am taken as is
        ("12am", u(2015, 1, 1, 12)),
        ("12pm", u(2015, 1, 1, 0)),
        ("12:30pm", u(2015, 1, 1, 0, 30)),
        ("0:05", u(2015, 1, 1, 0, 5)),
        ("13pm", u(2015, 1, 1, 1)),  # (13 + 12) % 24 = 1: accepted as 01:00, like graphite
    ],
)
def test_time_of_day_is_today(text: str, expected: datetime) -> None:
    assert utc(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday", u(2014, 12, 31)),
        ("today", u(2015, 1, 1)),
        ("tomorrow", u(2015, 1, 2)),
        ("noon yesterday", u(2014, 12, 31, 12)),  # what `noon+yesterday` is after URL decoding
        ("noon_yesterday", u(2014, 12, 31, 12)),
        ("noonyesterday", u(2014, 12, 31, 12)),
        ("6pmtomorrow", u(2015, 1, 2, 18)),
        ("3:15pm tomorrow", u(2015, 1, 2, 15, 15)),
        ("teatime today", u(2015, 1, 1, 16)),
        ("midnight tomorrow+3h", u(2015, 1, 2, 3)),
        ("yesterday-1h", u(2014, 12, 30, 23)),
    ],
)
def test_relative_days(text: str, expected: datetime) -> None:
    assert utc(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02/25/15", u(2015, 2, 25)),
        ("02/25/2015", u(2015, 2, 25)),
        ("2/5/2015", u(2015, 2, 5)),
        ("02/25/70", u(1970, 2, 25)),  # 70 + 1900
        ("02/25/69", u(2069, 2, 25)),  # 69 + 1900 = 1969 < 1970, + 100
        ("02/25/00", u(2000, 2, 25)),  # 0 + 1900 = 1900, + 100
        ("02/25/1969", u(2069, 2, 25)),  # graphite quirk: any year before 1970 gains a century
        ("12:30 02/25/2015", u(2015, 2, 25, 12, 30)),
        ("noon 02/25/2015", u(2015, 2, 25, 12)),
        ("02/25/2015+1d", u(2015, 2, 26)),
        ("20140606", u(2014, 6, 6)),
        ("04:00_20110501", u(2011, 5, 1, 4)),
        ("04:0020110501", u(2011, 5, 1, 4)),
        ("9:0020150308", u(2015, 3, 8, 9)),
        ("10pm20150308", u(2015, 3, 8, 22)),
        ("midnight20150308-1s", u(2015, 3, 7, 23, 59, 59)),
    ],
)
def test_absolute_dates(text: str, expected: datetime) -> None:
    assert utc(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("january8", u(2015, 1, 8)),
        ("jan10", u(2015, 1, 10)),
        ("Jan 10", u(2015, 1, 10)),
        ("dec25", u(2015, 12, 25)),  # the month of now's year, even in the future
        ("noon feb 3", u(2015, 2, 3, 12)),
        ("march31+1h", u(2015, 3, 31, 1)),
        ("may2020", u(2015, 5, 20)),  # only the last two characters are the day
    ],
)
def test_month_names(text: str, expected: datetime) -> None:
    assert utc(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # now is Thursday 2015-01-01: the most recent such day, today included
        ("thursday", u(2015, 1, 1)),
        ("thu", u(2015, 1, 1)),
        ("wednesday", u(2014, 12, 31)),
        ("monday", u(2014, 12, 29)),
        ("sunday", u(2014, 12, 28)),
        ("friday", u(2014, 12, 26)),
        ("saturday", u(2014, 12, 27)),
        ("noon monday", u(2014, 12, 29, 12)),
        ("monday+3h", u(2014, 12, 29, 3)),
    ],
)
def test_weekdays(text: str, expected: datetime) -> None:
    assert utc(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1420070400", u(2015, 1, 1)),
        ("0", u(1970, 1, 1)),
        ("1,420,070,400", u(2015, 1, 1)),  # commas are dropped
        ("19000101", u(1970, 8, 8, 21, 48, 21)),  # year 1900 is not > 1900, so epoch:
        # 19000101 = 219 * 86400 + 78501; day 219 after Jan 1 1970 is Aug 8; 78501 s = 21:48:21
        ("20151301", u(1970, 8, 22, 5, 35, 1)),  # month 13, so epoch:
        # 20151301 = 233 * 86400 + 20101; day 233 is Aug 22; 20101 s = 05:35:01
    ],
)
def test_epoch_seconds(text: str, expected: datetime) -> None:
    assert utc(text) == expected


def test_epoch_ignores_offsets_and_now() -> None:
    other_now = datetime(1999, 1, 1, tzinfo=UTC)
    assert utc("1420070400", other_now) == u(2015, 1, 1)


def test_result_is_in_the_requested_zone() -> None:
    new_york = _zone("America/New_York")
    result = parse_attime("1420070400", new_york, NOW)
    assert result.tzinfo is new_york
    assert (result.year, result.month, result.day, result.hour) == (2014, 12, 31, 19)
    assert result.utcoffset() == timedelta(hours=-5)


def test_naive_now_is_taken_as_wall_time_in_the_zone() -> None:
    new_york = _zone("America/New_York")
    # naive 11:00 in New York is 16:00 UTC; -1h -> 15:00 UTC
    assert utc("-1h", datetime(2015, 1, 1, 11), new_york) == u(2015, 1, 1, 15)


def test_now_in_another_zone_is_converted_first() -> None:
    new_york = _zone("America/New_York")
    # now = 2015-01-01 03:00 UTC = 2014-12-31 22:00 EST, so "today" is Dec 31 (EST)
    now = u(2015, 1, 1, 3)
    assert utc("today", now, new_york) == u(2014, 12, 31, 5)
    assert utc("now", now, new_york) == now


def test_fixed_offset_zone() -> None:
    plus_two = timezone(timedelta(hours=2))
    # now 11:00 UTC = 13:00 +02:00; midnight +02:00 = 22:00 UTC the day before
    assert utc("midnight", NOW, plus_two) == u(2014, 12, 31, 22)


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # 2016-02-29: offsets are fixed lengths, not calendar arithmetic
        (u(2016, 2, 29), "-1year", u(2015, 3, 1)),  # 365 days before
        (u(2016, 2, 29), "-4years", u(2012, 3, 1)),  # 1460 days, crossing 2012-02-29
        (u(2016, 2, 29), "-1month", u(2016, 1, 30)),  # 30 days
        (u(2013, 2, 28), "-1year", u(2012, 2, 29)),
        (u(2013, 2, 28), "-4years", u(2009, 3, 1)),
        (u(2013, 2, 28), "-1month", u(2013, 1, 29)),
    ],
)
def test_leap_years(now: datetime, text: str, expected: datetime) -> None:
    assert utc(text, now) == expected


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("-5m", "Invalid offset unit 'm'"),
        ("now-5m", "Invalid offset unit 'm'"),
        ("-1d2", "Invalid offset unit ''"),
        ("now-d", "Invalid offset"),
        ("now-1d+2h", "Unknown day reference: now-1d"),  # split at the first '+'
        ("noon+yesterday", "Invalid offset"),  # a literal '+' starts the offset
        ("random", "Unknown day reference: random"),
        (":", "Unknown day reference: :"),
        ("nowyesterday", "Unknown day reference"),
        ("january", "Day of month required after month name"),
        ("january800", "day is out of range"),  # day "00"
        ("feb30", "day is out of range"),
        ("20110230", "day is out of range"),  # YYYYMMDD-looking, so not an epoch
        ("13/01/2015", "month must be in 1..12"),
        ("02/xx/2015", "date is not a number"),
        ("25:00", "hour must be in 0..23"),
        ("10:61", "minute must be in 0..59"),
        ("1:5pm", "minute is not a number"),
        ("x9am", "hour is not a number"),
        ("99999999999999999999", "Invalid time"),  # beyond datetime's range
        ("-100000000y", "Invalid time"),
    ],
)
def test_errors_name_the_text(text: str, detail: str) -> None:
    with pytest.raises(InputError, match=re.escape(f"Invalid time {text!r}")) as caught:
        parse_attime(text, UTC, NOW)
    assert detail in str(caught.value)


# --- DST: America/New_York ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # now = Sun 2021-03-14 12:00 EDT = 16:00 UTC (DST began at 02:00 EST that morning)
        ("now", u(2021, 3, 14, 16)),
        ("midnight", u(2021, 3, 14, 5)),  # 00:00 EST
        ("midnight+3h", u(2021, 3, 14, 8)),  # 3 real hours later: 04:00 EDT on the wall
        ("-1d", u(2021, 3, 13, 16)),  # 24 real hours: 11:00 EST on the wall
        ("yesterday", u(2021, 3, 13, 5)),  # 00:00 EST
        ("noon yesterday", u(2021, 3, 13, 17)),  # 12:00 EST
        ("tomorrow", u(2021, 3, 15, 4)),  # 00:00 EDT
        ("1:59", u(2021, 3, 14, 6, 59)),  # still EST
        ("3:00", u(2021, 3, 14, 7)),  # first EDT minute
        ("2:30", u(2021, 3, 14, 7, 30)),  # skipped wall time: EST offset kept (03:30 EDT)
        ("saturday", u(2021, 3, 13, 5)),
        ("03/14/2021", u(2021, 3, 14, 5)),
        ("noon03/13/2021", u(2021, 3, 13, 17)),
    ],
)
def test_new_york_spring_forward(text: str, expected: datetime) -> None:
    new_york = _zone("America/New_York")
    now = datetime(2021, 3, 14, 12, tzinfo=new_york)
    assert utc(text, now, new_york) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # now = Sun 2021-11-07 12:00 EST = 17:00 UTC (DST ended at 02:00 EDT that morning)
        ("midnight", u(2021, 11, 7, 4)),  # 00:00 EDT
        ("1:30", u(2021, 11, 7, 6, 30)),  # happens twice: the standard-time one (EST)
        ("0:59", u(2021, 11, 7, 4, 59)),  # EDT
        ("2:00", u(2021, 11, 7, 7)),  # EST
        ("-1d", u(2021, 11, 6, 17)),  # 24 real hours: 13:00 EDT on the wall
        ("noon yesterday", u(2021, 11, 6, 16)),  # 12:00 EDT
        ("midnight+3h", u(2021, 11, 7, 7)),  # 3 real hours: 02:00 EST on the wall
    ],
)
def test_new_york_fall_back(text: str, expected: datetime) -> None:
    new_york = _zone("America/New_York")
    now = datetime(2021, 11, 7, 12, tzinfo=new_york)
    assert utc(text, now, new_york) == expected


def test_new_york_wall_clock_of_results() -> None:
    new_york = _zone("America/New_York")
    now = datetime(2021, 3, 14, 12, tzinfo=new_york)
    four_edt = parse_attime("midnight+3h", new_york, now)
    assert (four_edt.hour, four_edt.utcoffset()) == (4, timedelta(hours=-4))
    skipped = parse_attime("2:30", new_york, now)  # normalised like pytz: 03:30 EDT
    assert (skipped.hour, skipped.minute, skipped.utcoffset()) == (3, 30, timedelta(hours=-4))


# --- DST: Europe/Berlin ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # now = Sun 2021-03-28 12:00 CEST = 10:00 UTC
        ("midnight", u(2021, 3, 27, 23)),  # 00:00 CET
        ("2:30", u(2021, 3, 28, 1, 30)),  # skipped: CET offset kept (03:30 CEST)
        ("3:00", u(2021, 3, 28, 1)),  # CEST
        ("midnight+6h", u(2021, 3, 28, 5)),  # 07:00 CEST on the wall
        ("-1d", u(2021, 3, 27, 10)),  # 11:00 CET on the wall
        ("yesterday", u(2021, 3, 26, 23)),  # 00:00 CET
        ("noon yesterday", u(2021, 3, 27, 11)),  # 12:00 CET
        ("tomorrow", u(2021, 3, 28, 22)),  # 00:00 CEST
    ],
)
def test_berlin_spring_forward(text: str, expected: datetime) -> None:
    berlin = _zone("Europe/Berlin")
    now = datetime(2021, 3, 28, 12, tzinfo=berlin)
    assert utc(text, now, berlin) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # now = Sun 2021-10-31 12:00 CET = 11:00 UTC
        ("midnight", u(2021, 10, 30, 22)),  # 00:00 CEST
        ("2:30", u(2021, 10, 31, 1, 30)),  # happens twice: the CET one
        ("1:59", u(2021, 10, 30, 23, 59)),  # CEST
        ("sunday", u(2021, 10, 30, 22)),  # today, 00:00 CEST
        ("saturday", u(2021, 10, 29, 22)),  # 00:00 CEST
        ("-1d", u(2021, 10, 30, 11)),  # 13:00 CEST on the wall
        ("noon yesterday", u(2021, 10, 30, 10)),  # 12:00 CEST
    ],
)
def test_berlin_fall_back(text: str, expected: datetime) -> None:
    berlin = _zone("Europe/Berlin")
    now = datetime(2021, 10, 31, 12, tzinfo=berlin)
    assert utc(text, now, berlin) == expected


def test_midnight_that_never_happened() -> None:
    # Sao Paulo began DST on 2018-11-04 at 00:00 (-03) -> 01:00 (-02): 00:00 was skipped,
    # so it keeps the -03 offset: 03:00 UTC
    sao_paulo = _zone("America/Sao_Paulo")
    now = datetime(2018, 11, 4, 12, tzinfo=sao_paulo)
    assert utc("midnight", now, sao_paulo) == u(2018, 11, 4, 3)
    assert utc("today", now, sao_paulo) == u(2018, 11, 4, 3)


# --- localize -----------------------------------------------------------------------------


def test_localize_ordinary_skipped_and_repeated_times() -> None:
    new_york = _zone("America/New_York")
    ordinary = localize(datetime(2021, 6, 1, 12), new_york)
    assert ordinary.astimezone(UTC) == u(2021, 6, 1, 16)  # EDT
    skipped = localize(datetime(2021, 3, 14, 2, 30), new_york)
    assert skipped.astimezone(UTC) == u(2021, 3, 14, 7, 30)  # EST offset
    repeated = localize(datetime(2021, 11, 7, 1, 30), new_york)
    assert repeated.astimezone(UTC) == u(2021, 11, 7, 6, 30)  # EST occurrence
    repeated_fold1 = localize(datetime(2021, 11, 7, 1, 30, fold=1), new_york)
    assert repeated_fold1.astimezone(UTC) == u(2021, 11, 7, 6, 30)


def test_localize_fixed_zones() -> None:
    assert localize(datetime(2021, 3, 14, 2, 30), UTC) == u(2021, 3, 14, 2, 30)


def test_to_epoch_rounds_down() -> None:
    assert to_epoch(u(2015, 1, 1)) == 1420070400
    assert to_epoch(datetime(2015, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)) == 1420070400
    assert to_epoch(datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)) == -1


# --- parse_timezone ---------------------------------------------------------------------------


def test_parse_timezone_known_names() -> None:
    new_york = _zone("America/New_York")
    assert parse_timezone("America/New_York", UTC) == new_york
    assert parse_timezone("america/new_york", UTC) == new_york  # pytz is case-insensitive
    assert parse_timezone("AMERICA/NEW_YORK", UTC) == new_york


def test_parse_timezone_utc_any_case() -> None:
    berlin = _zone("Europe/Berlin")
    for name in ("UTC", "utc", "Utc"):
        zone = parse_timezone(name, berlin)
        assert zone.utcoffset(datetime(2021, 7, 1)) == timedelta(0)
        assert zone is not berlin


def test_parse_timezone_plus_minus_spelling() -> None:
    gmt_plus_5 = _zone("Etc/GMT+5")
    assert parse_timezone("Etc/GMT_plus_5", UTC) == gmt_plus_5
    assert parse_timezone("Etc/GMT_minus_3", UTC) == _zone("Etc/GMT-3")


@pytest.mark.parametrize("name", [None, "", "Nowhere/City", "../etc/passwd", "/etc/localtime"])
def test_parse_timezone_unknown_falls_back(name: str | None) -> None:
    berlin = _zone("Europe/Berlin")
    assert parse_timezone(name, berlin) is berlin


# --- time_window --------------------------------------------------------------------------------

WALL = 1420110000.5  # 2015-01-01 11:00:00.5 UTC


def test_window_defaults() -> None:
    window = time_window(None, None, None, UTC, WALL)
    # from -1d: 1420110000.5 - 86400 = 1420023600.5 -> 1420023600; until = now -> 1420110000
    assert window == Window(start=1420023600, end=1420110000, now=1420110000, tz=UTC)


def test_window_from_and_until() -> None:
    window = time_window("-1h", "now", None, UTC, WALL)
    assert (window.start, window.end) == (1420106400, 1420110000)  # 11:00 - 3600
    window = time_window("1420070400", "1420074000", None, UTC, WALL)
    assert (window.start, window.end, window.now) == (1420070400, 1420074000, 1420110000)


def test_window_swaps_a_reversed_range() -> None:
    window = time_window("now", "-1h", None, UTC, WALL)
    assert (window.start, window.end) == (1420106400, 1420110000)


@pytest.mark.parametrize(
    ("from_text", "until_text"), [("now", None), ("", None), ("-1h", "-60min"), ("now", "")]
)
def test_window_refuses_an_empty_range(from_text: str, until_text: str | None) -> None:
    with pytest.raises(InputError, match="Invalid empty time range"):
        time_window(from_text, until_text, None, UTC, WALL)


def test_window_now_parameter() -> None:
    # now = 2015-01-01 00:00 UTC; until defaults to it, from -1d is a day before
    window = time_window(None, None, "1420070400", UTC, WALL)
    assert window == Window(start=1419984000, end=1420070400, now=1420070400, tz=UTC)


def test_window_relative_now_is_relative_to_the_wall_clock() -> None:
    # now = wall - 1h = 10:00:00.5; "midnight" of that day = 1420070400
    window = time_window("midnight", None, "-1h", UTC, WALL)
    assert window == Window(start=1420070400, end=1420106400, now=1420106400, tz=UTC)


def test_window_in_a_zone() -> None:
    new_york = _zone("America/New_York")
    # wall 11:00 UTC = 06:00 EST; midnight EST = 05:00 UTC = 1420088400
    window = time_window("midnight", None, None, new_york, WALL)
    assert window == Window(start=1420088400, end=1420110000, now=1420110000, tz=new_york)


def test_window_compares_instants_in_the_repeated_hour() -> None:
    new_york = _zone("America/New_York")
    # wall = 2021-11-07 06:40 UTC = 01:40 EST (the second 01:xx hour).
    # from "1:30" = 01:30 EST = 06:30 UTC; until "-1h" = 05:40 UTC = 01:40 EDT.
    # By wall clock 01:30 < 01:40, but as instants until is earlier, so they are swapped.
    wall = datetime(2021, 11, 7, 6, 40, tzinfo=UTC).timestamp()
    window = time_window("1:30", "-1h", None, new_york, wall)
    assert (window.start, window.end) == (
        to_epoch(u(2021, 11, 7, 5, 40)),
        to_epoch(u(2021, 11, 7, 6, 30)),
    )


def test_window_errors_name_the_text() -> None:
    with pytest.raises(InputError, match="'bogus'"):
        time_window("bogus", None, None, UTC, WALL)
    with pytest.raises(InputError, match="'-5m'"):
        time_window(None, "-5m", None, UTC, WALL)
    with pytest.raises(InputError, match="'later'"):
        time_window(None, None, "later", UTC, WALL)


def test_window_is_frozen() -> None:
    window = time_window(None, None, None, UTC, WALL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.start = 0  # type: ignore[misc]
