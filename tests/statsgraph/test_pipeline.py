"""The whole-pipeline check: flush interval against retention, totals rolled up."""

from __future__ import annotations

from dataclasses import replace

import pytest

from carbon_store.schemas import load_rules
from carbon_store.service import PACKAGED_CONF
from statsd_daemon.settings import StatsdSettings
from statsgraph.pipeline import check_pipeline, is_count, sample_names


@pytest.fixture
def rules():
    return load_rules(PACKAGED_CONF / "storage-schemas.conf",
                      PACKAGED_CONF / "storage-aggregation.conf")


def custom_rules(tmp_path, schemas: str, aggregation: str = ""):
    (tmp_path / "s.conf").write_text(schemas)
    (tmp_path / "a.conf").write_text(aggregation)
    return load_rules(tmp_path / "s.conf", tmp_path / "a.conf")


def test_the_defaults_agree(rules):
    assert check_pipeline(StatsdSettings(), rules) == []


def test_sample_names_follow_statsds_naming():
    names = sample_names(StatsdSettings())
    assert {"stats.sample", "stats_counts.sample", "stats.timers.sample.mean",
            "stats.gauges.sample", "stats.sets.sample.count", "statsd.numStats"} <= set(names)
    modern = sample_names(StatsdSettings(legacy_namespace=False, global_prefix="app"))
    assert {"app.counters.sample.rate", "app.counters.sample.count",
            "app.timers.sample.mean"} <= set(modern)


def test_a_flush_shorter_than_the_finest_slot_is_refused(rules):
    findings = check_pipeline(replace(StatsdSettings(), flush_interval=5), rules)
    assert findings and all(f.fatal for f in findings)
    assert "only the last flush of each 10 s would survive" in str(findings[0])
    assert "[statsd]" in str(findings[0])


def test_a_flush_longer_than_the_slot_warns(rules):
    findings = check_pipeline(replace(StatsdSettings(), flush_interval=60), rules)
    assert findings and not any(f.fatal for f in findings)
    assert "empty slots" in str(findings[0])


def test_averaged_totals_are_refused(tmp_path):
    rules = custom_rules(tmp_path, "[all]\npattern = .*\nretentions = 10s:1d,1m:7d\n")
    findings = check_pipeline(StatsdSettings(), rules)
    refused = [str(f) for f in findings if f.fatal]
    assert any("stats_counts.sample is a total" in f for f in refused)
    assert any("stats.timers.sample.count is a total" in f for f in refused)
    assert not any("stats.timers.sample.mean" in f for f in refused)


def test_averaging_with_a_single_archive_loses_nothing(tmp_path):
    rules = custom_rules(tmp_path, "[all]\npattern = .*\nretentions = 10s:1d\n")
    assert check_pipeline(StatsdSettings(), rules) == []


@pytest.mark.parametrize("name,legacy,total", [
    ("stats_counts.a", True, True), ("stats.timers.a.count", True, True),
    ("stats.timers.a.sum_90", True, True), ("stats.timers.a.count_ps", True, False),
    ("stats.timers.a.mean", True, False), ("stats.a", True, False),
    ("app.counters.a.count", False, True), ("app.counters.a.rate", False, False),
])
def test_totals(name, legacy, total):
    assert is_count(name, StatsdSettings(legacy_namespace=legacy)) is total
