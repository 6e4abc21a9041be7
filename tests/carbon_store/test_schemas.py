"""storage-schemas.conf and storage-aggregation.conf in carbon's syntax."""

import pytest

from carbon_store.schemas import (
    load_rules,
    parse_aggregation,
    parse_retention,
    parse_schemas,
)
from statsgraph.configfile import ConfigError

SCHEMAS = """
[carbon]
pattern = ^carbon\\.
retentions = 60:90d

[stats]
pattern = ^stats\\.
retentions = 10s:6h,1m:6d,10m:1800d

[legacy]
pattern = legacy
retentions = 60:1440
"""

AGGREGATION = """
[min]
pattern = \\.lower$
xFilesFactor = 0.1
aggregationMethod = min

[onlyxff]
pattern = \\.xff$
xFilesFactor = 0
"""


@pytest.mark.parametrize("text, archive", [
    ("10s:6h", (10, 2160)), ("60:1440", (60, 1440)), ("1m:1d", (60, 1440)),
    ("1h:1y", (3600, 8760)), ("5m:1w", (300, 2016)), ("60:90d", (60, 129600)),
])
def test_retentions(text, archive):
    assert parse_retention(text) == archive


@pytest.mark.parametrize("text", ["10s", "10x:1d", "10min:1d", "s:1d", "0:10", "10:0",
                                  "60s:30s", "-1:5"])
def test_bad_retentions(text):
    with pytest.raises(ValueError):
        parse_retention(text)


def rules(tmp_path, schemas=SCHEMAS, aggregation=AGGREGATION):
    (tmp_path / "s.conf").write_text(schemas)
    (tmp_path / "a.conf").write_text(aggregation)
    return load_rules(tmp_path / "s.conf", tmp_path / "a.conf")


def test_first_match_wins_and_patterns_are_unanchored(tmp_path):
    r = rules(tmp_path)
    assert r.lookup("carbon.agents.x").archives == ((60, 129600),)
    assert r.lookup("stats.timers.a.lower").archives == ((10, 2160), (60, 8640), (600, 259200))
    assert r.lookup("my.legacy.thing").archives == ((60, 1440),)
    assert r.lookup("stats.legacy").schema == "stats"


def test_carbons_built_in_defaults(tmp_path):
    r = rules(tmp_path)
    meta = r.lookup("other.metric")
    assert meta.archives == ((60, 10080),) and meta.schema == "default (built in)"
    assert (meta.x_files_factor, meta.method) == (0.5, "average")
    meta = r.lookup("a.xff")
    assert (meta.x_files_factor, meta.method) == (0.0, "average")
    meta = r.lookup("stats.x.lower")
    assert (meta.x_files_factor, meta.method) == (0.1, "min")


def test_aggregation_file_is_optional(tmp_path):
    (tmp_path / "s.conf").write_text(SCHEMAS)
    assert load_rules(tmp_path / "s.conf", tmp_path / "missing.conf").lookup(
        "x").method == "average"


@pytest.mark.parametrize("text, line, key", [
    ("[a]\npattern = x\n", 1, "retentions"),
    ("[a]\nretentions = 60:10\n", 1, "pattern"),
    ("[a]\npattern = (\nretentions = 60:10\n", 2, "pattern"),
    ("[a]\npattern = x\nretentions = 60:10,60:20\n", 3, "retentions"),
    ("[a]\npattern = x\nretentions = 7:10,60:20\n", 3, "retentions"),
    ("[a]\npattern = x\nretentions = 60:10d\nretention = 1\n", 4, "retention"),
])
def test_bad_schema_files_name_file_line_and_key(text, line, key):
    with pytest.raises(ConfigError) as info:
        parse_schemas(text, "storage-schemas.conf")
    assert info.value.line == line and info.value.key == key
    assert str(info.value).startswith(f"storage-schemas.conf:{line}: [a] {key}:")


@pytest.mark.parametrize("text, key", [
    ("[a]\npattern = x\nxFilesFactor = 2\n", "xfilesfactor"),
    ("[a]\npattern = x\nxFilesFactor = lots\n", "xfilesfactor"),
    ("[a]\npattern = x\naggregationMethod = median\n", "aggregationmethod"),
])
def test_bad_aggregation_files(text, key):
    with pytest.raises(ConfigError) as info:
        parse_aggregation(text, "agg.conf")
    assert info.value.key == key and info.value.line == 3


def test_the_shipped_rules_fit_statsds_output():
    from pathlib import Path

    from carbon_store.service import PACKAGED_CONF
    r = load_rules(PACKAGED_CONF / "storage-schemas.conf",
                   PACKAGED_CONF / "storage-aggregation.conf")
    for name in ("stats.api.requests", "stats_counts.api.requests", "statsd.numStats",
                 "stats.timers.api.t.upper_90"):
        assert r.lookup(name).archives[0][0] == 10  # the default flush interval
    cases = {
        "stats_counts.api.requests": "sum", "stats.timers.t.count": "sum",
        "stats.timers.t.count_90": "sum", "stats.timers.t.sum": "sum",
        "stats.timers.t.sum_squares_90": "sum", "stats.timers.t.lower": "min",
        "stats.timers.t.upper": "max", "stats.timers.t.upper_99_9": "max",
        "stats.timers.t.histogram.bin_0_1": "sum", "stats.sets.s.count": "sum",
        "stats.counters.c.count": "sum", "stats.timers.t.mean": "average",
        "stats.api.requests": "average", "stats.timers.t.count_ps": "average",
        "stats.gauges.g": "average",
    }
    for name, method in cases.items():
        assert r.lookup(name).method == method, name
        assert r.lookup(name).x_files_factor == 0
    # conf/ holds the same files for users to copy.
    top = Path(__file__).resolve().parents[2] / "conf"
    for name in ("storage-schemas.conf", "storage-aggregation.conf"):
        assert (top / name).read_text() == (PACKAGED_CONF / name).read_text()
