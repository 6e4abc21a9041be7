"""The write cache: bounds, overwrite semantics, drain strategies, restore."""

import pytest

from carbon_store.cache import MetricCache, dedupe


def test_dedupe_last_value_wins_oldest_first():
    assert dedupe([20, 1.0, 10, 2.0, 20, 3.0]) == [(10, 2.0), (20, 3.0)]


def test_store_pop_and_size():
    cache = MetricCache()
    cache.store("a", 10, 1.0)
    cache.store_many([("a", 20, 2.0), ("b", 10, 5.0), ("a", 10, 9.0)])
    assert cache.size == 4 and len(cache) == 2 and "a" in cache
    assert cache.get("a") == [(10, 9.0), (20, 2.0)]  # a re-sent timestamp overwrites
    assert cache.pop("a") == [(10, 9.0), (20, 2.0)]
    assert cache.size == 1 and cache.pop("a") == []


def test_hard_limit_drops_and_counts():
    cache = MetricCache(max_size=3, hard_limit=4)
    assert cache.store_many([("a", i, 1.0) for i in range(6)]) == 2
    assert cache.size == 4 and cache.overflow == 2
    assert cache.store("b", 1, 1.0) is False and cache.overflow == 3


def test_restore_keeps_newer_values_winning():
    cache = MetricCache()
    cache.store("a", 10, 1.0)
    taken = cache.pop("a")
    cache.store("a", 10, 2.0)  # arrived while the write was failing
    cache.restore("a", taken)
    assert cache.get("a") == [(10, 2.0)] and cache.size == 2


def fill(cache):
    cache.store_many([("small", 1, 1.0), ("big", 1, 1.0), ("big", 2, 1.0), ("big", 3, 1.0),
                      ("mid", 1, 1.0), ("mid", 2, 1.0)])


def drain(cache):
    order = []
    while (name := cache.choose()) is not None:
        order.append(name)
        cache.pop(name)
    return order


def test_naive_is_arrival_order():
    cache = MetricCache(strategy="naive")
    fill(cache)
    assert drain(cache) == ["small", "big", "mid"]


def test_max_takes_the_fullest():
    cache = MetricCache(strategy="max")
    fill(cache)
    assert drain(cache) == ["big", "mid", "small"]


def test_sorted_writes_each_metric_once_per_pass_fullest_first():
    cache = MetricCache(strategy="sorted")
    fill(cache)
    assert cache.choose() == "big"
    cache.pop("big")
    cache.store_many([("big", 9, 1.0)] * 5)  # refilled: waits for the next pass
    assert drain(cache) == ["mid", "small", "big"]


@pytest.mark.parametrize("strategy", ["sorted", "max", "naive"])
def test_parked_metrics_are_not_chosen_but_keep_their_points(strategy):
    cache = MetricCache(strategy=strategy)
    fill(cache)
    cache.park("big")
    cache.store("big", 99, 1.0)
    cache.park("later")
    cache.store("later", 1, 1.0)  # a new metric arriving parked stays parked
    assert set(drain(cache)) == {"mid", "small"}
    assert cache.choose() is None and cache.size == 5 and cache.parked == 2
    cache.unpark("big")
    assert cache.choose() == "big" and len(cache.get("big")) == 4
    cache.unpark("gone")  # nothing cached: nothing to choose
    assert drain(cache) == ["big"]


def test_restore_of_a_parked_metric_stays_parked():
    cache = MetricCache()
    cache.store("a", 1, 1.0)
    points = cache.pop("a")
    cache.park("a")
    cache.restore("a", points)
    assert cache.choose() is None
    cache.unpark("a")
    assert cache.choose() == "a"


def test_unknown_strategy():
    with pytest.raises(ValueError):
        MetricCache(strategy="random")


def test_memory_per_point_is_small():
    import sys
    cache = MetricCache()
    cache.store_many((f"m{i % 100}", float(t), 1.0) for i in range(100) for t in range(600))
    held = sum(sys.getsizeof(flat) for flat in cache._points.values())
    assert held / cache.size < 20  # two doubles and array slack; carbon's dict is ~100
