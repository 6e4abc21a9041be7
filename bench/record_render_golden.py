"""Record graphite-web 1.1.10's answers over the golden dataset into tests/render_web/golden/.

    python3.11 bench/record_render_golden.py [--only NAME_SUBSTRING] [--keep-data DIR]

Builds tests/render_web/golden_dataset.py in a temp folder, serves it with graphite-web
(bench/graphite, installed on first use), and for every case writes <case>.json:

    render:  {"target", "from", "until", "now", "params", "status", "response"}
    other:   {"path", "params", "status", "content_type", "response"}

`response` is graphite's JSON when the body is JSON, else its text (csv, raw, errors).
from/until/now are absolute epochs and `now` is always END, which graphite-web hands to
whisper.fetch, so the recordings do not depend on the wall clock.  _meta.json holds the
versions that answered.  Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench" / "graphite"))
sys.path.insert(0, str(ROOT))

from install import versions  # noqa: E402
from server import graphite_web  # noqa: E402

from tests.render_web import golden_dataset as gd  # noqa: E402

OUT = ROOT / "tests" / "render_web" / "golden"
END = gd.END
H1 = END - gd.HOUR
H6 = END - 6 * gd.HOUR
D1 = END - gd.DAY

W1 = "golden.servers.web1.cpu"
SUMMARIZE_FUNCS = ["average", "avg", "avg_zero", "count", "current", "diff", "last", "max",
                   "median", "min", "multiply", "range", "rangeOf", "stddev", "sum", "total"]


def render_cases() -> list[dict]:
    """(name, targets, from, until, extra params) for /render?format=json unless overridden."""
    cases: list[dict] = []

    def add(name: str, target: str | list[str], frm: int = H1, until: int = END,
            **params: str) -> None:
        cases.append({"name": name, "target": target, "from": frm, "until": until,
                      "params": params})

    # plain fetches and patterns
    add("fetch_single", W1)
    add("fetch_wildcard_mixed_steps", "golden.servers.*.cpu")
    add("fetch_braces", "golden.servers.{web1,web3}.cpu")
    add("fetch_char_class", "golden.servers.web[12].cpu")
    add("fetch_braces_in_element", "golden.servers.web{1,2}.l*")
    add("fetch_deep_wildcard", "golden.apps.*.*.count")
    add("fetch_gaps", "golden.gaps.*")
    add("fetch_counters", "golden.counters.*")
    add("fetch_rollup_fine_archive", "golden.rollup.requests")
    add("fetch_rollup_coarse_archive", "golden.rollup.requests", H6)
    add("fetch_sum_rollup_coarse_archive", "golden.sum.events", H6)
    add("fetch_slow_day", "golden.servers.db1.cpu", D1)
    add("fetch_unaligned_window", W1, H1 + 7, END - 13)
    add("fetch_missing", "golden.nope.*")
    add("fetch_multiple_targets", [W1, "golden.servers.web2.load", "golden.nope"])
    add("fetch_pipe_syntax", "golden.servers.*.cpu|aliasByNode(2)|scale(2)")
    add("fetch_no_null_points", "golden.gaps.*", noNullPoints="true")
    # maxDataPoints consolidation
    add("maxdatapoints_10", W1, maxDataPoints="10")
    add("maxdatapoints_1", W1, maxDataPoints="1")
    add("maxdatapoints_7_gaps", "golden.gaps.sparse", maxDataPoints="7")
    add("maxdatapoints_50_mixed_steps", "golden.servers.*.cpu", maxDataPoints="50")
    add("maxdatapoints_unaligned", W1, H1 + 25, END, maxDataPoints="13")
    for func in ["sum", "max", "min", "first", "last", "avg_zero", "average"]:
        add(f"maxdatapoints_10_consolidateBy_{func}", f'consolidateBy({W1},"{func}")',
            maxDataPoints="10")
    add("maxdatapoints_consolidateBy_sum_gaps", 'consolidateBy(golden.gaps.sparse,"sum")',
        maxDataPoints="10")
    add("xfilesfactor_request_param", "sumSeries(golden.gaps.*)", xFilesFactor="0.6")
    add("xfilesfactor_request_param_consolidate", "golden.gaps.sparse", xFilesFactor="0.9",
        maxDataPoints="20")

    # alias family
    add("alias", f'alias({W1},"front end")')
    add("alias_wildcard", 'alias(golden.servers.*.cpu,"all")')
    add("aliasByNode_one", "aliasByNode(golden.servers.*.cpu,2)")
    add("aliasByNode_two", "aliasByNode(golden.servers.*.cpu,2,3)")
    add("aliasByNode_negative", "aliasByNode(golden.servers.*.cpu,-2)")
    add("aliasByNode_negative_first", "aliasByNode(golden.apps.*.*.count,-3,-1)")
    add("aliasByNode_inner_call", f"aliasByNode(movingAverage({W1},5),1,2)")
    add("aliasByMetric", "aliasByMetric(golden.servers.*.load)")
    add("aliasByMetric_inner_call", f"aliasByMetric(scale({W1},2))")
    add("aliasSub_group",
        r'aliasSub(golden.servers.*.cpu,"^golden\.servers\.(\w+)\.cpu$","\1 cpu")')
    add("aliasSub_partial", r'aliasSub(golden.apps.*.*.count,"apps\.(\w+)\.","\1-")')
    add("aliasSub_no_match", 'aliasSub(golden.servers.*.cpu,"zzz","y")')
    add("legendValue_avg", f'legendValue({W1},"avg")')
    add("legendValue_multi", f'legendValue({W1},"last","max","min")')
    add("legendValue_si", 'legendValue(golden.counters.requests,"avg","si")')
    add("legendValue_binary", 'legendValue(golden.counters.requests,"max","binary")')
    add("legendValue_gaps", 'legendValue(golden.gaps.tail,"last","total")')

    # combine
    add("sumSeries", "sumSeries(golden.servers.web*.cpu)")
    add("sumSeries_mixed_steps", "sumSeries(golden.servers.*.cpu)")
    add("sumSeries_two_args", f"sumSeries({W1},golden.servers.web2.load)")
    add("sumSeries_gaps", "sumSeries(golden.gaps.*)")
    add("sumSeries_empty", "sumSeries(golden.nope.*)")
    add("sumSeries_alias_sum", "sum(golden.servers.web*.load)")
    add("averageSeries", "averageSeries(golden.servers.*.cpu)")
    add("averageSeries_gaps", "averageSeries(golden.gaps.*)")
    add("averageSeries_alias_avg", "avg(golden.servers.web*.load)")
    add("maxSeries", "maxSeries(golden.servers.web*.cpu)")
    add("maxSeries_gaps", "maxSeries(golden.gaps.*)")
    add("minSeries", "minSeries(golden.servers.web*.cpu)")
    add("minSeries_gaps", "minSeries(golden.gaps.*)")
    add("diffSeries", f"diffSeries({W1},golden.servers.web2.cpu)")
    add("diffSeries_gaps", "diffSeries(golden.gaps.*)")
    add("diffSeries_wildcard", "diffSeries(golden.servers.web*.load)")
    add("divideSeries", "divideSeries(golden.servers.web*.load,golden.servers.web1.load)")
    add("divideSeries_mixed_steps", "divideSeries(golden.servers.web*.load,golden.misc.one)")
    add("divideSeries_by_zero", f"divideSeries({W1},golden.misc.zero)")
    add("divideSeries_missing_divisor", f"divideSeries({W1},golden.nope)")
    add("divideSeries_many_divisors_error", f"divideSeries({W1},golden.servers.*.load)")
    add("multiplySeries", "multiplySeries(golden.servers.web1.load,golden.servers.web2.load)")
    add("multiplySeries_gaps", "multiplySeries(golden.gaps.*)")
    add("asPercent_row_total", "asPercent(golden.servers.web*.load)")
    add("asPercent_number", "asPercent(golden.servers.web*.load,50)")
    add("asPercent_single_total", "asPercent(golden.servers.web*.load,golden.servers.web1.cpu)")
    add("asPercent_sum_total", "asPercent(golden.servers.web*.load,"
        "sumSeries(golden.servers.web*.load))")
    add("asPercent_pairwise", "asPercent(golden.servers.web*.load,golden.servers.web*.cpu)")
    add("asPercent_nodes", "asPercent(golden.apps.*.*.count,None,2)")
    add("asPercent_nodes_total", "asPercent(golden.apps.*.*.count,golden.apps.*.get.count,2)")
    add("asPercent_nodes_missing", "asPercent(golden.apps.*.*.count,golden.apps.alpha.*.count,3)")
    add("asPercent_gaps", "asPercent(golden.gaps.*)")
    add("asPercent_zero_total", "asPercent(golden.servers.web1.load,golden.misc.zero)")
    add("group", f"group({W1},golden.misc.temperature,golden.nope)")
    add("groupByNode_default", "groupByNode(golden.apps.*.*.count,2)")
    add("groupByNode_sum", 'groupByNode(golden.apps.*.*.count,2,"sum")')
    add("groupByNode_series_func", 'groupByNode(golden.apps.*.*.count,3,"sumSeries")')
    add("groupByNode_maxSeries", 'groupByNode(golden.apps.*.*.count,2,"maxSeries")')
    add("groupByNode_negative", 'groupByNode(golden.servers.*.cpu,-2,"max")')
    add("groupByNode_gaps", 'groupByNode(golden.gaps.*,1,"avg_zero")')
    add("mapReduce_divideSeries", 'reduceSeries(mapSeries(golden.servers.web*.{cpu,load},2),'
        '"divideSeries",3,"load","cpu")')
    add("mapReduce_aliases_asPercent",
        'reduce(map(golden.apps.*.*.count,2),"asPercent",3,"post","get")')
    add("mapReduce_sumSeries", 'reduceSeries(mapSeries(golden.apps.*.*.count,2),'
        '"sumSeries",3,"post","get")')
    add("mapReduce_unmatched", 'reduceSeries(mapSeries(golden.servers.*.cpu,2),'
        '"divideSeries",3,"a","b")')
    add("mapReduce_nested", 'aliasByNode(reduceSeries(mapSeries(golden.servers.web*.{cpu,load},'
        '2),"diffSeries",3,"cpu","load"),1,3)')
    add("sumSeriesWithWildcards", "sumSeriesWithWildcards(golden.apps.*.*.count,2)")
    add("sumSeriesWithWildcards_two", "sumSeriesWithWildcards(golden.apps.*.*.count,2,3)")
    add("averageSeriesWithWildcards", "averageSeriesWithWildcards(golden.apps.*.*.count,3)")
    add("averageSeriesWithWildcards_mixed", "averageSeriesWithWildcards(golden.servers.*.cpu,2)")

    # transform
    add("scale", f"scale({W1},0.5)")
    add("scale_negative_gaps", "scale(golden.gaps.sparse,-2)")
    add("scale_int_name", f"scale({W1},10)")
    add("scaleToSeconds", "scaleToSeconds(golden.rates.hits,1)")
    add("scaleToSeconds_slow", "scaleToSeconds(golden.servers.db1.cpu,10)")
    add("offset", f"offset({W1},-10)")
    add("offset_gaps", "offset(golden.gaps.sparse,2.5)")
    add("absolute", "absolute(golden.misc.temperature)")
    add("derivative", "derivative(golden.counters.requests)")
    add("derivative_gaps", "derivative(golden.gaps.sparse)")
    add("nonNegativeDerivative", "nonNegativeDerivative(golden.counters.requests)")
    add("nonNegativeDerivative_maxValue", "nonNegativeDerivative(golden.counters.requests,65535)")
    add("nonNegativeDerivative_reset", "nonNegativeDerivative(golden.counters.errors)")
    add("nonNegativeDerivative_minValue",
        "nonNegativeDerivative(golden.counters.errors,minValue=0)")
    add("nonNegativeDerivative_max_min", "nonNegativeDerivative(golden.counters.requests,65535,10)")
    add("nonNegativeDerivative_above_max", "nonNegativeDerivative(golden.counters.requests,30000)")
    add("nonNegativeDerivative_gaps", "nonNegativeDerivative(golden.gaps.sparse)")
    add("perSecond", "perSecond(golden.counters.requests)")
    add("perSecond_maxValue", "perSecond(golden.counters.requests,65535)")
    add("perSecond_slow", "perSecond(golden.counters.bytes)")
    add("perSecond_reset_minValue", "perSecond(golden.counters.errors,minValue=0)")
    add("integral", "integral(golden.rates.hits)")
    add("integral_gaps", "integral(golden.gaps.sparse)")
    add("movingAverage_points", f"movingAverage({W1},5)")
    add("movingAverage_interval", f'movingAverage({W1},"1min")')
    add("movingAverage_gaps", 'movingAverage(golden.gaps.sparse,"5min")')
    add("movingAverage_xff", "movingAverage(golden.gaps.sparse,10,0.9)")
    add("movingAverage_slow", 'movingAverage(golden.servers.db1.cpu,"5min")')
    add("movingAverage_mixed_steps", 'movingAverage(golden.servers.*.cpu,"2min")')
    add("movingAverage_int_slow", "movingAverage(golden.servers.db1.cpu,3)")
    add("movingMedian", f"movingMedian({W1},5)")
    add("movingMedian_interval_gaps", 'movingMedian(golden.gaps.sparse,"1min")')
    add("movingSum", "movingSum(golden.rates.hits,6)")
    add("movingSum_interval", 'movingSum(golden.rates.hits,"1min")')
    for func in SUMMARIZE_FUNCS:
        add(f"summarize_5min_{func}", f'summarize({W1},"5min","{func}")')
    add("summarize_default_func", f'summarize({W1},"10min")')
    add("summarize_alignToFrom", f'summarize({W1},"5min","sum",true)', H1 + 100)
    add("summarize_not_aligned", f'summarize({W1},"5min","sum")', H1 + 100)
    add("summarize_alignToFrom_avg", f'summarize({W1},"7min","avg",true)', H1 + 100)
    add("summarize_gaps", 'summarize(golden.gaps.sparse,"1min","avg")')
    add("summarize_gaps_sum", 'summarize(golden.gaps.*,"3min")')
    add("summarize_slow_1h", 'summarize(golden.servers.db1.cpu,"1h","max")', D1)
    add("summarize_slow_1d", 'summarize(golden.counters.bytes,"1d","last")', D1)
    add("summarize_mixed", 'summarize(golden.servers.*.cpu,"15min","avg")')
    add("hitcount", 'hitcount(golden.rates.hits,"1min")')
    add("hitcount_uneven", 'hitcount(golden.rates.hits,"7min")')
    add("hitcount_unaligned_window", 'hitcount(golden.rates.hits,"5min")', H1 + 35, END - 20)
    add("hitcount_alignToInterval", 'hitcount(golden.rates.hits,"5min",true)', H1 + 35)
    add("hitcount_gaps", 'hitcount(golden.gaps.sparse,"2min")')
    add("hitcount_slow", 'hitcount(golden.servers.db1.cpu,"15min")')
    add("timeShift_1h", f'timeShift({W1},"1h")')
    add("timeShift_minus", f'timeShift({W1},"-30min")')
    add("timeShift_plus_future", f'timeShift({W1},"+10min")')
    add("timeShift_no_resetEnd", f'timeShift({W1},"+10min",false)')
    add("timeShift_wildcard", 'timeShift(golden.servers.*.cpu,"2h")')
    add("keepLastValue", "keepLastValue(golden.gaps.sparse)")
    add("keepLastValue_limit", "keepLastValue(golden.gaps.sparse,3)")
    add("keepLastValue_tail", "keepLastValue(golden.gaps.tail)")
    add("keepLastValue_tail_limit", "keepLastValue(golden.gaps.tail,10)")
    add("transformNull", "transformNull(golden.gaps.sparse)")
    add("transformNull_default", "transformNull(golden.gaps.sparse,-1)")
    add("transformNull_referenceSeries", "transformNull(golden.gaps.tail,0,golden.gaps.sparse)")
    add("transformNull_referenceSeries_kw",
        "transformNull(golden.gaps.*,default=5,referenceSeries=golden.servers.web1.cpu)")
    add("consolidateBy_name_only", f'consolidateBy({W1},"max")')

    # filters
    add("highestCurrent", "highestCurrent(golden.servers.*.cpu,2)")
    add("highestCurrent_stale", "highestCurrent(golden.gaps.*,1)")
    add("highestAverage", "highestAverage(golden.servers.*.cpu,2)")
    add("highestMax", "highestMax(golden.servers.*.load,1)")
    add("lowestCurrent", "lowestCurrent(golden.servers.*.cpu,2)")
    add("lowestCurrent_stale", "lowestCurrent(golden.gaps.*,1)")
    add("lowestAverage", "lowestAverage(golden.servers.*.cpu,1)")
    add("limit", "limit(golden.servers.*.cpu,2)")
    add("limit_more_than_there", "limit(golden.servers.*.cpu,10)")
    add("sortByMaxima", "sortByMaxima(golden.servers.*.load)")
    add("sortByName", "sortByName(golden.servers.*.*)")
    add("sortByName_natural", "sortByName(golden.*.*.*,true)")
    add("sortByName_reverse", "sortByName(golden.servers.*.*,false,true)")
    add("exclude", 'exclude(golden.servers.*.cpu,"web2")')
    add("exclude_regex", r'exclude(golden.servers.*.*,"web[13]\.")')
    add("grep", 'grep(golden.servers.*.*,"load$")')
    add("nPercentile", f"nPercentile({W1},95)")
    add("nPercentile_gaps", "nPercentile(golden.gaps.sparse,50)")
    add("nPercentile_fraction", "nPercentile(golden.servers.web*.load,33.3)")
    add("percentileOfSeries", "percentileOfSeries(golden.servers.web*.cpu,50)")
    add("percentileOfSeries_interpolate", "percentileOfSeries(golden.servers.web*.cpu,75,true)")
    add("percentileOfSeries_gaps", "percentileOfSeries(golden.gaps.*,90)")
    add("removeBelowValue", f"removeBelowValue({W1},50)")
    add("removeAboveValue", f"removeAboveValue({W1},50)")
    add("removeBelowValue_gaps", "removeBelowValue(golden.gaps.sparse,40.5)")

    # special / graph options (json shows names and data only)
    add("constantLine", "constantLine(42)")
    add("constantLine_day", "constantLine(-1.5)", D1)
    add("threshold", "threshold(80)")
    add("threshold_label_color", 'threshold(80,"max","red")')
    add("stacked", "stacked(golden.servers.web*.load)")
    add("stacked_named", 'stacked(golden.servers.web*.load,"mystack")')
    add("secondYAxis", f"secondYAxis({W1})")
    add("color", f'color({W1},"red")')
    add("lineWidth", f"lineWidth({W1},3)")
    add("dashed", f"dashed({W1})")
    add("dashed_length", f"dashed({W1},10)")
    add("drawAsInfinite", "drawAsInfinite(golden.misc.zero)")
    add("cactiStyle", "cactiStyle(golden.servers.web*.cpu)")
    add("cactiStyle_si", 'cactiStyle(golden.counters.requests,"si")')
    add("cactiStyle_binary_units", 'cactiStyle(golden.counters.requests,"binary","B")')
    add("cactiStyle_gaps", "cactiStyle(golden.gaps.*)")

    # issue 8: the remaining Transform, Calculate and Alias functions
    add("add", f"add({W1},10)")
    add("add_fraction_gaps", "add(golden.gaps.sparse,-2.5)")
    add("aggregateLine", f"aggregateLine({W1})")
    add("aggregateLine_max", 'aggregateLine(golden.servers.web*.cpu,"max")')
    add("aggregateLine_keepStep", 'aggregateLine(golden.gaps.sparse,"sum",true)')
    add("aggregateLine_last_stale", 'aggregateLine(golden.gaps.tail,"last")')
    add("aggregateLine_count", f'aggregateLine({W1},"count")')
    add("compressPeriodicGaps", "compressPeriodicGaps(removeBelowValue(golden.misc.zero,1))")
    add("compressPeriodicGaps_none", f"compressPeriodicGaps({W1})")
    add("compressPeriodicGaps_detected",
        "compressPeriodicGaps(removeBelowValue(golden.misc.zero,1))", H1 + 50)
    add("delay", f"delay({W1},3)")
    add("delay_negative_gaps", "delay(golden.gaps.sparse,-2)")
    add("delay_zero", f"delay({W1},0)")
    add("exp", "exp(golden.rates.misses)")
    add("exp_overflow", "exp(scale(golden.misc.temperature,50))")
    add("exponentialMovingAverage_points", f"exponentialMovingAverage({W1},5)")
    add("exponentialMovingAverage_interval", f'exponentialMovingAverage({W1},"1min")')
    add("exponentialMovingAverage_gaps", "exponentialMovingAverage(golden.gaps.sparse,10)")
    add("exponentialMovingAverage_slow", 'exponentialMovingAverage(golden.servers.db1.cpu,"5min")')
    add("exponentialMovingAverage_mixed", "exponentialMovingAverage(golden.servers.*.cpu,3)")
    add("holtWintersForecast", f'holtWintersForecast({W1},"2h","10min")')
    add("holtWintersForecast_gaps", 'holtWintersForecast(golden.gaps.sparse,"1h","5min")')
    add("holtWintersForecast_default", f"holtWintersForecast({W1})")
    add("holtWintersForecast_slow", 'holtWintersForecast(golden.servers.db1.cpu,"6h","1h")', H6)
    add("holtWintersConfidenceBands", f'holtWintersConfidenceBands({W1},3,"2h","10min")')
    add("holtWintersConfidenceBands_delta", 'holtWintersConfidenceBands(golden.gaps.sparse,2,'
        '"1h","30min")')
    add("holtWintersAberration", f'holtWintersAberration({W1},1,"2h","10min")')
    add("holtWintersAberration_gaps", 'holtWintersAberration(golden.gaps.sparse,1,"1h","5min")')
    add("holtWintersConfidenceArea", f'holtWintersConfidenceArea({W1},3,"2h","10min")')
    add("holtWintersConfidenceArea_wildcard",
        'holtWintersConfidenceArea(golden.servers.web*.load,3,"1h","10min")')
    add("identity", 'identity("the.time")')
    add("integralByInterval", 'integralByInterval(golden.rates.hits,"10min")')
    add("integralByInterval_unaligned_gaps", 'integralByInterval(golden.gaps.sparse,"15min")',
        H1 + 100)
    add("interpolate", "interpolate(golden.gaps.sparse)")
    add("interpolate_limit", "interpolate(golden.gaps.sparse,3)")
    add("interpolate_tail", "interpolate(golden.gaps.tail)")
    add("invert", f"invert({W1})")
    add("invert_zero", "invert(golden.misc.zero)")
    add("isNonNull", "isNonNull(golden.gaps.*)")
    add("linearRegression", f"linearRegression({W1})")
    add("linearRegression_source_window",
        f'linearRegression(golden.rates.hits,"{H1 - 3600}","{H1}")')
    add("linearRegression_gaps", "linearRegression(golden.gaps.*)")
    add("log", f"log({W1})")
    add("log_base2_negative", "log(golden.misc.temperature,2)")
    add("log_base1_error", f"log({W1},1)")
    add("logit", f"logit(scale({W1},0.01))")
    add("minMax", "minMax(golden.servers.web*.cpu)")
    add("minMax_flat", "minMax(golden.misc.one)")
    add("offsetToZero", "offsetToZero(golden.misc.temperature)")
    add("offsetToZero_gaps", "offsetToZero(golden.gaps.*)")
    add("pow", f"pow({W1},2)")
    add("pow_fraction_negative", "pow(golden.misc.temperature,0.5)")
    add("pow_negative_zero", "pow(golden.gaps.sparse,-1)")
    add("round", f"round(scale({W1},0.3))")
    add("round_precision", f"round(scale({W1},0.37),1)")
    add("round_negative", f"round({W1},-1)")
    add("sigmoid", "sigmoid(scale(golden.misc.temperature,0.1))")
    add("sin", 'sin("wave")')
    add("sin_amplitude_step", 'sin("wave",2,30)')
    add("sinFunction", 'sinFunction("wave",3)')
    add("smartSummarize", f'smartSummarize({W1},"5min")')
    add("smartSummarize_avg_uneven", f'smartSummarize({W1},"7min","avg")', H1 + 100)
    add("smartSummarize_gaps", 'smartSummarize(golden.gaps.sparse,"1min","max")')
    add("smartSummarize_alignTo_hours", f'smartSummarize({W1},"10min","sum","hours")', H1 + 100)
    add("smartSummarize_alignTo_minutes", f'smartSummarize({W1},"1min","avg","minutes")',
        H1 + 35)
    add("smartSummarize_alignTo_days", 'smartSummarize(golden.servers.db1.cpu,"6h","max",'
        '"days")', D1 + 3600)
    add("smartSummarize_alignTo_bool_ignored", f'smartSummarize({W1},"5min","sum",true)', H1 + 100)
    add("squareRoot", f"squareRoot({W1})")
    add("squareRoot_negative", "squareRoot(golden.misc.temperature)")
    add("stdev", f"stdev({W1},5)")
    add("stdev_tolerance_gaps", "stdev(golden.gaps.sparse,10,0.5)")
    add("stdev_zero_tolerance", "stdev(golden.gaps.tail,3,0.0)")
    add("time", 'time("t")')
    add("time_step", 'time("t",300)', H1 + 7)
    add("timeFunction", 'timeFunction("t")')
    add("timeSlice", f'timeSlice({W1},"{H1 + 600}","{H1 + 1800}")')
    add("timeSlice_default_end_unaligned", f'timeSlice({W1},"{H1 + 600}")', H1 + 5)
    add("timeStack", f'timeStack({W1},"10min",0,3)')
    add("timeStack_wildcard", 'timeStack(golden.servers.web*.load,"1h",1,3)')
    add("upper", f"upper({W1})")
    add("upper_positions", f"upper({W1},0,-1,100)")
    add("lower", f'lower(alias({W1},"Front.END"))')
    add("lower_positions", f'lower(alias({W1},"Front.END"),0,-2)')

    # other output formats (bodies stored as text)
    add("format_csv", [W1, "golden.gaps.sparse"], H1 + 3000, format="csv")
    add("format_raw", "golden.servers.*.cpu", H1 + 3000, format="raw")
    add("format_raw_gaps", "golden.gaps.*", H1 + 3000, format="raw")
    add("format_raw_function", f"movingAverage({W1},3)", H1 + 3000, format="raw")

    # errors: the status code and graphite's body
    add("error_unknown_function", f"nosuchFunction({W1})")
    add("error_bad_from", W1, params_from="garbage")
    add("error_bad_offset_unit", W1, params_from="-5m")
    add("error_bad_argument_type", f'scale({W1},"abc")')
    add("error_missing_argument", f"scale({W1})")
    add("error_bad_interval", f'movingAverage({W1},"5foo")')
    add("unclosed_call_is_a_path", f"sumSeries({W1}")  # graphite: no error, no data
    add("consolidateBy_unknown_accepted", f'consolidateBy({W1},"bogus")')  # not validated
    add("error_bad_summarize_func", f'summarize({W1},"5min","bogus")')
    return cases


def other_cases() -> list[dict]:
    """Metrics API requests: (name, path, params as a list of pairs)."""
    def c(name: str, path: str, *pairs: tuple[str, str]) -> dict:
        return {"name": name, "path": path, "params": list(pairs)}

    return [
        c("find_top", "/metrics/find", ("query", "*")),
        c("find_golden", "/metrics/find", ("query", "golden.*")),
        c("find_servers", "/metrics/find", ("query", "golden.servers.*")),
        c("find_leaves", "/metrics/find", ("query", "golden.servers.*.cpu")),
        c("find_wildcards", "/metrics/find", ("query", "golden.servers.*"), ("wildcards", "1")),
        c("find_wildcards_leaves", "/metrics/find", ("query", "golden.servers.web1.*"),
          ("wildcards", "1")),
        c("find_braces", "/metrics/find", ("query", "golden.{servers,apps}.*")),
        c("find_char_class", "/metrics/find", ("query", "golden.servers.web[12]")),
        c("find_leaves_only", "/metrics/find", ("query", "golden.*.*"), ("leavesOnly", "1")),
        c("find_missing", "/metrics/find", ("query", "golden.nope.*")),
        c("find_no_query", "/metrics/find"),
        c("find_completer", "/metrics/find", ("query", "golden.serv"),
          ("format", "completer")),
        c("find_completer_dot", "/metrics/find", ("query", "golden.servers."),
          ("format", "completer")),
        c("find_completer_wildcards", "/metrics/find", ("query", "golden.servers.*"),
          ("format", "completer"), ("wildcards", "1")),
        c("find_nodelist", "/metrics/find", ("query", "golden.*.*"), ("format", "nodelist"),
          ("position", "1")),
        c("expand", "/metrics/expand", ("query", "golden.servers.*")),
        c("expand_two_queries", "/metrics/expand", ("query", "golden.servers.*"),
          ("query", "golden.apps.*.*")),
        c("expand_group_by_expr", "/metrics/expand", ("query", "golden.servers.*"),
          ("query", "golden.gaps.*"), ("groupByExpr", "1")),
        c("expand_leaves_only", "/metrics/expand", ("query", "golden.*.*"),
          ("leavesOnly", "1")),
        c("index_json", "/metrics/index.json"),
    ]


def fetch(base: str, path: str, pairs: list[tuple[str, str]]) -> tuple[int, str, str]:
    url = f"{base}{path}?{urllib.parse.urlencode(pairs)}" if pairs else base + path
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode(errors="replace")


def decode_body(content_type: str, body: str, status: int):
    """JSON bodies as JSON, others as text; a 5xx body (graphite's HTML traceback page)
    is not kept: only its status matters."""
    if status >= 500:
        return None
    if "json" in content_type:
        try:
            return json.loads(body)
        except ValueError:
            pass
    return body


def render_pairs(case: dict) -> list[tuple[str, str]]:
    params = dict(case["params"])
    targets = case["target"] if isinstance(case["target"], list) else [case["target"]]
    pairs = [("target", t) for t in targets]
    pairs += [("from", params.pop("params_from", str(case["from"]))),
              ("until", str(case["until"])), ("now", str(END))]
    pairs.append(("format", params.pop("format", "json")))
    pairs += sorted(params.items())
    return pairs


def record(base: str, only: str | None) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    count = 0
    for case in render_cases():
        if only and only not in case["name"]:
            continue
        pairs = render_pairs(case)
        status, ctype, body = fetch(base, "/render", pairs)
        frm = dict(pairs)["from"]
        doc = {"target": case["target"], "from": int(frm) if frm.isdigit() else frm,
               "until": case["until"], "now": END,
               "params": {k: v for k, v in pairs if k not in ("target", "from", "until", "now")},
               "status": status, "response": decode_body(ctype, body, status)}
        write(case["name"], doc)
        count += 1
    for case in other_cases():
        if only and only not in case["name"]:
            continue
        status, ctype, body = fetch(base, case["path"], case["params"])
        doc = {"path": case["path"], "params": case["params"], "status": status,
               "content_type": ctype.split(";")[0], "response": decode_body(ctype, body, status)}
        write(case["name"], doc)
        count += 1
    return count


def dumps(doc: dict) -> str:
    """JSON with one line per top-level key and per response item: small, diffable."""
    lines = []
    for key, value in doc.items():
        if isinstance(value, list) and value and key == "response":
            text = "[\n  " + ",\n  ".join(json.dumps(item) for item in value) + "\n ]"
        else:
            text = json.dumps(value)
        lines.append(f" {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write(name: str, doc: dict) -> None:
    (OUT / f"{name}.json").write_text(dumps(doc))
    status = doc["status"]
    flag = "" if status == 200 else f"  [{status}]"
    print(f"{name}{flag}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="record only cases whose name contains this")
    ap.add_argument("--keep-data", type=Path, help="build the dataset here and keep it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="golden-whisper-") as tmp:
        data = args.keep_data or Path(tmp)
        gd.build(data)
        with graphite_web(data) as base:
            n = record(base, args.only)
            meta = {"graphite_web": versions(), "END": END, "dataset": "golden_dataset.py",
                    "metrics": [m.name for m in gd.METRICS], "cases": n}
            if not args.only:
                (OUT / "_meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{n} cases written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
