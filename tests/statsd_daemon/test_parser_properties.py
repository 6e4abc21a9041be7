"""Property-based tests of the statsd parser and of whole packets through the aggregator.

The promises: no input makes `parse_line`, `decode` or `Aggregator.ingest` raise; every
invalid line is counted in `bad_lines_seen`, exactly once; and the valid lines of a
packet mixed with garbage have exactly the effect they would have alone. Valid lines are
generated with a model of their effect (integer values and power-of-two sample rates, so
the float arithmetic is exact), invalid ones from known-bad shapes and random bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statsd_daemon.aggregator import Aggregator
from statsd_daemon.parser import (
    BAD,
    COUNTER,
    EVENT,
    GAUGE,
    GAUGE_DELTA,
    SERVICE_CHECK,
    SET,
    TIMER,
    decode,
    parse_line,
)
from statsd_daemon.settings import StatsdSettings

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

KINDS = {COUNTER, TIMER, GAUGE, GAUGE_DELTA, SET, BAD, EVENT, SERVICE_CHECK}

# -- the model ------------------------------------------------------------------------


@dataclass
class Model:
    """What the valid lines of a packet must leave in the aggregator."""

    counters: dict[str, float] = field(default_factory=dict)
    timers: dict[str, list[float]] = field(default_factory=dict)
    timer_counters: dict[str, float] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)
    sets: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """A generated line: its bytes, and either its effect on a model or None (bad)."""

    text: bytes
    kind: str  # counter, timer, gauge, delta, set, bad
    key: str = ""
    value: float | str = 0.0
    rate: float = 1.0

    def apply(self, model: Model) -> None:
        if self.kind == "counter":
            model.counters[self.key] = model.counters.get(self.key, 0.0) + self.value / self.rate
        elif self.kind == "timer":
            model.timers.setdefault(self.key, []).append(self.value)
            model.timer_counters[self.key] = (model.timer_counters.get(self.key, 0.0)
                                              + 1 / self.rate)
        elif self.kind == "gauge":
            model.gauges[self.key] = self.value
        elif self.kind == "delta":
            model.gauges[self.key] = model.gauges.get(self.key, 0.0) + self.value
        elif self.kind == "set":
            model.sets.setdefault(self.key, set()).add(self.value)


NODE = st.text("abcdefghijklmnopqrstuvwxyzABC0123456789_-", min_size=1, max_size=8)
NAMES = st.lists(NODE, min_size=1, max_size=3).map(".".join)
# A small pool of names, so that lines of a packet share keys and their effects add up.
POOL = st.lists(NAMES, min_size=1, max_size=4, unique=True)
RATES = st.sampled_from([1.0, 0.5, 0.25, 0.125])
INTS = st.integers(-10_000, 10_000)
MEMBERS = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=6)


def _rate_field(rate: float) -> str:
    return "" if rate == 1.0 else f"|@{rate}"


@st.composite
def tagged_name(draw: st.DrawFn, name: str) -> tuple[str, str]:
    """A name with DogStatsD tags (as sent, as keyed): tags sorted, bare ones `=true`."""
    tags = draw(st.dictionaries(st.text("abcxyz", min_size=1, max_size=3),
                                st.one_of(st.none(), st.text("uvw019", min_size=1,
                                                             max_size=3)),
                                min_size=1, max_size=3))
    sent = ",".join(k if v is None else f"{k}:{v}" for k, v in tags.items())
    keyed = name + "".join(f";{k}={'true' if tags[k] is None else tags[k]}"
                           for k in sorted(tags))
    return sent, keyed


@st.composite
def valid_line(draw: st.DrawFn, names: list[str]) -> Line:
    name = draw(st.sampled_from(names))
    key, tags = name, ""
    if draw(st.integers(0, 4)) == 0:
        sent, key = draw(tagged_name(name))
        tags = f"|#{sent}"
    kind = draw(st.sampled_from(["counter", "timer", "gauge", "delta", "set"]))
    if kind == "counter":
        value, rate = draw(INTS), draw(RATES)
        text = f"{name}:{value}|{draw(st.sampled_from('cm'))}{_rate_field(rate)}{tags}"
        return Line(text.encode(), kind, key, float(value), rate)
    if kind == "timer":
        value, rate = draw(st.integers(0, 100_000)), draw(RATES)
        return Line(f"{name}:{value}|ms{_rate_field(rate)}{tags}".encode(), kind, key,
                    float(value), rate)
    if kind == "gauge":
        value = draw(st.integers(0, 10_000))
        return Line(f"{name}:{value}|g{tags}".encode(), kind, key, float(value))
    if kind == "delta":
        value = draw(INTS.filter(bool))
        return Line(f"{name}:{value:+d}|g{tags}".encode(), kind, key, float(value))
    member = draw(MEMBERS)
    return Line(f"{name}:{member}|s{tags}".encode(), kind, key, member)


# Lines that are refused with exactly one bad sample each, whatever their name.
BAD_SHAPES = [
    "{n}",  # no value
    "{n}:1",  # no type
    "{n}:1|",  # empty type
    "{n}:1|x",  # unknown type
    "{n}:1|kg",
    "{n}:abc|c",  # not numbers
    "{n}:|c",
    "{n}:1.2.3|ms",
    "{n}:0x10|c",
    "{n}:nan|g",
    "{n}:inf|c",
    "{n}:-Infinity|ms",
    "{n}:1e|c",
    "{n}:-5|ms",  # negative timer
    "{n}:1|c|@0",  # sample rates outside (0, 1]
    "{n}:1|c|@2",
    "{n}:1|c|@-0.5",
    "{n}:1|ms|@abc",
    "{n}:1|c|@",
    "{n}:1|c|foo",  # unknown field
    "{n}:1|c|c:container|bogus",
    ":1|c",  # no name
    "{n}..x:1|c",  # empty path nodes
    ".{n}:1|c",
    "{n}.:1|g",
    "\u00e9\u00e8:1|c",  # sanitized to nothing
    "{n}:1e999|c",  # overflows to infinity
    "{n}:-1e400|g",
]


@st.composite
def bad_line(draw: st.DrawFn, names: list[str]) -> Line:
    shape = draw(st.sampled_from(BAD_SHAPES))
    return Line(shape.format(n=draw(st.sampled_from(names))).encode(), "bad")


# Random bytes without a `:` can never be a sample: always one bad line (unless they
# start like a DogStatsD event or service check, which are skipped, not bad).
JUNK = st.binary(min_size=1, max_size=40).filter(
    lambda b: b":" not in b and b"\n" not in b and not b.startswith((b"_e{", b"_sc|")))


@st.composite
def mixed_packet(draw: st.DrawFn) -> list[Line]:
    names = draw(POOL)
    line = st.one_of(valid_line(names), valid_line(names), bad_line(names),
                     JUNK.map(lambda b: Line(b, "bad")))
    return draw(st.lists(line, max_size=30))


def _aggregator(**changes: object) -> tuple[Aggregator, list[tuple[str, str]]]:
    bad: list[tuple[str, str]] = []
    agg = Aggregator(StatsdSettings(**changes),
                     on_bad_line=lambda reason, text: bad.append((reason, text)))
    return agg, bad


def _assert_state(agg: Aggregator, model: Model) -> None:
    agg.settle()
    assert agg.counters == model.counters
    # Tallied lines are applied per distinct line at settle: order within a timer is free.
    assert {k: sorted(v) for k, v in agg.timers.items()} == {
        k: sorted(v) for k, v in model.timers.items()}
    assert agg.timer_counters == model.timer_counters
    assert agg.gauges == model.gauges
    assert agg.sets == model.sets


# -- parse_line -----------------------------------------------------------------------


@PROPERTY
@given(st.text(max_size=80))
def test_parse_line_never_raises(line: str) -> None:
    ops = parse_line(line)
    assert ops and all(len(op) == 4 and op[0] in KINDS for op in ops)
    for kind, key, _value, _weight in ops:
        if kind in (COUNTER, TIMER, GAUGE, GAUGE_DELTA, SET):
            name = key.split(";")[0]
            # whatever comes in, a key is a storable Graphite path
            assert name and "" not in name.split(".") and "/" not in name
            assert all(c.isascii() and not c.isspace() for c in key)
        if kind in (COUNTER, TIMER, GAUGE, GAUGE_DELTA):
            assert math.isfinite(_value) and math.isfinite(_weight)


@PROPERTY
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=60), st.booleans())
def test_parse_line_unsanitized_never_raises(line: str, sanitize: bool) -> None:
    assert all(op[0] in KINDS for op in parse_line(line, sanitize))


@PROPERTY
@given(st.binary(max_size=80))
def test_decode_never_raises_and_keeps_utf8(raw: bytes) -> None:
    text = decode(raw)
    assert isinstance(text, str)
    try:
        assert text == raw.decode("utf-8")
    except UnicodeDecodeError:
        assert "\ufffd" in text


@PROPERTY
@given(st.data())
def test_valid_line_parses_to_its_model(data: st.DataObject) -> None:
    line = data.draw(valid_line(data.draw(POOL)))
    ops = parse_line(decode(line.text))
    assert len(ops) == 1
    kind, key, value, weight = ops[0]
    if line.kind == "set":
        assert (kind, value, weight) == (SET, line.value, 0.0)
    else:
        assert isinstance(line.value, float)
        expected = {"counter": (COUNTER, line.value / line.rate, 0.0),
                    "timer": (TIMER, line.value, 1 / line.rate),
                    "gauge": (GAUGE, line.value, 0.0),
                    "delta": (GAUGE_DELTA, line.value, 0.0)}[line.kind]
        assert (kind, value, weight) == expected
    assert key == line.key


@PROPERTY
@given(st.data())
def test_bad_line_is_one_bad_op(data: st.DataObject) -> None:
    names = data.draw(POOL)
    line = data.draw(st.one_of(bad_line(names), JUNK.map(lambda b: Line(b, "bad"))))
    ops = parse_line(decode(line.text))
    assert [op[0] for op in ops] == [BAD]


# -- whole packets --------------------------------------------------------------------


@PROPERTY
@given(mixed_packet(), st.integers(1, 4))
def test_mixed_packets_keep_valid_lines_and_count_bad_ones(lines: list[Line],
                                                            packets: int) -> None:
    """The lines, split over `packets` datagrams and ingested twice over (the second
    time from the parse cache), leave exactly the model of the valid ones and count
    each invalid one once per time it was sent."""
    agg, logged = _aggregator()
    model = Model()
    chunks = [lines[i::packets] for i in range(packets)]
    for _ in range(2):
        for chunk in chunks:
            agg.ingest(b"\n".join(line.text for line in chunk))
            for line in chunk:
                line.apply(model)
    _assert_state(agg, model)
    bad = sum(line.kind == "bad" for line in lines)
    assert agg.bad_lines_seen == 2 * bad == len(logged)
    assert agg.metrics_received == 2 * len(lines)
    assert agg.packets_received == 2 * packets


@PROPERTY
@given(mixed_packet(), st.sampled_from([b"\n", b"\n\n", b"\n\n\n"]))
def test_empty_lines_are_neither_metrics_nor_bad(lines: list[Line], sep: bytes) -> None:
    agg, _ = _aggregator()
    agg.ingest(sep + sep.join(line.text for line in lines) + sep)
    model = Model()
    for line in lines:
        line.apply(model)
    _assert_state(agg, model)
    assert agg.bad_lines_seen == sum(line.kind == "bad" for line in lines)
    assert agg.metrics_received == len(lines)


def _reference(packets: list[bytes], sanitize: bool) -> tuple[Model, int, int, int, int]:
    """The same packets applied op by op, without the aggregator's cache and tallies."""
    model = Model()
    bad = events = checks = metrics = 0
    for packet in packets:
        for raw in packet.split(b"\n"):
            if not raw:
                continue
            metrics += 1
            for kind, key, value, weight in parse_line(decode(raw), sanitize):
                if kind == COUNTER:
                    model.counters[key] = model.counters.get(key, 0.0) + value
                elif kind == TIMER:
                    model.timers.setdefault(key, []).append(value)
                    model.timer_counters[key] = model.timer_counters.get(key, 0.0) + weight
                elif kind == GAUGE:
                    model.gauges[key] = value
                elif kind == GAUGE_DELTA:
                    model.gauges[key] = model.gauges.get(key, 0.0) + value
                elif kind == SET:
                    model.sets.setdefault(key, set()).add(value)
                elif kind == BAD:
                    bad += 1
                elif kind == EVENT:
                    events += 1
                elif kind == SERVICE_CHECK:
                    checks += 1
    return model, bad, events, checks, metrics


