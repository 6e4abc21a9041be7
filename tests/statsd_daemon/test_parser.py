"""The statsd line parser, rule by rule (ecosystem.md §1.1, §1.6, §2.1)."""

import pytest

from statsd_daemon.parser import (
    BAD,
    COUNTER,
    EVENT,
    GAUGE,
    GAUGE_DELTA,
    SERVICE_CHECK,
    SET,
    TIMER,
    decode,
    metric_key,
    parse_line,
    sanitize_key,
)


def one(line, sanitize=True):
    ops = parse_line(line, sanitize)
    assert len(ops) == 1, ops
    return ops[0]


def kinds(line):
    return [op[0] for op in parse_line(line)]


class TestTypes:
    def test_counter(self):
        assert one("gorets:1|c") == (COUNTER, "gorets", 1.0, 0.0)

    def test_counter_negative_and_float(self):
        assert one("a:-3|c")[2] == -3.0
        assert one("a:2.5|c")[2] == 2.5
        assert one("a:1e3|c")[2] == 1000.0
        assert one("a:.5|c")[2] == 0.5
        assert one("a:+4|c")[2] == 4.0

    def test_meter_is_a_counter(self):
        assert one("a:5|m") == (COUNTER, "a", 5.0, 0.0)

    def test_sampled_counter_is_scaled(self):
        assert one("gorets:1|c|@0.1") == (COUNTER, "gorets", 1.0 * (1 / 0.1), 0.0)
        assert one("gorets:3|c|@0.5")[2] == 6.0

    def test_timer(self):
        assert one("glork:320|ms") == (TIMER, "glork", 320.0, 1.0)

    def test_sampled_timer_weight(self):
        assert one("glork:320|ms|@0.1") == (TIMER, "glork", 320.0, 1 / 0.1)

    @pytest.mark.parametrize("kind", ["h", "d"])
    def test_dogstatsd_histogram_and_distribution_are_timers(self, kind):
        assert one(f"x:12|{kind}") == (TIMER, "x", 12.0, 1.0)
        assert one(f"x:-12|{kind}") == (TIMER, "x", -12.0, 1.0)

    def test_negative_ms_timer_is_bad(self):
        assert one("t:-1|ms")[0] == BAD

    def test_gauge_set_and_deltas(self):
        assert one("gaugor:333|g") == (GAUGE, "gaugor", 333.0, 0.0)
        assert one("gaugor:-10|g") == (GAUGE_DELTA, "gaugor", -10.0, 0.0)
        assert one("gaugor:+4|g") == (GAUGE_DELTA, "gaugor", 4.0, 0.0)

    def test_gauge_ignores_sample_rate(self):
        assert one("g:5|g|@0.5") == (GAUGE, "g", 5.0, 0.0)

    def test_set(self):
        assert one("uniques:765|s") == (SET, "uniques", "765", 0.0)
        assert one("uniques:some-user|s")[2] == "some-user"

    def test_empty_set_member_is_zero_like_etsy(self):
        assert one("uniques:|s") == (SET, "uniques", "0", 0.0)

    def test_type_is_trimmed(self):
        assert one("c:1| c ")[0] == COUNTER
        assert one("c:1|c\r")[0] == COUNTER


class TestBadLines:
    @pytest.mark.parametrize("line, reason", [
        ("k:1", "no type"),
        ("k", "no value"),
        ("k:x|c", "counter value is not a number"),
        ("k:|c", "counter value is not a number"),
        ("k:x|ms", "timer value is not a number"),
        ("k:x|g", "gauge value is not a number"),
        ("k:nan|c", "counter value is not a number"),
        ("k:inf|c", "counter value is not a number"),
        ("k:1_000|c", "counter value is not a number"),
        ("k:0x10|c", "counter value is not a number"),
        ("k:1|c|x", "unknown field 'x'"),
        ("k:1|zz", "unknown metric type 'zz'"),
        ("k:1|C", "unknown metric type 'C'"),
        ("k:1|c|@0", "sample rate not in (0, 1]"),
        ("k:1|c|@2", "sample rate not in (0, 1]"),
        ("k:1|c|@-0.5", "sample rate not in (0, 1]"),
        ("k:1|c|@", "sample rate not in (0, 1]"),
        ("k:1|c|@abc", "sample rate not in (0, 1]"),
        (":1|c", "empty metric name"),
        ("\u2603:1|c", "empty metric name"),
        ("a..b:1|c", "metric name has an empty path node"),
        (".a:1|c", "metric name has an empty path node"),
        ("a.:1|c", "metric name has an empty path node"),
    ])
    def test_bad(self, line, reason):
        op = one(line)
        assert op[0] == BAD
        assert op[1] == reason
        assert op[2] == line

    def test_rate_of_exactly_one_is_fine(self):
        assert one("k:1|c|@1")[2] == 1.0


class TestMultiSample:
    def test_legacy_form_each_part_its_own_type(self):
        assert parse_line("gorets:1|c:2|c:320|ms") == (
            (COUNTER, "gorets", 1.0, 0.0), (COUNTER, "gorets", 2.0, 0.0),
            (TIMER, "gorets", 320.0, 1.0))

    def test_bad_part_is_bad_alone(self):
        assert kinds("k:1|c:x|c:3|ms") == [COUNTER, BAD, TIMER]

    def test_dogstatsd_packing_is_not_etsy(self):
        # `k:1:2|c` is etsy's two samples; the first lacks a type.
        assert kinds("k:1:2|c") == [BAD, COUNTER]


