"""The writer against real whisper files in a temp dir (run turn by turn, no thread)."""

import os
from dataclasses import replace

import whisper

from carbon_store.cache import MetricCache
from carbon_store.schemas import AggregationRule, SchemaRule, StorageRules
from carbon_store.settings import CarbonSettings
from carbon_store.writer import Writer


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make(tmp_path, **settings):
    import re
    rules = StorageRules([SchemaRule("s", re.compile("^stats"), ((10, 100),))],
                         [AggregationRule("a", re.compile(r"\.count$"), 0.0, "sum")])
    config = replace(CarbonSettings(), storage=str(tmp_path), max_updates_per_second=1e9,
                     **settings)
    cache = MetricCache()
    clock = FakeTime()
    return Writer(cache, lambda: rules, config, seconds=clock), cache, clock


def drain(writer):
    """Run the writer thread's loop here until the cache is empty."""
    writer.stop(timeout=30)
    writer.run()


def test_creates_from_the_rules_and_writes_every_point(tmp_path):
    writer, cache, _ = make(tmp_path)
    import time
    now = int(time.time()) // 10 * 10
    cache.store_many([("stats.a.count", now - 20, 1.0), ("stats.a.count", now - 10, 2.0),
                      ("other.m", now - 60, 5.0)])
    assert writer.write("stats.a.count") is False  # its file is being created
    assert "stats.a.count" in writer._creating
    drain(writer)
    info = whisper.info(str(tmp_path / "stats/a/count.wsp"))
    assert info["aggregationMethod"] == "sum" and info["xFilesFactor"] == 0.0
    assert [a["secondsPerPoint"] for a in info["archives"]] == [10]
    (_, _, step), values = whisper.fetch(str(tmp_path / "stats/a/count.wsp"), now - 30)
    assert step == 10 and [v for v in values if v is not None] == [1.0, 2.0]
    assert whisper.info(str(tmp_path / "other/m.wsp"))["archives"][0]["secondsPerPoint"] == 60
    assert writer.stats.creates == 2 and writer.stats.committed_points == 3
    assert cache.size == 0
    assert not [p for p in tmp_path.rglob("*.tmp")]  # no temporary file left


def test_creates_are_rate_limited_but_points_wait(tmp_path):
    writer, cache, clock = make(tmp_path, max_creates_per_minute=60)
    cache.store_many([("a", 100, 1.0), ("b", 100, 1.0)])
    assert writer.write("a") is False and "a" in writer._creating
    assert writer.write("b") is False  # no create token: stays cached, parked
    assert cache.get("b") == [(100.0, 1.0)] and cache.choose() is None
    assert writer._waiting == [(clock.now + 1.0, "b")]
    clock.now += 1.0
    writer._release()
    assert cache.choose() == "b"
    assert writer.write("b") is False and "b" in writer._creating


def test_a_corrupt_file_keeps_its_points_and_others_flow(tmp_path):
    writer, cache, _clock = make(tmp_path)
    (tmp_path / "bad.wsp").write_bytes(b"this is not whisper")
    (tmp_path / "good.wsp").unlink(missing_ok=True)
    import time
    now = int(time.time())
    whisper.create(str(tmp_path / "good.wsp"), [(60, 10)])
    cache.store_many([("bad", now, 1.0), ("good", now, 2.0)])
    assert writer.write("bad") is False
    assert writer.stats.errors == 1 and cache.get("bad") == [(float(now), 1.0)]
    assert cache.choose() == "good"
    assert writer.write("good") is True
    assert os.path.exists(tmp_path / "good.wsp")


def test_run_drains_then_stops(tmp_path):
    writer, cache, _ = make(tmp_path)
    import time
    now = int(time.time())
    cache.store_many([(f"m.n{i}", now, float(i)) for i in range(50)])
    drain(writer)  # returns once the cache is empty
    assert cache.size == 0 and writer.stats.committed_points == 50
    assert writer.stats.creates == 50


def test_run_gives_up_at_the_deadline(tmp_path):
    writer, cache, clock = make(tmp_path, max_creates_per_minute=1)
    cache.store_many([("a", 1, 1.0), ("b", 1, 1.0), ("c", 1, 1.0)])
    writer.creates.tokens = 0
    writer.stop(timeout=5)
    clock.now += 6
    writer.run()
    assert cache.size == 3  # left for the dump


def test_a_file_that_cannot_be_created_keeps_its_points(tmp_path):
    writer, cache, clock = make(tmp_path)
    (tmp_path / "blocked").write_text("a file where a folder should be")
    cache.store_many([("blocked.metric", 100, 1.0)])
    writer.write("blocked.metric")
    writer._send_creates()  # the loop sends queued creates when it has nothing to write
    writer._creator.shutdown(wait=True)
    writer._release()
    assert cache.choose() is None and writer.stats.errors == 1
    assert cache.get("blocked.metric") == [(100.0, 1.0)]
    clock.now += 10
    writer._release()
    assert cache.choose() == "blocked.metric"
