"""The [carbon] settings: carbon.conf's names, `inf`, and the shipped file."""

import math
from pathlib import Path

import pytest

from carbon_store.settings import CarbonSettings
from statsgraph.configfile import ConfigError, parse_ini
from statsgraph.options import resolve


def load(text):
    return resolve(CarbonSettings, parse_ini(text, "c.conf").section("carbon"), None)


def test_the_shipped_config_file_is_the_defaults():
    shipped = Path(__file__).resolve().parents[2] / "conf" / "statsgraph.conf"
    section = parse_ini(shipped.read_text(), str(shipped)).section("carbon")
    assert resolve(CarbonSettings, section, None) == CarbonSettings()


def test_defaults_are_the_designs_ports_and_carbons_limits():
    s = CarbonSettings()
    assert (s.port, s.pickle_port, s.query_port) == (2003, 2004, 7002)
    assert s.max_cache_size == math.inf and s.max_updates_per_second == 500
    assert s.cache_write_strategy == "sorted" and s.pickle_max_length == 1 << 20


def test_watermarks():
    s = load("[carbon]\nmax_cache_size = 1000\n")
    assert s.hard_limit == 1050 and s.low_watermark == 950
    assert load("[carbon]\nmax_cache_size = 1000\nuse_flow_control = no\n").hard_limit == 1000
    assert CarbonSettings().hard_limit == math.inf


@pytest.mark.parametrize("text", ["max_cache_size = 0", "max_cache_size = -5",
                                  "max_updates_per_second = fast", "cache_write_strategy = lifo",
                                  "carbon_metric_interval = -1", "create_processes = 0"])
def test_refused(text):
    with pytest.raises(ConfigError) as info:
        load(f"[carbon]\n{text}\n")
    assert info.value.line == 2 and info.value.key == text.split(" = ")[0]


def test_inf_and_small_rates():
    s = load("[carbon]\nmax_updates_per_second = 0.001\nmax_creates_per_minute = inf\n")
    assert s.max_updates_per_second == 0.001 and s.max_creates_per_minute == math.inf
