"""client.core: names, values, tags, lines and packing, checked against the daemon's parser."""

from __future__ import annotations

import itertools
import random
import string
from collections import OrderedDict
from datetime import timedelta
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction

import pytest

from client import core
from statsd_daemon import parser


@pytest.mark.parametrize(("raw", "clean"), [
    ("a.b.c", "a.b.c"),
    ("a b", "a_b"),
    ("a \t\n b", "a_b"),
    ("a/b", "a-b"),
    ("a:b|c@d#e", "abcde"),
    ("café.latte", "caf.latte"),
    ("a;tag=v", "a;tag=v"),
    ("UPPER_lower-09", "UPPER_lower-09"),
    ("", ""),
    ("!!!", ""),
    ("api.3_0.endpoint_request.users", "api.3_0.endpoint_request.users"),
])
def test_sanitize_name(raw, clean):
    assert core.sanitize_name(raw) == clean
    assert parser.sanitize_key(raw) == clean


def test_sanitize_name_is_the_daemons_rule_on_random_text():
    rng = random.Random(7)
    alphabet = string.printable + "éü€\u00a0\u2003;=/"
    for _ in range(3000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        assert core.sanitize_name(raw) == parser.sanitize_key(raw), raw


@pytest.mark.parametrize(("name", "valid"), [
    ("a", True), ("a.b", True), ("a;x=y", True), ("a.b;x=y;z=w", True),
    ("", False), (".a", False), ("a.", False), ("a..b", False), (";x=y", False),
    (".", False), ("a.;x=y", False),
])
def test_valid_name_is_what_the_daemon_accepts(name, valid):
    assert core.valid_name(name) is valid
    try:
        parser.metric_key(name, [])
    except ValueError:
        accepted = False
    else:
        accepted = True
    assert accepted is valid


@pytest.mark.parametrize(("prefix", "clean"), [
    (None, ""), ("", ""), ("web", "web."), ("web.", "web."), (".web.", "web."),
    ("my app", "my_app."), ("...", ""), ("a.b", "a.b."),
])
def test_clean_prefix(prefix, clean):
    assert core.clean_prefix(prefix) == clean


def test_metric_name():
    assert core.metric_name("", "a b") == "a_b"
    assert core.metric_name("web.", "hits") == "web.hits"
    assert core.metric_name("web.", "") is None
    assert core.metric_name("", "a..b") is None
    assert core.metric_name("", "é") is None
    assert core.metric_name("", 42) is None
    assert core.metric_name("", None) is None


class Level(IntEnum):
    HIGH = 3


@pytest.mark.parametrize(("value", "text"), [
    (1, "1"), (-3, "-3"), (0, "0"), (10**20, "100000000000000000000"),
    (2.5, "2.5"), (-0.5, "-0.5"), (1e-07, "1e-07"), (1e22, "1e+22"), (3.0, "3.0"),
    (True, "1"), (False, "0"), (Level.HIGH, "3"),
    (Decimal("1.25"), "1.25"), (Fraction(1, 4), "0.25"), ("7", "7.0"),
    (float("nan"), None), (float("inf"), None), (float("-inf"), None),
    (None, None), ("x", None), ([1], None), (Decimal("NaN"), None),
])
def test_format_number(value, text):
    assert core.format_number(value) == text


def test_formatted_numbers_parse_back_exactly():
    rng = random.Random(3)
    for _ in range(2000):
        value = rng.choice([rng.uniform(-1e6, 1e6), rng.randint(-10**9, 10**9),
                            rng.expovariate(1) * 10 ** rng.randint(-12, 25)])
        text = core.format_number(value)
        ops = parser.parse_line(f"x:{text}|g")
        assert ops[0][0] in (parser.GAUGE, parser.GAUGE_DELTA), text
        assert ops[0][2] == float(value)


def test_milliseconds():
    assert core.milliseconds(timedelta(milliseconds=320)) == 320.0
    assert core.milliseconds(timedelta(seconds=1, microseconds=5)) == 1000.005
    assert core.milliseconds(timedelta(minutes=2)) == 120000.0
    assert core.milliseconds(12) == 12
    assert core.milliseconds(1.5) == 1.5


@pytest.mark.parametrize(("member", "text"), [
    ("alice", "alice"), ("a:b|c\nd", "a_b_c_d"), (42, "42"), ("é x", "é x"), ("", ""),
])
def test_format_member(member, text):
    assert core.format_member(member) == text


@pytest.mark.parametrize(("rate", "text"), [
    (1, ""), (1.0, ""), (2, ""), (0.5, "|@0.5"), (0.1, "|@0.1"), (1e-05, "|@1e-05"),
])
def test_format_rate(rate, text):
    assert core.format_rate(rate) == text


@pytest.mark.parametrize(("tag", "parts"), [
    ("k:v", ("k", "v")), ("k=v", ("k", "v")), ("k", ("k", None)), ("k:v=w", ("k", "v=w")),
    ("k=v:w", ("k", "v:w")), (":v", ("", "v")), ("k:", ("k", "")),
])
def test_split_tag(tag, parts):
    assert core.split_tag(tag) == parts


@pytest.mark.parametrize(("tags", "normal"), [
    (None, {}), ([], {}), ({}, {}),
    (["env:prod", "bare"], {"env": "prod", "bare": None}),
    ({"env": "prod", "n": 3, "bare": None}, {"env": "prod", "n": "3", "bare": None}),
    ("env:prod", {"env": "prod"}),
    (["a b:c d", "x/y:u/v", "k;1:v;2"], {"a_b": "c_d", "x-y": "u-v", "k_1": "v_2"}),
    (["ü:é", ":v", "k:", "k2:~x"], {"k": None, "k2": "x"}),
    (["k:1", "k:2"], {"k": "2"}),
    (("t:1", "u=2"), {"t": "1", "u": "2"}),
    (["v:a=b"], {"v": "a=b"}),
])
def test_normalize_tags(tags, normal):
    assert core.normalize_tags(tags) == normal


def test_merge_tags_per_call_wins_and_constant_tags_are_not_changed():
    constant = core.normalize_tags({"env": "prod", "app": "api"})
    merged = core.merge_tags(constant, ["env:dev", "host:h1"])
    assert merged == {"env": "dev", "app": "api", "host": "h1"}
    assert list(merged) == ["env", "app", "host"]
    assert constant == {"env": "prod", "app": "api"}
    assert core.merge_tags(constant, None) == constant
    assert core.merge_tags({}, {"a": 1}) == {"a": "1"}


@pytest.mark.parametrize(("tags", "text"), [
    ({}, ""), ({"a": "b"}, "|#a:b"), ({"a": "b", "c": None}, "|#a:b,c"),
    (OrderedDict([("z", "1"), ("a", "2")]), "|#z:1,a:2"),
])
def test_format_tags(tags, text):
    assert core.format_tags(tags) == text


def test_format_line():
    assert core.format_line("a.b", "1", "c") == "a.b:1|c"
    assert core.format_line("a", "5", "ms", 0.5, "|#k:v") == "a:5|ms|@0.5|#k:v"
    assert core.format_line("a", "5", "h", 1, "") == "a:5|h"


@pytest.mark.parametrize(("value", "delta", "lines"), [
    (5, False, "g:5|g"), (0, False, "g:0|g"), (-5, False, "g:0|g\ng:-5|g"),
    (2.5, False, "g:2.5|g"), (5, True, "g:+5|g"), (0, True, "g:+0|g"),
    (-5, True, "g:-5|g"), (-0.5, False, "g:0|g\ng:-0.5|g"),
    (float("nan"), False, None), ("x", True, None),
])
def test_gauge_lines(value, delta, lines):
    assert core.gauge_lines("g", value, delta, "") == lines


def test_gauge_lines_put_the_suffix_on_every_line():
    assert core.gauge_lines("g", -1, False, "|#k:v") == "g:0|g|#k:v\ng:-1|g|#k:v"


def test_gauges_mean_what_the_daemon_reads():
    """An absolute gauge ends at its value whatever the gauge held (a negative one is
    set to 0, then changed by the value); a delta changes it."""
    for value, delta, before, after in [
        (-5, False, 12.0, -5.0), (7, False, 12.0, 7.0), (5, True, 12.0, 17.0),
        (-5, True, 12.0, 7.0), (-0.25, False, -3.0, -0.25),
    ]:
        gauge = before
        for line in core.gauge_lines("g", value, delta, "").split("\n"):
            for kind, _, number, _ in parser.parse_line(line):
                assert kind in (parser.GAUGE, parser.GAUGE_DELTA)
                gauge = number if kind == parser.GAUGE else gauge + number
        assert gauge == after


def test_pack_fills_packets_in_order_up_to_the_limit():
    lines = [b"a:1|c", b"bb:2|c", b"ccc:3|c"]  # 5, 6 and 7 bytes
    assert core.pack(lines, 100) == [b"a:1|c\nbb:2|c\nccc:3|c"]
    assert core.pack(lines, 12) == [b"a:1|c\nbb:2|c", b"ccc:3|c"]  # 5 + 1 + 6 = 12
    assert core.pack(lines, 11) == [b"a:1|c", b"bb:2|c", b"ccc:3|c"]
    assert core.pack([], 10) == []
    assert core.pack([b"x" * 50, b"y"], 10) == [b"x" * 50, b"y"]  # too long: alone
    assert core.pack([b"y", b"x" * 50, b"z"], 10) == [b"y", b"x" * 50, b"z"]


def test_pack_never_splits_a_multi_line_item():
    item = b"g:0|g\ng:-5|g"
    assert core.pack([b"a:1|c", item], 15) == [b"a:1|c", item]


@pytest.mark.parametrize("limit", [1, 7, 8, 20, 64, 512, 1432])
def test_pack_exhaustive_random(limit):
    rng = random.Random(limit)
    for _ in range(200):
        lines = [b"k" * rng.randint(1, 40) for _ in range(rng.randint(0, 60))]
        packets = core.pack(lines, limit)
        # Nothing lost, nothing reordered.
        assert b"\n".join(packets) == b"\n".join(lines)
        assert sum(p.count(b"\n") + 1 for p in packets) == len(lines)
        for packet in packets:
            assert len(packet) <= limit or b"\n" not in packet
        # Greedy: no packet could have taken the next packet's first line.
        for first, second in itertools.pairwise(packets):
            assert len(first) + 1 + len(second.split(b"\n")[0]) > limit


def test_what_the_client_formats_is_what_the_daemon_finds():
    """Random names and tags, through the client's rules then the daemon's parser: no
    bad line, and the key is the client's name with its tags (sorted by the daemon)."""
    rng = random.Random(11)
    alphabet = string.ascii_letters + string.digits + " _-./:|@#;=é\t"
    checked = 0
    for _ in range(3000):
        stat = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16)))
        name = core.metric_name("app.", stat)
        tags = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))):
                "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
                for _ in range(rng.randint(0, 3))}
        normal = core.normalize_tags(tags)
        if name is None:
            continue
        line = core.format_line(name, "1", "c", 1, core.format_tags(normal))
        (op,) = parser.parse_line(line)
        assert op[0] == parser.COUNTER, (line, op)
        if not normal and ";" not in name:
            assert op[1] == name
        elif ";" not in name:
            expected = name + "".join(f";{k}={normal[k] or 'true'}" for k in sorted(normal))
            assert op[1] == expected, line
        checked += 1
    assert checked > 1000
