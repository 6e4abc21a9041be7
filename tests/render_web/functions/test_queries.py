"""aliasQuery, applyByNode, useSeriesAbove: functions that evaluate new targets, run
through the real evaluator over a fake source."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

import pytest

from carbon_store.patterns import PathPattern
from render_web.evaluator import Evaluator, LimitError, Limits
from render_web.functions import default_registry
from render_web.functions.registry import Context, InputError
from render_web.series import TimeSeries

START, END, NOW = 60, 240, 240
DATA = {  # three points at 60, 120, 180
    "channel.power.1": [1.0, 2.0, 3.0],
    "channel.power.2": [5.0, None, 1.0],
    "channel.frequency.1": [100.0, 101.0, None],  # last value 101
    "channel.frequency.2": [None, None, 7.5],
    "servers.a.disk.free": [1.0, 1.0, 1.0],
    "servers.a.disk.used": [3.0, 3.0, 3.0],
    "servers.b.disk.free": [2.0, 2.0, 2.0],
    "servers.b.disk.used": [2.0, 2.0, 2.0],
    "ganglia.m1.reqs": [1.0, 20.0, None],
    "ganglia.m1.time": [0.5, 0.6, 0.7],
    "ganglia.m2.reqs": [1.0, 2.0, 3.0],
    "ganglia.m2.time": [9.0, 9.0, 9.0],
}


class Source:
    def fetch(self, patterns: Sequence[str], start: int, end: int, now: int
              ) -> dict[str, list[TimeSeries]]:
        return {p: [TimeSeries.from_list(name, START, 60, DATA[name], path_expression=p)
                    for name in sorted(DATA) if PathPattern(p).matches(name)]
                for p in patterns}


def run(target: str, limits: Limits | None = None) -> list[TimeSeries]:
    evaluator = Evaluator(default_registry(), Source(), limits or Limits())
    return evaluator.evaluate_targets([target], Context(START, END, NOW, UTC))


def test_alias_query():
    out = run(r'aliasQuery(channel.power.*,"channel\.power\.([0-9]+)",'
              r'"channel.frequency.\1","Channel %d MHz")')
    # last non-null of frequency.1 is 101, of frequency.2 is 7.5 (%d -> 7)
    assert [s.name for s in out] == ["Channel 101 MHz", "Channel 7 MHz"]
    assert out[0].to_list() == [1.0, 2.0, 3.0]  # values unchanged
    assert out[0].path_expression == "channel.power.*"


def test_alias_query_errors():
    with pytest.raises(InputError, match="no series found"):
        run('aliasQuery(channel.power.1,"power","nothing","%d")')
    with pytest.raises(InputError, match="invalid regular expression"):
        run('aliasQuery(channel.power.1,"(","x","%d")')


def test_apply_by_node():
    out = run('applyByNode(servers.*.disk.free,1,"divideSeries(%.disk.free,'
              'sumSeries(%.disk.*))","%.pct_free")')
    # a: 1 / (1+3) = 0.25; b: 2 / (2+2) = 0.5
    assert [s.name for s in out] == ["servers.a.pct_free", "servers.b.pct_free"]
    assert [s.to_list() for s in out] == [[0.25] * 3, [0.5] * 3]
    assert [s.path_expression for s in out] == ["servers.a", "servers.b"]
    plain = run('applyByNode(servers.*.disk.free,1,"sumSeries(%.disk.*)")')
    assert [s.name for s in plain] == ["sumSeries(servers.a.disk.*)",
                                       "sumSeries(servers.b.disk.*)"]


def test_apply_by_node_stays_inside_the_limits():
    with pytest.raises(LimitError):
        run('applyByNode(servers.*.disk.free,1,"%.disk.*")', Limits(max_series=4))


def test_use_series_above():
    # max of m1.reqs is 20 > 10 (null skipped); m2.reqs max 3 is not
    out = run('useSeriesAbove(ganglia.*.reqs,10,"reqs","time")')
    assert [s.name for s in out] == ["ganglia.m1.time"]
    assert out[0].to_list() == [0.5, 0.6, 0.7]
    assert run('useSeriesAbove(ganglia.*.reqs,100,"reqs","time")') == []
