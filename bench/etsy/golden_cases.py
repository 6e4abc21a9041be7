"""The cases that bench/record_etsy_golden.py records from etsy statsd 0.9.0.

Each case is a dict:
    name         file name under tests/statsd_daemon/golden/ (deviation_* = etsy does
                 something our daemon deliberately does not reproduce)
    description  one paragraph, copied into the golden file
    config       etsy config keys (semantics only; ports and hosts are added by the
                 harness; flushInterval 2000 is added by the recorder)
    steps        list of packet lists; each step's packets are sent right after a
                 flush, and the next flush is that step's recorded flush
    startup      optional, True = the first step is etsy's first flush after start,
                 with no packets sent before it (its packet list must be empty)
    expect       optional, {step index: {name: value string}}: values checked by the
                 recorder (hand-computed from the semantics in reference/ecosystem.md
                 §1, so a recording that disagrees fails loudly)
    absent       optional, {step index: [names that must not be in that flush]}
    present      optional, {step index: [names that must be in it, any value]}

Every step is also checked automatically: packets_received == number of packets,
metrics_received == number of non-empty lines (see record_etsy_golden.py).
"""

from __future__ import annotations

# A packet is a str (sent as UTF-8 bytes); "\n" separates metrics inside one packet.

TIMER_A = [7, 3, 10, 1, 9, 2, 8, 5, 4, 6]  # 10 values, unsorted on purpose
TIMER_200 = [float(i) for i in range(1, 201)]  # n=200 so that 0.5% keeps 1 value


def timer_packets(key: str, values, per_packet: int = 25) -> list[str]:
    """Multi-metric packets carrying one timer sample per line."""
    lines = [f"{key}:{_num(v)}|ms" for v in values]
    return ["\n".join(lines[i : i + per_packet]) for i in range(0, len(lines), per_packet)]


