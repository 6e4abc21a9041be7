"""Carbon plaintext and pickle decoding, and the unpickler that runs no code."""

import os
import pickle

import pytest

from carbon_store.wire import BadInput, parse_line, parse_pickle, safe_loads


def now():
    return 1000.9


@pytest.mark.parametrize("line, point", [
    (b"a.b 1.5 100", ("a.b", 100.0, 1.5)),
    (b"  a.b\t2   100.7 ", ("a.b", 100.7, 2.0)),
    (b"a.b 1e3 100\r", ("a.b", 100.0, 1000.0)),
    (b"a.b 1 -1", ("a.b", 1000.0, 1.0)),  # -1 is now
])
def test_plaintext(line, point):
    assert parse_line(line, now) == point


@pytest.mark.parametrize("line, reason", [
    (b"a.b 1", "expected 3 fields"), (b"a.b 1 2 3", "expected 3 fields"),
    (b"a.b x 100", "value is not a number"), (b"a.b 1 y", "timestamp is not a number"),
    (b"a.b nan 100", "value is not finite"), (b"a.b inf 100", "value is not finite"),
    (b"a.b -inf 100", "value is not finite"), (b"a.b 1 nan", "timestamp out of range"),
    (b"a.b 1 -5", "timestamp out of range"), (b"a.b 1 99999999999", "timestamp out of range"),
    (b"\xff\xfe 1 100", "not UTF-8"),
])
def test_plaintext_refused(line, reason):
    with pytest.raises(BadInput, match=reason):
        parse_line(line, now)


def test_pickle_points_and_bad_tuples():
    payload = pickle.dumps([("a", (100, 1.5)), ("b", (100, "2")), (b"c", (100.0, 3)),
                            ("short",), ("d", (1, 2, 3)), (5, (1, 2)), ("e", (1, None)),
                            ("f", (1, float("nan")))], protocol=2)
    points, bad = parse_pickle(payload, now)
    assert points == [("a", 100.0, 1.5), ("b", 100.0, 2.0), ("c", 100.0, 3.0)]
    assert len(bad) == 5


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_every_protocol_version(protocol):
    points, bad = parse_pickle(pickle.dumps([("a", (1, 2))], protocol=protocol), now)
    assert points == [("a", 1.0, 2.0)] and bad == []


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/statsgraph-pwned",))


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    for payload in (pickle.dumps([("a", (1, Evil()))], protocol=2),
                    pickle.dumps(Evil(), protocol=0),
                    b"cos\nsystem\n(S'echo pwned'\ntR."):
        with pytest.raises(BadInput, match="unsafe or broken pickle"):
            parse_pickle(payload, now)
    assert not os.path.exists("/tmp/statsgraph-pwned")


@pytest.mark.parametrize("payload", [b"", b"garbage", b"\x80\x02", pickle.dumps({"a": 1}),
                                     pickle.dumps("text")])
def test_broken_or_wrong_shape_frames(payload):
    with pytest.raises(BadInput):
        parse_pickle(payload, now)


def test_safe_loads_plain_data():
    assert safe_loads(pickle.dumps({"type": "cache-query", "metric": "a"}, protocol=2)) == {
        "type": "cache-query", "metric": "a"}


def test_codecs_encode_is_only_latin1_bytes():
    evil = (b"\x80\x02c_codecs\nencode\nq\x00X\x03\x00\x00\x00abcq\x01"
            b"X\x03\x00\x00\x00hexq\x02\x86q\x03Rq\x04.")
    with pytest.raises(BadInput):
        safe_loads(evil)
    assert safe_loads(pickle.dumps(b"\xffbytes", protocol=2)) == b"\xffbytes"