# Bytes biased towards the statsd syntax, so that random packets hit every branch.
STATSD_BYTES = st.lists(st.one_of(
    st.sampled_from([b":", b"|", b"|c", b"|ms", b"|g", b"|s", b"|h", b"|@0.5", b"|@", b"|#",
                     b",", b"=", b";", b".", b"..", b"+", b"-", b"1", b"2.5", b"e3", b"\n",
                     b"_e{", b"_sc|", b"a", b"b.c", b" ", b"\t", b"\r", b"\xff", b"\xc3\xa9",
                     b"/", b"|c:abc", b"|T123", b"|card:low", b"~"]),
    st.binary(max_size=3)), max_size=40).map(b"".join)


@PROPERTY
@given(st.lists(STATSD_BYTES, min_size=1, max_size=5), st.booleans(), st.integers(1, 8))
def test_any_packets_match_the_reference(packets: list[bytes], sanitize: bool,
                                         cache_limit: int) -> None:
    """Random (statsd-looking) bytes never make ingest raise, and the cache, the tallies
    and the cache being cleared when full change nothing: the state, the bad count and
    the events are those of applying every line's ops in order."""
    agg, logged = _aggregator(key_name_sanitize=sanitize)
    agg.CACHE_LIMIT = cache_limit
    for packet in packets:
        agg.ingest(packet)
    model, bad, events, checks, metrics = _reference(packets, sanitize)
    agg.settle()
    # A tally adds `value * count` where the reference adds `value` count times: equal
    # up to rounding (the generated rates are not powers of two).
    assert agg.counters == pytest.approx(model.counters, nan_ok=True)
    assert {k: sorted(v) for k, v in agg.timers.items()} == {
        k: sorted(v) for k, v in model.timers.items()}
    assert agg.timer_counters == pytest.approx(model.timer_counters, nan_ok=True)
    assert agg.gauges == model.gauges
    assert agg.sets == model.sets
    assert agg.bad_lines_seen == bad == len(logged)
    assert agg.events_received == events
    assert agg.service_checks_received == checks
    assert agg.metrics_received == metrics


@PROPERTY
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=5))
def test_random_bytes_never_raise_through_flush(packets: list[bytes]) -> None:
    agg, _ = _aggregator()
    for packet in packets:
        agg.ingest(packet)
    snapshot = agg.flush()
    assert snapshot.counters["statsd.metrics_received"] == sum(
        1 for packet in packets for line in packet.split(b"\n") if line)
    assert snapshot.counters["statsd.packets_received"] == len(packets)