def _num(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


CASES: list[dict] = [
    # ------------------------------------------------------------------ startup
    {
        "name": "startup_internal",
        "description": "A fresh etsy: its first flush (nothing sent yet; no timestamp_lag "
        "gauge because there was no previous flush), then one counter, then "
        "an idle flush.  Shows the internal counters that exist from the "
        "start and that numStats counts them.",
        "config": {},
        "startup": True,
        "steps": [[], ["gorets:1|c"], []],
        "expect": {
            0: {
                "stats_counts.statsd.bad_lines_seen": "0",
                "stats_counts.statsd.packets_received": "0",
                "stats_counts.statsd.metrics_received": "0",
                "statsd.numStats": "3",
            },
            1: {"stats_counts.gorets": "1", "stats.gorets": "0.5", "statsd.numStats": "5"},
            2: {"stats_counts.gorets": "0", "stats.gorets": "0"},
        },
        "absent": {0: ["stats.gauges.statsd.timestamp_lag"]},
        "present": {1: ["stats.gauges.statsd.timestamp_lag"]},
    },
    # ----------------------------------------------------------------- counters
    {
        "name": "counters",
        "description": "Counters: plain, negative, fractional, sample rates 0.1 and 0.5, "
        "repeated keys inside one multi-metric packet; counters that got "
        "nothing are flushed as 0 while deleteCounters is false.",
        "config": {},
        "steps": [
            [
                "gorets:1|c",
                "gorets:2|c\ngorets:3|c",
                "neg:-5|c",
                "neg:2|c",
                "frac:0.1|c",
                "frac:0.2|c",
                "big:1000000|c",
                "exp:1e3|c",
            ],
            [
                "sampled:1|c|@0.1",
                "sampled:1|c|@0.1",
                "half:3|c|@0.5",
                "third:1|c|@0.3",
                "rep:1|c\nrep:1|c\nrep:2|c\nrep:-1|c\nother:1|c",
                "gorets:1|c",
            ],
            [],
        ],
        "expect": {
            0: {
                "stats_counts.gorets": "6",
                "stats.gorets": "3",
                "stats_counts.neg": "-3",
                "stats.neg": "-1.5",
                "stats_counts.frac": "0.30000000000000004",
                "stats_counts.big": "1000000",
                "stats.big": "500000",
                "stats_counts.exp": "1000",
            },
            1: {
                "stats_counts.sampled": "20",
                "stats.sampled": "10",
                "stats_counts.half": "6",
                "stats_counts.rep": "3",
                "stats_counts.other": "1",
                "stats_counts.gorets": "1",
                "stats_counts.neg": "0",
                "stats_counts.third": "3.3333333333333335",
            },
            2: {"stats_counts.sampled": "0", "stats.sampled": "0", "stats_counts.gorets": "0"},
        },
    },
    {
        "name": "counters_multisample",
        "description": "etsy's legacy multi-sample line: every ':'-separated part after the "
        "key is its own value|type[|@rate] sample with its own type "
        "(k:1|c:2|c counts 3; one key can be counter, timer and gauge at "
        "once).  A bad part is a bad line on its own; the good parts count.",
        "config": {},
        "steps": [
            ["k:1|c:2|c", "mixed:1|c:320|ms:5|g", "part:1|c:x|c:4|c|@0.5"],
            [],
        ],
        "expect": {
            0: {
                "stats_counts.k": "3",
                "stats_counts.mixed": "1",
                "stats.timers.mixed.count": "1",
                "stats.timers.mixed.upper": "320",
                "stats.gauges.mixed": "5",
                "stats_counts.part": "9",
                "stats_counts.statsd.bad_lines_seen": "1",
            },
        },
    },
    # ------------------------------------------------------------------- timers
    {
        "name": "timers",
        "description": "Timers with the default percentThreshold [90]: ten unsorted values, a "
        "single value, sample rate 0.1, odd and even medians, zeros, float "
        "values, a large value (exponent formatting); a timer that got "
        "values in step 0 and none in step 1 flushes only count=0 and "
        "count_ps=0; step 2 brings values back.",
        "config": {},
        "steps": [
            [
                *timer_packets("t.a", TIMER_A),
                "t.single:320|ms",
                "t.sampled:100|ms|@0.1\nt.sampled:200|ms|@0.1",
                "t.odd:5|ms\nt.odd:1|ms\nt.odd:3|ms\nt.odd:9|ms\nt.odd:7|ms",
                "t.even:4|ms\nt.even:1|ms\nt.even:3|ms\nt.even:2|ms",
                "t.zero:0|ms\nt.zero:0|ms\nt.zero:0|ms",
                "t.float:0.1|ms\nt.float:0.2|ms\nt.float:0.3|ms",
                "t.big:123456789012|ms\nt.big:1|ms",
            ],
            [],
            ["t.a:50|ms", "t.a:100|ms"],
        ],
        "expect": {
            0: {
                "stats.timers.t.a.count": "10",
                "stats.timers.t.a.count_ps": "5",
                "stats.timers.t.a.upper": "10",
                "stats.timers.t.a.lower": "1",
                "stats.timers.t.a.sum": "55",
                "stats.timers.t.a.sum_squares": "385",
                "stats.timers.t.a.mean": "5.5",
                "stats.timers.t.a.median": "5.5",
                "stats.timers.t.a.std": "2.8722813232690143",
                "stats.timers.t.a.count_90": "9",
                "stats.timers.t.a.upper_90": "9",
                "stats.timers.t.a.sum_90": "45",
                "stats.timers.t.a.mean_90": "5",
                "stats.timers.t.a.sum_squares_90": "285",
                "stats.timers.t.single.count_90": "1",
                "stats.timers.t.single.upper_90": "320",
                "stats.timers.t.single.std": "0",
                "stats.timers.t.sampled.count": "20",
                "stats.timers.t.sampled.count_ps": "10",
                "stats.timers.t.sampled.count_90": "2",
                "stats.timers.t.odd.median": "5",
                "stats.timers.t.even.median": "2.5",
                "stats.timers.t.zero.mean": "0",
                "stats.timers.t.zero.upper": "0",
            },
            1: {"stats.timers.t.a.count": "0", "stats.timers.t.a.count_ps": "0"},
            2: {"stats.timers.t.a.count": "2", "stats.timers.t.a.median": "75"},
        },
        "absent": {
            1: ["stats.timers.t.a.upper", "stats.timers.t.a.count_90", "stats.timers.t.a.median"]
        },
    },
    {
        "name": "timers_threshold_scalar",
        "description": "percentThreshold given as a single number (95) instead of a list.",
        "config": {"percentThreshold": 95},
        "steps": [[*timer_packets("t.a", TIMER_A), "t.one:42|ms"], []],
        "expect": {
            0: {
                "stats.timers.t.a.count_95": "10",
                "stats.timers.t.a.upper_95": "10",
                "stats.timers.t.one.upper_95": "42",
            }
        },
        "absent": {0: ["stats.timers.t.a.count_90"]},
    },
    {
        "name": "timers_thresholds",
        "description": "percentThreshold [90, 99.9, 50, -10, 0.5, 100]: names use '.'->'_' "
        "and '-'->'top' (upper_99_9, lower_top10); a threshold whose "
        "round(|p|/100*n) is 0 is skipped when n>1 (0.5 needs n>=100); with "
        "one value every threshold is that value.",
        "config": {"percentThreshold": [90, 99.9, 50, -10, 0.5, 100]},
        "steps": [
            timer_packets("t.a", TIMER_A)
            + timer_packets("t.n200", TIMER_200)
            + ["t.one:42|ms", "t.two:10|ms\nt.two:20|ms"],
            [],
        ],
        "expect": {
            0: {
                "stats.timers.t.a.count_99_9": "10",
                "stats.timers.t.a.upper_99_9": "10",
                "stats.timers.t.a.count_50": "5",
                "stats.timers.t.a.upper_50": "5",
                "stats.timers.t.a.mean_50": "3",
                "stats.timers.t.a.count_top10": "1",
                "stats.timers.t.a.lower_top10": "10",
                "stats.timers.t.a.mean_top10": "10",
                "stats.timers.t.a.sum_top10": "10",
                "stats.timers.t.a.count_100": "10",
                "stats.timers.t.a.upper_100": "10",
                "stats.timers.t.n200.count_0_5": "1",
                "stats.timers.t.n200.upper_0_5": "1",
                "stats.timers.t.n200.count_top10": "20",
                "stats.timers.t.n200.lower_top10": "181",
                "stats.timers.t.one.count_0_5": "1",
                "stats.timers.t.one.lower_top10": "42",
                "stats.timers.t.two.count_50": "1",
                "stats.timers.t.two.upper_50": "10",
            },
        },
        "absent": {
            0: [
                "stats.timers.t.a.count_0_5",
                "stats.timers.t.two.count_0_5",
                "stats.timers.t.two.count_top10",
            ]
        },
    },
    {
        "name": "deviation_timer_negative_thresholds",
        "description": "percentThreshold [90, 99.9, 50, -10, -99.9, 0.5, 100]: for a negative "
        "threshold whose n equals the count (here -99.9 with 2..200 values) "
        "etsy reads cumulativeValues[-1] and flushes sum/mean/sum_squares "
        "as NaN (lib/process_metrics.js lines 62-68).  Not to be reproduced.",
        "config": {"percentThreshold": [90, 99.9, 50, -10, -99.9, 0.5, 100]},
        "steps": [
            timer_packets("t.a", TIMER_A)
            + timer_packets("t.n200", TIMER_200)
            + ["t.one:42|ms", "t.two:10|ms\nt.two:20|ms"],
            [],
        ],
        "expect": {
            0: {
                "stats.timers.t.a.count_top99_9": "10",
                "stats.timers.t.a.lower_top99_9": "1",
                "stats.timers.t.a.sum_top99_9": "NaN",
                "stats.timers.t.a.mean_top99_9": "NaN",
                "stats.timers.t.one.sum_top99_9": "42",
            }
        },
    },
    # --------------------------------------------------------------- histograms
    {
        "name": "histograms",
        "description": "histogram [{metric:'foo', bins:[0.01,0.1,1,'inf']}, {metric:'', "
        "bins:[10,100]}, {metric:'nohist', bins:[]}]: the first entry whose "
        "metric is a substring of the key wins, so '' catches every key not "
        "containing 'foo' (the 'nohist' entry is never reached); bins are "
        "non-inclusive upper limits; values >= the last finite bin are "
        "dropped unless 'inf'; no histogram lines for a timer without values.",
        "config": {
            "histogram": [
                {"metric": "foo", "bins": [0.01, 0.1, 1, "inf"]},
                {"metric": "", "bins": [10, 100]},
                {"metric": "nohist", "bins": []},
            ]
        },
        "steps": [
            [
                "foo.t:0.005|ms\nfoo.t:0.01|ms\nfoo.t:0.05|ms\nfoo.t:0.5|ms\nfoo.t:1|ms\nfoo.t:5|ms\nfoo.t:1000|ms",
                "bar.t:5|ms\nbar.t:10|ms\nbar.t:50|ms\nbar.t:99.99|ms\nbar.t:100|ms\nbar.t:150|ms",
                "nohist.t:1|ms\nnohist.t:20|ms",
                "a.foo.b:0|ms",
            ],
            [],
            ["foo.t:0.02|ms"],
        ],
        "expect": {
            0: {
                "stats.timers.foo.t.histogram.bin_0_01": "1",
                "stats.timers.foo.t.histogram.bin_0_1": "2",
                "stats.timers.foo.t.histogram.bin_1": "1",
                "stats.timers.foo.t.histogram.bin_inf": "3",
                "stats.timers.bar.t.histogram.bin_10": "1",
                "stats.timers.bar.t.histogram.bin_100": "3",
                "stats.timers.nohist.t.histogram.bin_10": "1",
                "stats.timers.nohist.t.histogram.bin_100": "1",
                "stats.timers.a.foo.b.histogram.bin_0_01": "1",
            },
            2: {
                "stats.timers.foo.t.histogram.bin_0_1": "1",
                "stats.timers.foo.t.histogram.bin_0_01": "0",
            },
        },
        "absent": {
            1: ["stats.timers.foo.t.histogram.bin_0_01"],
            2: ["stats.timers.bar.t.histogram.bin_10"],
        },
    },
    {
        "name": "histograms_first_match",
        "description": "The same entries in another order: [{metric:'nohist', bins:[]}, "
        "{metric:'foo', ...}, {metric:'', bins:[10,100]}]; an earlier entry "
        "with empty bins switches histograms off for the keys it matches.",
        "config": {
            "histogram": [
                {"metric": "nohist", "bins": []},
                {"metric": "foo", "bins": [0.01, 0.1, 1, "inf"]},
                {"metric": "", "bins": [10, 100]},
            ]
        },
        "steps": [["nohist.foo:1|ms", "foo.t:0.5|ms", "bar.t:5|ms"], []],
        "expect": {
            0: {
                "stats.timers.foo.t.histogram.bin_1": "1",
                "stats.timers.bar.t.histogram.bin_10": "1",
            }
        },
        "absent": {
            0: [
                "stats.timers.nohist.foo.histogram.bin_10",
                "stats.timers.nohist.foo.histogram.bin_1",
            ]
        },
    },
    # --------------------------------------------------- calculatedTimerMetrics
    {
        "name": "calculated_timer_metrics",
        "description": "calculatedTimerMetrics ['count','median','upper_percent','histogram',"
        "'mean_percent'] with percentThreshold [90, 99.9]: a stat is kept if "
        "its name with /_(top)?\\d+$/ replaced by '_percent' is listed.  That "
        "regex only eats the last digit group, so upper_99_9 becomes "
        "upper_99_percent and every 99.9 stat is dropped.  An idle timer "
        "keeps only count.",
        "config": {
            "calculatedTimerMetrics": [
                "count",
                "median",
                "upper_percent",
                "histogram",
                "mean_percent",
            ],
            "percentThreshold": [90, 99.9],
            "histogram": [{"metric": "", "bins": [5, "inf"]}],
        },
        "steps": [[*timer_packets("t.a", TIMER_A), "t.one:42|ms"], []],
        "expect": {
            0: {
                "stats.timers.t.a.count": "10",
                "stats.timers.t.a.median": "5.5",
                "stats.timers.t.a.upper_90": "9",
                "stats.timers.t.a.mean_90": "5",
                "stats.timers.t.a.histogram.bin_5": "4",
                "stats.timers.t.a.histogram.bin_inf": "6",
            },
            1: {"stats.timers.t.a.count": "0"},
        },
        "absent": {
            0: [
                "stats.timers.t.a.upper_99_9",
                "stats.timers.t.a.mean_99_9",
                "stats.timers.t.a.upper",
                "stats.timers.t.a.count_90",
                "stats.timers.t.a.count_ps",
                "stats.timers.t.a.sum_90",
            ],
            1: ["stats.timers.t.a.count_ps"],
        },
    },
    {
        "name": "calculated_timer_metrics_top",
        "description": "calculatedTimerMetrics ['count_percent','lower_percent','sum'] with "
        "percentThreshold [-10, 50]: '_top10' is also mapped to '_percent'; "
        "upper_50 is not kept because 'upper_percent' is not listed.",
        "config": {
            "calculatedTimerMetrics": ["count_percent", "lower_percent", "sum"],
            "percentThreshold": [-10, 50],
        },
        "steps": [timer_packets("t.a", TIMER_A), []],
        "expect": {
            0: {
                "stats.timers.t.a.count_top10": "1",
                "stats.timers.t.a.lower_top10": "10",
                "stats.timers.t.a.count_50": "5",
                "stats.timers.t.a.sum": "55",
            }
        },
        "absent": {
            0: ["stats.timers.t.a.upper_50", "stats.timers.t.a.sum_50", "stats.timers.t.a.count"]
        },
    },
    # ------------------------------------------------------------------- gauges
    {
        "name": "gauges",
        "description": "Gauges: set, +delta, -delta, a signed value on a gauge that does not "
        "exist yet (sets it), a gauge at 0 then +5 (etsy sets: 0 is falsy; same "
        "number), gauges kept and re-sent on idle flushes, and a later "
        "negative value that is applied as a delta.",
        "config": {},
        "steps": [
            [
                "g.set:10|g",
                "g.up:5|g\ng.up:+3|g",
                "g.down:5|g\ng.down:-7|g",
                "g.newplus:+4|g",
                "g.newminus:-4|g",
                "g.float:1.5|g\ng.float:+0.25|g",
                "g.zero:0|g\ng.zero:+5|g",
                "g.twice:1|g\ng.twice:2|g",
            ],
            ["g.up:+1|g"],
            [],
            ["g.set:-1|g", "g.down:20|g"],
        ],
        "expect": {
            0: {
                "stats.gauges.g.set": "10",
                "stats.gauges.g.up": "8",
                "stats.gauges.g.down": "-2",
                "stats.gauges.g.newplus": "4",
                "stats.gauges.g.newminus": "-4",
                "stats.gauges.g.float": "1.75",
                "stats.gauges.g.zero": "5",
                "stats.gauges.g.twice": "2",
            },
            1: {"stats.gauges.g.up": "9", "stats.gauges.g.set": "10"},
            2: {"stats.gauges.g.up": "9", "stats.gauges.g.set": "10", "stats.gauges.g.down": "-2"},
            3: {"stats.gauges.g.set": "9", "stats.gauges.g.down": "20"},
        },
    },
    {
        "name": "gauges_ttl",
        "description": "deleteGauges true with gaugesMaxTTL 2: a gauge is flushed in the "
        "flush after its last update and the next one, then deleted; an "
        "update resets the TTL; a delta on a deleted gauge sets it.  The "
        "internal timestamp_lag gauge never expires.",
        "config": {"deleteGauges": True, "gaugesMaxTTL": 2},
        "steps": [["g.a:1|g", "g.b:2|g"], ["g.a:+1|g"], [], ["g.b:+5|g"], [], []],
        "expect": {
            0: {"stats.gauges.g.a": "1", "stats.gauges.g.b": "2"},
            1: {"stats.gauges.g.a": "2", "stats.gauges.g.b": "2"},
            2: {"stats.gauges.g.a": "2"},
            3: {"stats.gauges.g.b": "5"},
            4: {"stats.gauges.g.b": "5"},
        },
        "present": {5: ["stats.gauges.statsd.timestamp_lag"]},
        "absent": {2: ["stats.gauges.g.b"], 3: ["stats.gauges.g.a"], 5: ["stats.gauges.g.b"]},
    },
    {
        "name": "gauges_ttl_default",
        "description": "deleteGauges true with the default gaugesMaxTTL (1): a gauge is "
        "flushed once after its update, then deleted.",
        "config": {"deleteGauges": True},
        "steps": [["g.a:1|g"], [], ["g.a:+2|g"], []],
        "expect": {0: {"stats.gauges.g.a": "1"}, 2: {"stats.gauges.g.a": "2"}},
        "absent": {1: ["stats.gauges.g.a"], 3: ["stats.gauges.g.a"]},
    },
    # --------------------------------------------------------------------- sets
    {
        "name": "sets",
        "description": "Sets count distinct raw value strings ('1.5' and '1.50' differ); an "
        "empty value is stored as '0'; a sample rate is ignored; sets that "
        "got nothing are flushed as 0 while deleteSets is false.",
        "config": {},
        "steps": [
            [
                "s.a:1|s",
                "s.a:1|s",
                "s.a:2|s",
                "s.b:x|s\ns.b:y|s\ns.b:x|s",
                "s.f:1.5|s\ns.f:1.50|s",
                "s.e:|s\ns.e:0|s",
                "s.r:1|s|@0.5\ns.r:2|s|@0.5",
                "s.neg:-1|s",
            ],
            ["s.a:3|s"],
            [],
        ],
        "expect": {
            0: {
                "stats.sets.s.a.count": "2",
                "stats.sets.s.b.count": "2",
                "stats.sets.s.f.count": "2",
                "stats.sets.s.e.count": "1",
                "stats.sets.s.r.count": "2",
                "stats.sets.s.neg.count": "1",
            },
            1: {"stats.sets.s.a.count": "1", "stats.sets.s.b.count": "0"},
            2: {"stats.sets.s.a.count": "0"},
        },
    },
    # ------------------------------------------------------------ idle deletion
    {
        "name": "delete_idle_stats",
        "description": "deleteIdleStats true: counters, timers, sets and gauges are deleted "
        "after each flush, so an idle key is not flushed at all.  Internal "
        "counters (and any counter whose key merely contains "
        "'packets_received', 'metrics_received' or 'bad_lines_seen') are "
        "reset to 0 instead of deleted; timestamp_lag is never deleted.",
        "config": {"deleteIdleStats": True},
        "steps": [
            ["c.a:1|c", "c.b:2|c", "t.a:5|ms", "g.a:3|g", "s.a:x|s", "app.packets_received:7|c"],
            ["c.b:1|c"],
            [],
        ],
        "expect": {
            0: {
                "stats_counts.c.a": "1",
                "stats.timers.t.a.count": "1",
                "stats.gauges.g.a": "3",
                "stats.sets.s.a.count": "1",
                "stats_counts.app.packets_received": "7",
            },
            1: {"stats_counts.c.b": "1", "stats_counts.app.packets_received": "0"},
            2: {
                "stats_counts.statsd.metrics_received": "0",
                "stats_counts.app.packets_received": "0",
            },
        },
        "absent": {
            1: [
                "stats_counts.c.a",
                "stats.timers.t.a.count",
                "stats.gauges.g.a",
                "stats.sets.s.a.count",
            ],
            2: ["stats_counts.c.b"],
        },
    },
    {
        "name": "delete_idle_keep_gauges",
        "description": "deleteIdleStats true with deleteGauges false: everything idle is "
        "deleted except gauges, which are kept and re-sent.",
        "config": {"deleteIdleStats": True, "deleteGauges": False},
        "steps": [["c.a:1|c", "t.a:5|ms", "g.a:3|g", "s.a:x|s"], [], ["g.a:+1|g"]],
        "expect": {1: {"stats.gauges.g.a": "3"}, 2: {"stats.gauges.g.a": "4"}},
        "absent": {1: ["stats_counts.c.a", "stats.timers.t.a.count", "stats.sets.s.a.count"]},
    },
    {
        "name": "delete_counters_only",
        "description": "deleteCounters true alone: idle counters vanish, idle timers still "
        "flush count=0, idle sets flush 0, gauges are kept.",
        "config": {"deleteCounters": True},
        "steps": [["c.a:1|c", "t.a:5|ms", "g.a:3|g", "s.a:x|s"], []],
        "expect": {
            1: {
                "stats.timers.t.a.count": "0",
                "stats.sets.s.a.count": "0",
                "stats.gauges.g.a": "3",
                "stats_counts.statsd.packets_received": "0",
            }
        },
        "absent": {1: ["stats_counts.c.a", "stats.c.a"]},
    },
    # ---------------------------------------------------------------- flush_counts
    {
        "name": "flush_counts_false",
        "description": "flush_counts false: counters flush only their per-second rate, no "
        "stats_counts.* lines (internal counters included).",
        "config": {"flush_counts": False},
        "steps": [["c.a:4|c", "t.a:5|ms"], []],
        "expect": {0: {"stats.c.a": "2", "stats.statsd.metrics_received": "1"}},
        "absent": {0: ["stats_counts.c.a", "stats_counts.statsd.metrics_received"]},
    },
    # ---------------------------------------------------------------- namespaces
    {
        "name": "namespace_custom",
        "description": "legacyNamespace false with globalPrefix 'g', prefixCounter 'c', "
        "prefixTimer 't', prefixGauge 'ga', prefixSet 'se', globalSuffix "
        "'suf': counters become g.c.K.rate/.count, the suffix goes after the "
        "whole name and before any tags; statsd's own names live under "
        "g.statsd.",
        "config": {
            "graphite": {
                "legacyNamespace": False,
                "globalPrefix": "g",
                "prefixCounter": "c",
                "prefixTimer": "t",
                "prefixGauge": "ga",
                "prefixSet": "se",
                "globalSuffix": "suf",
            },
            "histogram": [{"metric": "", "bins": [10]}],
        },
        "steps": [["k:1|c", "tm:5|ms", "gg:3|g", "st:a|s", "tagged:2|c|#env:prod", "bad"], []],
        "expect": {
            0: {
                "g.c.k.rate.suf": "0.5",
                "g.c.k.count.suf": "1",
                "g.t.tm.mean.suf": "5",
                "g.t.tm.histogram.bin_10.suf": "1",
                "g.ga.gg.suf": "3",
                "g.se.st.count.suf": "1",
                "g.c.tagged.count.suf;env=prod": "2",
                "g.c.statsd.bad_lines_seen.count.suf": "1",
                "g.statsd.numStats.suf": "9",
            }
        },
        "present": {
            0: [
                "g.ga.statsd.timestamp_lag.suf",
                "g.statsd.graphiteStats.last_flush.suf",
                "g.statsd.graphiteStats.calculationtime.suf",
                "g.statsd.processing_time.suf",
            ]
        },
    },
    {
        "name": "namespace_empty_prefixes",
        "description": "legacyNamespace false with every prefix '' (globalPrefix, "
        "prefixCounter, prefixTimer, prefixGauge, prefixSet): names are the "
        "bare key plus .rate/.count/.<stat>; statsd's own names start with "
        "'statsd.'.",
        "config": {
            "graphite": {
                "legacyNamespace": False,
                "globalPrefix": "",
                "prefixCounter": "",
                "prefixTimer": "",
                "prefixGauge": "",
                "prefixSet": "",
            }
        },
        "steps": [["k:1|c", "tm:5|ms", "gg:3|g", "st:a|s"], []],
        "expect": {
            0: {
                "k.rate": "0.5",
                "k.count": "1",
                "tm.upper": "5",
                "gg": "3",
                "st.count": "1",
                "statsd.numStats": "8",
                "statsd.metrics_received.count": "4",
            }
        },
    },
    {
        "name": "namespace_default_nonlegacy",
        "description": "legacyNamespace false with the default prefixes: stats.counters.K.rate, "
        "stats.timers.K.X, stats.gauges.K, stats.sets.K.count, "
        "stats.statsd.numStats.",
        "config": {"graphite": {"legacyNamespace": False}},
        "steps": [["k:1|c", "tm:5|ms", "gg:3|g", "st:a|s"], []],
        "expect": {
            0: {
                "stats.counters.k.rate": "0.5",
                "stats.counters.k.count": "1",
                "stats.timers.tm.upper": "5",
                "stats.gauges.gg": "3",
                "stats.sets.st.count": "1",
                "stats.statsd.numStats": "8",
            }
        },
    },
    {
        "name": "prefix_stats_legacy",
        "description": "prefixStats 'mystatsd' in the legacy namespace: internal counters, "
        "timestamp_lag, numStats (no 'stats.' in front), processing_time and "
        "graphiteStats all move to the new prefix.",
        "config": {"prefixStats": "mystatsd"},
        "steps": [["k:1|c"], []],
        "expect": {0: {"stats_counts.mystatsd.metrics_received": "1", "mystatsd.numStats": "5"}},
        "absent": {0: ["statsd.numStats", "stats_counts.statsd.metrics_received"]},
    },
    {
        "name": "prefix_stats_nonlegacy",
        "description": "prefixStats 'mystatsd' with legacyNamespace false.",
        "config": {"prefixStats": "mystatsd", "graphite": {"legacyNamespace": False}},
        "steps": [["k:1|c"], []],
        "expect": {
            0: {
                "stats.counters.mystatsd.metrics_received.count": "1",
                "stats.mystatsd.numStats": "5",
            }
        },
    },
    {
        "name": "legacy_global_suffix",
        "description": "globalSuffix 'suf' while legacyNamespace stays true: the prefixes are "
        "ignored but the suffix is still appended to every name, numStats and "
        "graphiteStats included.",
        "config": {"graphite": {"globalSuffix": "suf", "globalPrefix": "ignored"}},
        "steps": [["k:1|c", "tm:5|ms", "gg:3|g", "st:a|s", "tagged:1|c|#a:b"], []],
        "expect": {
            0: {
                "stats.k.suf": "0.5",
                "stats_counts.k.suf": "1",
                "stats.timers.tm.upper.suf": "5",
                "stats.gauges.gg.suf": "3",
                "stats.sets.st.count.suf": "1",
                "statsd.numStats.suf": "9",
                "stats_counts.tagged.suf;a=b": "1",
            }
        },
    },
    # ---------------------------------------------------------- key sanitizing
    {
        "name": "key_sanitization",
        "description": "keyNameSanitize (default true): runs of whitespace -> '_', '/' -> '-', "
        "then every char outside [A-Za-z0-9_.;=-] is removed (unicode "
        "included); keys that sanitize to the same name are one metric; "
        "';' and '=' survive.",
        "config": {},
        "steps": [
            [
                "a b:1|c",
                "a\tb  c:1|c",
                "a/b/c:1|c",
                "ünïcødé.kéy:1|c",
                "p!@#$%^&*()+,<>?[]{}~`'\"\\.x:1|c",
                "merge key:1|c",
                "merge_key:2|c",
                "merge\tkey:4|c",
                "trailing.dot.:1|c",
                "..double..dots:1|c",
                "dash-under_score.OK09:1|c",
                "t/im er:5|ms",
                "g a/u:1|g",
                "s e/t:x|s",
            ],
            [],
        ],
        "expect": {
            0: {
                "stats_counts.a_b": "1",
                "stats_counts.a_b_c": "1",
                "stats_counts.a-b-c": "1",
                "stats_counts.ncd.ky": "1",
                "stats_counts.p.x": "1",
                "stats_counts.merge_key": "7",
                "stats_counts.trailing.dot.": "1",
                "stats_counts...double..dots": "1",
                "stats_counts.dash-under_score.OK09": "1",
                "stats.timers.t-im_er.upper": "5",
                "stats.gauges.g_a-u": "1",
                "stats.sets.s_e-t.count": "1",
            }
        },
    },
    # --------------------------------------------------------------------- tags
    {
        "name": "tags",
        "description": "DogStatsD tags '|#k:v,...' already sorted by tag name and all "
        "key:value: the key becomes 'key;k=v;...' (Graphite 1.1 tag syntax) "
        "and the tags follow every suffix; the same key with other tags, or "
        "without tags, is another series.  Tags after a sample rate.",
        "config": {},
        "steps": [
            [
                "k:1|c|#env:prod,zone:a",
                "k:2|c|#env:prod,zone:a",
                "k:5|c|#env:dev,zone:a",
                "k:7|c",
                "t:5|ms|#env:prod",
                "t:15|ms|#env:prod",
                "g:3|g|#env:prod",
                "g:+1|g|#env:prod",
                "s:x|s|#env:prod",
                "r:1|c|@0.5|#env:prod",
            ],
            [],
        ],
        "expect": {
            0: {
                "stats_counts.k;env=prod;zone=a": "3",
                "stats.k;env=prod;zone=a": "1.5",
                "stats_counts.k;env=dev;zone=a": "5",
                "stats_counts.k": "7",
                "stats.timers.t.mean;env=prod": "10",
                "stats.gauges.g;env=prod": "4",
                "stats.sets.s.count;env=prod": "1",
                "stats_counts.r;env=prod": "2",
            }
        },
    },
    {
        "name": "deviation_tags",
        "description": "Tags etsy passes through unchanged that a Graphite tag database would "
        "not accept or would reorder: unsorted tags and bare tags "
        "('|#b:2,a,c:3' -> ';b=2;a;c=3', order kept), a tag with two ':' "
        "(only the first becomes '=', the second is then sanitized away), a "
        "';' inside a tag (first one -> '_'), empty tag list '|#', duplicate "
        "tag names, and tags placed before the sample rate (the rate becomes "
        "part of the last tag and the sample is counted at rate 1).",
        "config": {},
        "steps": [
            [
                "y:2|c|#b:2,a,c:3",
                "z:1|c|#a:b:c",
                "w:1|c|#a;b:1",
                "e:1|c|#",
                "d:1|c|#a:1,a:2",
                "o:1|c|#env:prod|@0.5",
                "sp:1|c|#env:pr od",
            ],
            [],
        ],
        "expect": {
            0: {
                "stats_counts.y;b=2;a;c=3": "2",
                "stats_counts.z;a=bc": "1",
                "stats_counts.w;a_b=1": "1",
                "stats_counts.e": "1",
                "stats_counts.d;a=1;a=2": "1",
                "stats_counts.o;env=prod0.5": "1",
                "stats_counts.sp;env=pr_od": "1",
            }
        },
    },
    # ---------------------------------------------------------------- bad lines
    {
        "name": "bad_lines",
        "description": "Bad lines mixed with good ones in one packet: no type, non-numeric "
        "counter, empty counter value, negative timer, non-numeric timer and "
        "gauge, bad sample-rate fields, only a key, a line with no ':' but a "
        "type.  Each is counted in bad_lines_seen (and metrics_received); "
        "empty lines are skipped and not counted; the good lines still count.",
        "config": {},
        "steps": [
            [
                "good.c:1|c\nk:1\nk:x|c\nk:|c\nk:-1|ms\nk:x|ms\nk:abc|g\nk:+|g\nk:1|c|x\nk:1|c|@\n"
                "k:1|c|@-0.5\nk:1|c|@abc\n\n\nonlykey\n|c\ngood.t:2|ms\ngood.g:3|g\n",
                "\n",
                "alone:bad|c",
            ],
            [],
        ],
        "expect": {
            0: {
                "stats_counts.good.c": "1",
                "stats.timers.good.t.upper": "2",
                "stats.gauges.good.g": "3",
                "stats_counts.statsd.bad_lines_seen": "14",
                "stats_counts.statsd.metrics_received": "17",
                "stats_counts.statsd.packets_received": "3",
            },
            1: {"stats_counts.statsd.bad_lines_seen": "0"},
        },
        "absent": {
            0: ["stats_counts.k", "stats.gauges.k", "stats.timers.k.count", "stats_counts.alone"]
        },
    },
    {
        "name": "deviation_rates",
        "description": "What etsy accepts that our parser rejects: sample rate @0 (counts "
        "Infinity), rate above 1 (@2 halves the count), an unknown type 'zz' "
        "and the types h, d, m, C (all counters in etsy), an extra field "
        "after the rate (ignored), and '@1e-1', which passes validation as "
        "a number but is parsed by /^@([\\d\\.]+)/ as rate 1.",
        "config": {},
        "steps": [
            [
                "zero:1|c|@0",
                "tzero:1|ms|@0",
                "two:1|c|@2",
                "unk:1|zz",
                "h:5|h",
                "d:5|d",
                "m:5|m",
                "up:5|C",
                "extra:1|c|@0.5|foo",
                "sci:1|c|@1e-1",
            ],
            [],
        ],
        "expect": {
            0: {
                "stats_counts.zero": "Infinity",
                "stats.zero": "Infinity",
                "stats.timers.tzero.count": "Infinity",
                "stats_counts.two": "0.5",
                "stats_counts.unk": "1",
                "stats_counts.h": "5",
                "stats_counts.d": "5",
                "stats_counts.m": "5",
                "stats_counts.up": "5",
                "stats_counts.extra": "2",
                "stats_counts.sci": "1",
                "stats_counts.statsd.bad_lines_seen": "0",
            },
            1: {"stats_counts.zero": "0"},
        },
    },
    {
        "name": "deviation_values",
        "description": "Numbers that JavaScript's Number() accepts: hex '0x10', 'Infinity', "
        "surrounding spaces, an empty key (':1|c' flushes as 'stats.'), a key "
        "that sanitizes to nothing.",
        "config": {},
        "steps": [["hex:0x10|c", "inf:Infinity|c", "sp: 2 |c", ":1|c", "\u2603:1|c"], []],
        "expect": {
            0: {
                "stats_counts.hex": "16",
                "stats_counts.inf": "Infinity",
                "stats_counts.sp": "2",
                "stats_counts.": "2",
            }
        },
    },
    {
        "name": "deviation_crlf",
        "description": "CRLF line ends: etsy splits on '\\n' only, so the type keeps a "
        "trailing '\\r'.  Validation switches on the untrimmed type and "
        "dispatch on the trimmed one, so 'c\\r', 'g\\r' and 'ms\\r' work but "
        "'ms\\r' skips the timer checks (a negative timer is accepted) and "
        "'s\\r' needs a numeric value.",
        "config": {},
        "steps": [["c:1|c\r\nt:5|ms\r\ntneg:-5|ms\r\ng:3|g\r\ns:abc|s\r\ns:1|s\r\n"], []],
        "expect": {
            0: {
                "stats_counts.c": "1",
                "stats.timers.t.upper": "5",
                "stats.timers.tneg.upper": "-5",
                "stats.gauges.g": "3",
                "stats.sets.s.count": "1",
                "stats_counts.statsd.bad_lines_seen": "1",
            }
        },
    },
]
