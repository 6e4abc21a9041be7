"""Intake (parse, check names, cache, count) and the CARBONLINK answers."""

import pickle

import whisper

from carbon_store.cache import MetricCache
from carbon_store.intake import Intake
from carbon_store.query import answer


def make():
    cache = MetricCache()
    bad = []
    return Intake(cache, lambda: 500.0, on_bad=lambda r, t: bad.append(r)), cache, bad


def test_lines_good_bad_and_names():
    intake, cache, bad = make()
    intake.lines([b"a.b 1 100", b"", b"  ", b"oops", b"a..b 1 100", b"t;z=1;a=2 3 -1",
                  b"a.b 2 110"])
    assert cache.get("a.b") == [(100.0, 1.0), (110.0, 2.0)]
    assert cache.get("t;a=2;z=1") == [(500.0, 3.0)]
    assert intake.received == 3 and intake.bad_lines == 2 and intake.bad_names == 1
    assert bad == ["expected 3 fields, got 1", "refused name: empty node in name"]


def test_refused_names_are_remembered_and_still_counted():
    intake, _, _ = make()
    for _ in range(3):
        intake.lines([b"a/b 1 100"])
    assert intake.bad_names == 3


def test_pickle_frame():
    intake, cache, bad = make()
    intake.pickle(pickle.dumps([("p.q", (100, 7)), ("p..q", (100, 1)), ("x",)], protocol=2))
    intake.pickle(b"not a pickle")
    assert cache.get("p.q") == [(100.0, 7.0)]
    assert intake.bad_lines == 3 and len(bad) == 3


def test_overflow_counted():
    cache = MetricCache(max_size=1, hard_limit=2)
    intake = Intake(cache, lambda: 0.0)
    intake.lines([b"a 1 1", b"a 1 2", b"a 1 3"])
    assert intake.dropped == 1 and cache.overflow == 1


def test_cache_queries(tmp_path):
    cache = MetricCache()
    cache.store_many([("a.b", 100, 1.0), ("a.b", 100, 2.0), ("c;x=1", 5, 3.0)])
    path = tmp_path / "c.wsp"
    whisper.create(str(path), [(60, 10)], 0.5, "max")

    def ask(request):
        return answer(request, cache, lambda metric: str(path))
    assert ask({"type": "cache-query", "metric": "a.b"}) == {"datapoints": [(100, 2.0)]}
    assert ask({"type": "cache-query", "metric": "nothing"}) == {"datapoints": []}
    assert ask({"type": "cache-query-bulk", "metrics": ["a.b", "c;x=1"]}) == {
        "datapointsByMetric": {"a.b": [(100, 2.0)], "c;x=1": [(5, 3.0)]}}
    assert ask({"type": "get-metadata", "metric": "c.d", "key": "aggregationMethod"}) == {
        "value": "max"}
    assert "error" in ask({"type": "get-metadata", "metric": "c.d", "key": "xff"})
    assert ask({"type": "nope"}) == {"error": 'Invalid request type "nope"'}
    assert "error" in ask({"type": "cache-query"})
    assert "error" in ask({"type": "cache-query", "metric": "a..b"})
    assert "error" in ask(["not", "a", "dict"])
    missing = answer({"type": "get-metadata", "metric": "m", "key": "aggregationMethod"},
                     cache, lambda metric: str(tmp_path / "missing.wsp"))
    assert "error" in missing
