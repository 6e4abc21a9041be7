"""The registry as a whole: every function the issue lists, graphite-web 1.1.10's
parameters for each (golden/_functions.json, recorded by
bench/record_functions_golden.py), and /functions' shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from render_web.functions import default_registry
from render_web.functions.registry import FunctionRegistry, Param, ParamType, series_function

GRAPHITE = json.loads(
    (Path(__file__).resolve().parents[1] / "golden" / "_functions.json").read_text())

REQUIRED = ["alias", "aliasByNode", "aliasByMetric", "aliasSub", "legendValue", "sumSeries",
            "averageSeries", "maxSeries", "minSeries", "diffSeries", "divideSeries",
            "multiplySeries", "asPercent", "group", "groupByNode", "sumSeriesWithWildcards",
            "averageSeriesWithWildcards", "scale", "scaleToSeconds", "offset", "absolute",
            "derivative", "nonNegativeDerivative", "perSecond", "integral", "movingAverage",
            "movingMedian", "movingSum", "summarize", "hitcount", "timeShift",
            "keepLastValue", "transformNull", "consolidateBy", "highestCurrent",
            "highestAverage", "highestMax", "lowestCurrent", "lowestAverage", "limit",
            "sortByMaxima", "sortByName", "exclude", "grep", "nPercentile",
            "percentileOfSeries", "constantLine", "threshold", "removeBelowValue",
            "removeAboveValue", "stacked", "secondYAxis", "color", "lineWidth", "dashed",
            "drawAsInfinite", "cactiStyle"]


@pytest.fixture(scope="module")
def registry() -> FunctionRegistry:
    return default_registry()


def test_every_required_function_is_registered(registry):
    assert [name for name in REQUIRED if name not in registry] == []


@pytest.mark.parametrize("name", sorted(GRAPHITE))
def test_group_and_parameters_are_graphite_webs(registry, name):
    spec = registry.get(name)
    if spec is None:
        pytest.skip(f"{name} is not implemented yet (issue 8)")
    expected = GRAPHITE[name]
    assert spec.group == expected["group"]
    assert [p.metadata() for p in spec.params] == expected["params"]


def test_nothing_registered_that_graphite_does_not_have(registry):
    assert set(registry.names()) - set(GRAPHITE) == set()


def test_metadata_shape(registry):
    metadata = registry.metadata()
    entry = metadata["movingAverage"]
    assert set(entry) == {"name", "function", "description", "module", "group", "params"}
    assert entry["function"].startswith("movingAverage(seriesList")
    assert entry["description"]  # our own words, one or two sentences
    grouped = registry.metadata(grouped=True)
    assert grouped["Combine"]["sumSeries"]["name"] == "sumSeries"
    assert metadata["sum"]["name"] == "sum"  # an alias is listed under its own name


def test_a_name_registered_twice_is_refused():
    @series_function("twice", "Special", [Param("seriesList", ParamType.SERIES_LIST, True)])
    def one(ctx, series_list):
        return series_list

    registry = FunctionRegistry([one.series_function])
    with pytest.raises(ValueError, match="twice"):
        registry.add(one.series_function)
