"""The read side: Graphite patterns, find (disk + cache), fetch merged with the cache."""

import pickle
import socket
import struct
import threading

import numpy as np
import pytest
import whisper

from carbon_store.cache import MetricCache
from carbon_store.patterns import PathPattern, expand_braces, find_cached
from carbon_store.query import answer
from carbon_store.reader import CarbonLinkClient, LocalCache, MetricReader, Series, merge


def test_braces():
    assert expand_braces("a{b,c}d{e,f}") == ["abde", "abdf", "acde", "acdf"]
    assert expand_braces("plain") == ["plain"] and expand_braces("a{b") == ["a{b"]


@pytest.mark.parametrize("pattern, name, hit", [
    ("a.b.c", "a.b.c", True), ("a.*.c", "a.x.c", True), ("a.*", "a.x.c", False),
    ("a.*.c", "a.x.y.c", False), ("a.b?", "a.bc", True), ("a.[bc]x", "a.cx", True),
    ("a.{up,down}", "a.down", True), ("a.{up,down}", "a.sideways", False),
    ("a.b*", "a.bcd", True), ("*.*", "x.y", True), ("a.[0-9]", "a.7", True),
])
def test_patterns(pattern, name, hit):
    assert PathPattern(pattern).matches(name) is hit


def test_find_cached():
    names = ["a.b.c", "a.b.d", "a.x", "t;k=v", "other"]
    assert find_cached(names, "a.*") == ["a.b.c", "a.b.d", "a.x"]
    assert find_cached(names, "a.b.*") == ["a.b.c", "a.b.d"]


def make_tree(root, now):
    for name in ("web.host1.cpu", "web.host1.mem", "web.host2.cpu", "db.a"):
        path = root / (name.replace(".", "/") + ".wsp")
        path.parent.mkdir(parents=True, exist_ok=True)
        whisper.create(str(path), [(10, 60), (60, 60)], 0.0, "sum")
        whisper.update_many(str(path), [(now - 30, 1.0), (now - 20, 2.0)], now=now)
    (root / "_tagged").mkdir()
    (root / "web" / ".hidden.wsp.tmp").write_text("x")


def test_find_on_disk_and_in_the_cache(tmp_path):
    now = 1_700_000_000
    make_tree(tmp_path, now)
    cache = MetricCache()
    cache.store_many([("web.host3.cpu", now, 1.0), ("web.host1.disk", now, 2.0),
                      ("new.branch.leaf", now, 3.0)])
    reader = MetricReader(tmp_path, LocalCache(cache))
    assert [(n.path, n.is_leaf) for n in reader.find("*")] == [
        ("db", False), ("new", False), ("web", False)]
    assert [(n.path, n.is_leaf) for n in reader.find("web.*")] == [
        ("web.host1", False), ("web.host2", False), ("web.host3", False)]
    assert [n.path for n in reader.find("web.host1.*")] == [
        "web.host1.cpu", "web.host1.disk", "web.host1.mem"]
    assert all(n.is_leaf for n in reader.find("web.host1.*"))
    assert [n.path for n in reader.find("web.{host1,host2}.cpu")] == [
        "web.host1.cpu", "web.host2.cpu"]
    assert reader.find("db.a")[0].is_leaf and reader.find("nothing.*") == []


def test_fetch_merges_the_cache(tmp_path):
    now = 1_700_000_000
    make_tree(tmp_path, now)
    cache = MetricCache()
    cache.store_many([("web.host1.cpu", now - 10, 5.0), ("web.host1.cpu", now - 20, 9.0)])
    reader = MetricReader(tmp_path, LocalCache(cache))
    series = reader.fetch("web.host1.cpu", now - 60, now, now=now)
    assert series.step == 10 and series.aggregation == "sum"
    assert series.start == now - 50
    # now-30 from the file; now-20 from the cache (its value wins over the file's 2.0)
    assert series.to_list() == [None, None, 1.0, 9.0, 5.0, None]


def test_fetch_of_a_cache_only_metric(tmp_path):
    cache = MetricCache()
    cache.store_many([("only.cached", 1000, 4.0), ("only.cached", 1060, 5.0)])
    reader = MetricReader(tmp_path, LocalCache(cache))
    series = reader.fetch("only.cached", 900, 1100, now=1100)
    assert series.step == 60 and [v for v in series.to_list() if v is not None] == [4.0, 5.0]
    assert reader.fetch("not.there", 900, 1100, now=1100) is None
    assert reader.fetch("bad..name", 900, 1100) is None


def test_merge_aggregates_into_coarser_steps():
    series = Series("x", 0, 120, 60, np.full(2, np.nan), "sum")
    merged = merge(series, [(10, 1.0), (20, 2.0), (70, 5.0)])
    assert merged.to_list() == [3.0, 5.0]


def test_carbonlink_client_against_the_protocol(tmp_path):
    cache = MetricCache()
    cache.store_many([("a.b", 100, 1.0), ("c.d", 200, 2.0)])
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        conn, _ = server.accept()
        reader = conn.makefile("rb")
        while header := reader.read(4):
            request = pickle.loads(reader.read(struct.unpack("!L", header)[0]))
            reply = pickle.dumps(answer(request, cache, lambda m: ""), protocol=2)
            conn.sendall(struct.pack("!L", len(reply)) + reply)
        conn.close()
    threading.Thread(target=serve, daemon=True).start()
    client = CarbonLinkClient("127.0.0.1", server.getsockname()[1])
    assert client.query_bulk(["a.b", "x"]) == {"a.b": [(100, 1.0)], "x": []}
    assert client.find("c.*") == ["c.d"]
    client.close()
    server.close()


def test_carbonlink_client_when_the_cache_is_away():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = CarbonLinkClient("127.0.0.1", port, timeout=0.5)
    assert client.query_bulk(["a"]) == {} and client.find("*") == []


def test_fetch_array_reads_exactly_what_whisper_fetch_reads(tmp_path):
    """Every window (inside, across and beyond the retention, in the future, of zero
    length, wrapping around the archive) gives whisper.fetch's answer, bit for bit."""
    from carbon_store.reader import fetch_array

    rng = np.random.default_rng(7)
    now = 1_700_000_000
    for case, archives in enumerate([[(10, 30)], [(10, 30), (60, 20)], [(1, 100), (7, 50)]]):
        path = str(tmp_path / f"m{case}.wsp")
        whisper.create(path, archives, aggregationMethod="max")
        step, retention = archives[0][0], archives[-1][0] * archives[-1][1]
        # Several passes over the first archive so that it wraps; some slots left empty.
        for moment in range(now - 3 * archives[0][0] * archives[0][1], now, step):
            if rng.random() < 0.8:
                whisper.update(path, float(rng.integers(0, 1000)), moment, now=moment)
        assert fetch_array(path, now - 10, now - 10, now)[4] == "max"
        for _ in range(300):
            start = now - int(rng.integers(-50, retention + 200))
            end = start + int(rng.integers(0, retention + 100))
            clock = now + int(rng.integers(-20, 20))
            expected = whisper.fetch(path, start, end, clock)
            found = fetch_array(path, start, end, clock)
            if expected is None:
                assert found is None
                continue
            (first, last, step_), values = expected
            assert found[:3] == (first, last, step_), (start, end, clock)
            assert [None if v != v else v for v in found[3].tolist()] == values
    empty = str(tmp_path / "empty.wsp")
    whisper.create(empty, [(60, 10)])
    first, last, step, values, _ = fetch_array(empty, now - 300, now, now)
    assert (first, last, step) == whisper.fetch(empty, now - 300, now, now)[0]
    assert np.isnan(values).all() and len(values) == 5
