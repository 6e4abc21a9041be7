"""Property-based tests of carbon's intake: plaintext lines and pickle frames.

The promises: no line or frame makes the intake raise; every refused line, frame or
pickled tuple is counted in `bad_lines`, exactly once; and the valid points of input
mixed with garbage come out exactly, in order, whichever path (the fast path for known
names or the full parser) a line takes.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbon_store.cache import MetricCache
from carbon_store.intake import Intake
from carbon_store.names import MAX_NODE_BYTES

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
NOW = 1_700_000_000.75  # a point at timestamp -1 is stored at int(NOW)


def make(name_cache_limit: int | None = None) -> tuple[Intake, list[str]]:
    reasons: list[str] = []
    intake = Intake(MetricCache(), lambda: NOW, on_bad=lambda why, _text: reasons.append(why))
    if name_cache_limit is not None:
        intake.NAME_CACHE_LIMIT = name_cache_limit
    return intake, reasons


Point = tuple[str, float, float]


@dataclass(frozen=True)
class Sample:
    """A generated line or pickled tuple, with the point it must give (None: refused)."""

    data: object
    point: Point | None


# -- names ----------------------------------------------------------------------------

NODE = st.text("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-\u00e9", min_size=1, max_size=8)
PATHS = st.lists(NODE, min_size=1, max_size=4).map(".".join)
TAG = st.text("abcdefkz", min_size=1, max_size=3)
TAG_VALUE = st.text("uvw019.-", min_size=1, max_size=3)


@st.composite
def valid_name(draw: st.DrawFn) -> tuple[str, str]:
    """(as sent, as normalized): a path, or a tagged series whose tags get sorted."""
    path = draw(PATHS)
    if draw(st.booleans()):
        return path, path
    tags = draw(st.lists(st.tuples(TAG, TAG_VALUE), min_size=1, max_size=4))
    last = dict(tags)  # the last value given for a tag wins
    sent = path + "".join(f";{k}={v}" for k, v in tags)
    return sent, path + "".join(f";{k}={last[k]}" for k in sorted(last))


BAD_NAMES = st.sampled_from([
    "a..b", ".a", "a.", "..", "../../etc/passwd", "a/b", "/abs", "a.b/..", "a\x00b",
    "x" * (MAX_NODE_BYTES + 1), "a." + "y" * (MAX_NODE_BYTES + 1),
    "a;b", "a;=v", "a;k=", "a;k=~v", "a;k!=v", ";k=v", "~;k=v",
])

# -- plaintext ------------------------------------------------------------------------

SPACE = st.text(" \t", min_size=1, max_size=3)
EDGE = st.text(" \t", max_size=2)
FINITE = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.integers(-(10**15), 10**15))


def _join(draw: st.DrawFn, fields: list[str]) -> bytes:
    text = draw(EDGE)
    for i, field in enumerate(fields):
        text += field + (draw(SPACE) if i < len(fields) - 1 else "")
    text += draw(st.sampled_from(["", "\r", " ", "\t"]))
    return text.encode("utf-8")


@st.composite
def valid_line(draw: st.DrawFn, names: list[tuple[str, str]]) -> Sample:
    sent, normalized = draw(st.sampled_from(names))
    value = draw(FINITE)
    stamp = draw(st.one_of(st.integers(0, 2**32 - 1), st.just(-1),
                           st.floats(0, 2**32 - 1, exclude_max=True)))
    expected_stamp = float(int(NOW)) if stamp == -1 else float(stamp)
    line = _join(draw, [sent, repr(value), repr(stamp)])
    return Sample(line, (normalized, expected_stamp, float(value)))


@st.composite
def bad_line(draw: st.DrawFn, names: list[tuple[str, str]]) -> Sample:
    name = draw(st.sampled_from(names))[0]
    shape = draw(st.sampled_from([
        [name], [name, "1"], [name, "1", "2", "3"], [name, "1", "2", "3", "4"],
        [name, "x", "100"], [name, "1,5", "100"], [name, "0x10", "100"],
        [name, "nan", "100"], [name, "inf", "100"], [name, "-Infinity", "100"],
        [name, "1e999", "100"], [name, "1", "nan"], [name, "1", "inf"], [name, "1", "-5"],
        [name, "1", "-1.5"], [name, "1", str(2**32)], [name, "1", "1e20"], [name, "1", "y"],
        [draw(BAD_NAMES), "1", "100"],
    ]))
    line = _join(draw, shape)
    if draw(st.integers(0, 9)) == 0:
        line = b"\xff" + line  # not UTF-8
    return Sample(line, None)


def _one_word(raw: bytes) -> bool:
    """No whitespace of any kind: a single field, whatever decodes it."""
    if len(raw.split()) != 1:
        return False
    try:
        return len(raw.decode("utf-8").split()) == 1
    except UnicodeDecodeError:
        return True


JUNK = st.binary(min_size=1, max_size=30).filter(_one_word).map(lambda b: Sample(b, None))
BLANK = st.text(" \t\r\x0b\x0c", max_size=3).map(lambda t: Sample(t.encode(), None))


@st.composite
def mixed_lines(draw: st.DrawFn) -> list[Sample]:
    names = draw(st.lists(valid_name(), min_size=1, max_size=4))
    return draw(st.lists(st.one_of(valid_line(names), valid_line(names), bad_line(names),
                                   JUNK, BLANK), max_size=30))


def _is_blank(sample: Sample) -> bool:
    return isinstance(sample.data, bytes) and not sample.data.split()


@PROPERTY
@given(mixed_lines(), st.sampled_from([None, 1, 2]))
def test_mixed_lines_keep_valid_points_and_count_bad_ones(samples: list[Sample],
                                                           name_cache: int | None) -> None:
    """Twice over: the first pass learns the names, the second takes the fast path."""
    intake, reasons = make(name_cache)
    expected = [s.point for s in samples if s.point is not None]
    bad = sum(s.point is None and not _is_blank(s) for s in samples)
    lines = [s.data for s in samples]
    for rounds in (1, 2):
        assert intake.parse_lines(lines) == expected
        assert intake.bad_lines == rounds * bad == len(reasons)
        assert intake.received == rounds * len(expected)


@PROPERTY
@given(mixed_lines())
def test_lines_reach_the_cache(samples: list[Sample]) -> None:
    intake, _ = make()
    intake.lines([s.data for s in samples])
    expected: dict[str, dict[float, float]] = {}
    for sample in samples:
        if sample.point is not None:
            name, stamp, value = sample.point
            expected.setdefault(name, {})[stamp] = value  # the last value of a stamp wins
    assert intake.cache.size == sum(s.point is not None for s in samples)
    assert {name: dict(intake.cache.get(name)) for name in expected} == expected
    assert intake.dropped == 0


# Bytes biased towards the plaintext syntax.
CARBON_BYTES = st.lists(st.one_of(
    st.sampled_from([b" ", b"\t", b"a", b"a.b", b".", b"..", b"/", b";", b"=", b"k=v", b"~",
                     b"1", b"-1", b"2.5", b"e9", b"nan", b"inf", b"\xff", b"\xc2\xa0",
                     b"\xc2\x85", b"\xe2\x80\x83", b"\x1c", b"\x00", b"_", b"\r", b"\x0b",
                     b"\xd9\xa1", b"4294967296", b"-0"]),
    st.binary(max_size=3)), max_size=20).map(b"".join)


@PROPERTY
@given(st.lists(CARBON_BYTES, max_size=20), st.sampled_from([None, 1, 3]))
def test_any_lines_never_raise_and_the_fast_path_agrees(lines: list[bytes],
                                                        name_cache: int | None) -> None:
    """Whatever the bytes, a second pass (names now known: the fast path) gives the same
    points and refuses the same number of lines as the first; every point is finite
    and in range, and every line is either a point, refused, or blank."""
    intake, _ = make(name_cache)
    first = intake.parse_lines(lines)
    bad = intake.bad_lines
    blank = sum(not line.split() for line in lines)
    assert len(first) + bad + blank == len(lines)
    for _name, stamp, value in first:
        assert math.isfinite(value) and 0 <= stamp < 2**32
    assert intake.parse_lines(lines) == first
    assert intake.bad_lines == 2 * bad
    fresh, _ = make()
    assert [p for line in lines for p in fresh.parse_lines([line])] == first


# -- pickle ---------------------------------------------------------------------------

PICKLE_NUMBERS = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda n: (n, float(n))),
    st.floats(0, 2**32 - 1, exclude_max=True).map(lambda f: (f, f)),
    st.integers(0, 2**32 - 1).map(lambda n: (str(n), float(n))),
    st.integers(0, 2**32 - 1).map(lambda n: (str(n).encode(), float(n))),
    st.just((-1, float(int(NOW)))),
)
PICKLE_VALUES = st.one_of(
    FINITE.map(lambda v: (v, float(v))),
    FINITE.map(lambda v: (repr(v), float(v))),
    FINITE.map(lambda v: (repr(v).encode(), float(v))),
)


@st.composite
def valid_tuple(draw: st.DrawFn, names: list[tuple[str, str]]) -> Sample:
    sent, normalized = draw(st.sampled_from(names))
    name: str | bytes = sent.encode() if draw(st.booleans()) else sent
    stamp, expected_stamp = draw(PICKLE_NUMBERS)
    value, expected_value = draw(PICKLE_VALUES)
    pair: tuple | list = (stamp, value) if draw(st.booleans()) else [stamp, value]
    item: tuple | list = (name, pair) if draw(st.booleans()) else [name, pair]
    return Sample(item, (normalized, expected_stamp, expected_value))


@st.composite
def bad_tuple(draw: st.DrawFn, names: list[tuple[str, str]]) -> Sample:
    name = draw(st.sampled_from(names))[0]
    item = draw(st.sampled_from([
        (name,), (name, (1,)), (name, (1, 2, 3)), (name, 1), (name, None), (name, "ab"),
        (name, (1, 2), 3), (), None, 5, 2.5, "abc", b"xyz", [name, [1]],
        (5, (1, 2)), (None, (1, 2)), ([name], (1, 2)), (name, (1, None)), (name, (None, 1)),
        (name, (True, 1)), (name, (1, False)), (name, ("x", 1)), (name, (1, "y")),
        (name, (1, [2])), (name, (1, float("nan"))), (name, (1, float("inf"))),
        (name, (1, "-inf")), (name, (1, b"nan")), (name, (float("nan"), 1)), (name, (-5, 1)),
        (name, (2**32, 1)), (name, (1e300, 1)), (name, (1, 10**400)),
        ("a.\ud800", (1, 2)), ("\udcff;k=v", (1, 2)),  # lone surrogates: no file name
        (draw(BAD_NAMES), (1, 2)), (draw(BAD_NAMES).encode(), (1, 2)),
    ]))
    return Sample(item, None)


@st.composite
def mixed_frame(draw: st.DrawFn) -> list[Sample]:
    names = draw(st.lists(valid_name(), min_size=1, max_size=4))
    return draw(st.lists(st.one_of(valid_tuple(names), valid_tuple(names), bad_tuple(names)),
                         max_size=25))


@PROPERTY
@given(mixed_frame(), st.integers(0, pickle.HIGHEST_PROTOCOL), st.booleans())
def test_mixed_frames_keep_valid_points_and_count_bad_tuples(
        samples: list[Sample], protocol: int, as_tuple: bool) -> None:
    intake, reasons = make()
    items = [s.data for s in samples]
    payload = pickle.dumps(tuple(items) if as_tuple else items, protocol=protocol)
    expected = [s.point for s in samples if s.point is not None]
    for rounds in (1, 2):
        assert intake.parse_pickle(payload) == expected
        assert intake.bad_lines == rounds * (len(samples) - len(expected)) == len(reasons)
        assert intake.received == rounds * len(expected)


@PROPERTY
@given(mixed_frame(), st.integers(0, pickle.HIGHEST_PROTOCOL), st.data())
def test_truncated_frame_is_one_bad_frame(samples: list[Sample], protocol: int,
                                          data: st.DataObject) -> None:
    """A strict prefix of a pickle never holds its STOP opcode: refused whole, once."""
    payload = pickle.dumps([s.data for s in samples], protocol=protocol)
    cut = data.draw(st.integers(0, len(payload) - 1))
    intake, reasons = make()
    assert intake.parse_pickle(payload[:cut]) == []
    assert intake.bad_lines == 1 == len(reasons) and intake.received == 0


@PROPERTY
@given(st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                 st.binary(max_size=5), st.dictionaries(st.text(max_size=3), st.integers(),
                                                        max_size=3)),
       st.integers(0, pickle.HIGHEST_PROTOCOL))
def test_frame_that_is_not_a_list_is_one_bad_frame(payload: object, protocol: int) -> None:
    intake, _ = make()
    points = intake.parse_pickle(pickle.dumps(payload, protocol=protocol))
    assert points == [] and intake.bad_lines == 1


@PROPERTY
@given(st.binary(max_size=300))
def test_random_frames_never_raise(payload: bytes) -> None:
    intake, _ = make()
    points = intake.parse_pickle(payload)
    for _name, stamp, value in points:
        assert math.isfinite(value) and 0 <= stamp < 2**32
    assert intake.received == len(points)


@PROPERTY
@given(mixed_frame(), st.integers(0, pickle.HIGHEST_PROTOCOL), st.data())
def test_mutated_frames_never_raise(samples: list[Sample], protocol: int,
                                    data: st.DataObject) -> None:
    """A real frame with a few bytes changed: anything may come out but an exception."""
    payload = bytearray(pickle.dumps([s.data for s in samples], protocol=protocol))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(payload) - 1))
        payload[at] = data.draw(st.integers(0, 255))
    intake, _ = make()
    for name, stamp, value in intake.parse_pickle(bytes(payload)):
        name.encode("utf-8")  # every accepted name can become a file name
        assert math.isfinite(value) and 0 <= stamp < 2**32
