"""What operators install: the systemd units and the configuration reference."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from carbon_store.settings import CarbonSettings
from statsd_daemon.settings import StatsdSettings
from statsgraph.cli import build_parser
from statsgraph.configdoc import render

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "conf" / "systemd").glob("*.service"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(path)
    return parser


@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_units_run_a_valid_command_as_the_dedicated_user(path):
    service = unit(path)["Service"]
    assert service["User"] == "statsgraph" and service["Restart"] == "on-failure"
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/statsgraph")
    args = build_parser().parse_args(command[1:])
    assert args.command in ("run", "statsd", "carbon", "web")


def test_stop_timeouts_cover_the_final_flush():
    timeouts = {p.stem: float(unit(p)["Service"]["TimeoutStopSec"]) for p in UNITS}
    statsd, carbon = StatsdSettings(), CarbonSettings()
    assert timeouts["statsgraph-statsd"] > statsd.flush_interval + statsd.drain_timeout
    assert timeouts["statsgraph-carbon"] > carbon.shutdown_timeout
    assert timeouts["statsgraph"] > (statsd.flush_interval + statsd.drain_timeout
                                     + carbon.shutdown_timeout)


def test_statsd_stops_before_the_store():
    assert "statsgraph-carbon.service" in unit(
        ROOT / "conf" / "systemd" / "statsgraph-statsd.service")["Unit"]["After"]


def test_the_configuration_reference_is_current():
    """Regenerate with: python3 -m statsgraph.configdoc > docs/configuration.md"""
    assert (ROOT / "docs" / "configuration.md").read_text() == render()