class TestSanitize:
    @pytest.mark.parametrize("raw, clean", [
        ("a b", "a_b"),
        ("a\tb  c", "a_b_c"),
        ("a/b/c", "a-b-c"),
        ("ünïcødé.kéy", "ncd.ky"),
        ("p!@#$%^&*()+,<>?[]{}~`'\"\\.x", "p.x"),
        ("dash-under_score.OK09", "dash-under_score.OK09"),
        ("k;env=prod", "k;env=prod"),
        ("nul\x00byte", "nulbyte"),
    ])
    def test_etsy_rules(self, raw, clean):
        assert sanitize_key(raw) == clean

    def test_applied_to_keys(self):
        assert one("a b/c:1|c")[1] == "a_b-c"

    def test_can_be_off(self):
        assert one("a b:1|c", sanitize=False)[1] == "a b"

    def test_invalid_utf8_is_replaced_then_stripped(self):
        assert one(decode(b"ab\xff\xfecd:1|c"))[1] == "abcd"


class TestTags:
    def test_dogstatsd_tags_become_sorted_graphite_tags(self):
        assert one("k:1|c|#zone:a,env:prod")[1] == "k;env=prod;zone=a"

    def test_bare_tag_is_true(self):
        assert one("k:1|c|#b:2,a,c:3")[1] == "k;a=true;b=2;c=3"

    def test_tags_with_rate_either_side(self):
        assert one("k:1|c|@0.5|#env:prod") == (COUNTER, "k;env=prod", 2.0, 0.0)
        assert one("k:1|c|#env:prod|@0.5") == (COUNTER, "k;env=prod", 2.0, 0.0)

    def test_tag_values_are_cleaned(self):
        assert one("k:1|c|#env:pr od,a/b:x!y")[1] == "k;a-b=xy;env=pr_od"

    def test_tag_value_keeps_equals_and_loses_leading_tilde(self):
        assert one("k:1|c|#a:b=c,t:~x")[1] == "k;a=b=c;t=x"

    def test_empty_tags_are_dropped(self):
        assert one("k:1|c|#")[1] == "k"
        assert one("k:1|c|#,,")[1] == "k"
        assert one("k:1|c|#:v")[1] == "k"

    def test_graphite_tags_in_the_name_are_merged_and_sorted(self):
        assert one("k;z=1;a=2:1|c|#m:3")[1] == "k;a=2;m=3;z=1"

    def test_last_value_for_a_tag_wins(self):
        assert one("k:1|c|#a:1,a:2")[1] == "k;a=2"

    def test_tags_apply_to_every_sample(self):
        ops = parse_line("k:1|c:5|ms|#env:prod")
        assert [op[1] for op in ops] == ["k;env=prod", "k;env=prod"]

    def test_dogstatsd_extension_fields_are_accepted(self):
        assert one("k:1|c|#env:prod|c:abc123|T1700000000|card:low|e:x")[:3] == (
            COUNTER, "k;env=prod", 1.0)

    def test_metric_key_with_no_tags(self):
        assert metric_key("a.b", []) == "a.b"


class TestEventsAndServiceChecks:
    def test_event(self):
        assert kinds("_e{5,4}:title|text|#a:b") == [EVENT]

    def test_service_check(self):
        assert kinds("_sc|my.check|0|#a:b|m:all good") == [SERVICE_CHECK]


class TestDogStatsDExtensions:
    @pytest.mark.parametrize("line", [
        "k:1|c|c:abc123",
        "k:1|c|@1|c:abc123",
        "k:1|c|T1700000000",
        "k:1|c|c:ci-42|e:it-x|card:low|T1700000000",
    ])
    def test_without_tags(self, line):
        assert one(line) == (COUNTER, "k", 1.0, 0.0)

    def test_rate_after_extensions(self):
        assert one("k:1|c|c:abc|@0.5") == (COUNTER, "k", 2.0, 0.0)

    def test_unknown_field_among_extensions_is_bad(self):
        assert one("k:1|c|c:abc|zz")[0] == BAD

    def test_legacy_multi_sample_still_splits(self):
        assert kinds("k:1|c:2|c") == [COUNTER, COUNTER]
        assert kinds("k:1|c|@0.5:2|ms") == [COUNTER, TIMER]


class TestRatesThatCrashEtsy:
    """etsy 0.9.0 dies on these (its rate regex finds nothing after validation passed)."""

    @pytest.mark.parametrize("line, rate", [
        ("k:1|c|@+0.5", 0.5), ("k:1|c|@ 0.5", 0.5), ("k:1|c|@1e-1", 0.1),
    ])
    def test_read_as_numbers(self, line, rate):
        assert one(line) == (COUNTER, "k", 1.0 / rate, 0.0)

    @pytest.mark.parametrize("line", ["k:1|c|@Infinity", "k:1|c|@0x10", "k:1|c|@1.5.2"])
    def test_bad(self, line):
        assert one(line)[0] == BAD
