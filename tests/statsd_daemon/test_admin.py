"""The management commands, as etsy's admin interface answers them."""

import json
from dataclasses import replace

import pytest

from statsd_daemon import admin
from statsd_daemon.aggregator import Aggregator
from tests.statsd_daemon.helpers import OFFLINE


class FakeDaemon:
    def __init__(self):
        self.aggregator = Aggregator(OFFLINE)
        self.health = "up"
        self.now = 1000.0

    def seconds(self):
        return self.now

    def status(self):
        yield "uptime", 900.0
        yield "messages.last_msg_seen", 990.0
        yield "messages.bad_lines_seen", 3
        yield "graphite.last_flush", 995.0
        yield "graphite.flush_length", 120

    def config_lines(self):
        yield "flush_interval", "10"


def run(daemon, line):
    return admin.execute(daemon, line)


def test_help_lists_every_command():
    text = run(FakeDaemon(), "help").text
    for command in ("stats", "counters", "timers", "gauges", "sets", "delcounters",
                    "deltimers", "delgauges", "delsets", "health", "config", "quit"):
        assert command in text


def test_stats_shows_times_as_ages():
    assert run(FakeDaemon(), "stats").text == (
        "uptime: 100\nmessages.last_msg_seen: 10\nmessages.bad_lines_seen: 3\n"
        "graphite.last_flush: 5\ngraphite.flush_length: 120\nEND\n\n")


def test_dumps_are_json():
    daemon = FakeDaemon()
    daemon.aggregator.ingest(b"c:1|c\nt:5|ms\nt:7|ms\ng:2.5|g\ns:a|s\ns:b|s")
    for command, expected in [("counters", {"c": 1}), ("timers", {"t": [5, 7]}),
                              ("gauges", {"g": 2.5}), ("sets", {"s": ["a", "b"]})]:
        text = run(daemon, command).text
        assert text.endswith("\nEND\n\n")
        assert json.loads(text[: -len("\nEND\n\n")]) == expected


def test_delete_commands():
    daemon = FakeDaemon()
    daemon.aggregator.ingest(b"a.b:1|c\na.c:1|c\ng:1|g\ns:x|s\nt:1|ms")
    assert run(daemon, "delcounters a.* nope").text == (
        "deleted: a.b\ndeleted: a.c\nmetric nope not found\nEND\n\n")
    assert run(daemon, "delgauges g").text == "deleted: g\nEND\n\n"
    assert run(daemon, "delsets s").text == "deleted: s\nEND\n\n"
    assert run(daemon, "deltimers t").text == "deleted: t\nEND\n\n"
    assert daemon.aggregator.counters == {}


def test_health():
    daemon = FakeDaemon()
    assert run(daemon, "health").text == "health: up\n"
    assert run(daemon, "health down").text == "health: down\n"
    assert daemon.health == "down"
    assert run(daemon, "health sideways").text == "health: down\n"
    assert run(daemon, "health UP").text == "health: up\n"


def test_config_quit_unknown_and_blank():
    daemon = FakeDaemon()
    assert run(daemon, "config").text == "\nflush_interval: 10\nEND\n\n"
    reply = run(daemon, "quit")
    assert reply.close and reply.text == ""
    assert run(daemon, "bogus").text == "ERROR\n"
    assert run(daemon, "   ").text == ""


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # HostnameEndpoint on a Clock
def test_settings_in_config_dump_of_a_real_daemon():
    from tests.statsd_daemon.helpers import clocked_daemon
    daemon, _, _ = clocked_daemon(replace(OFFLINE, carbon=(("::1", 2003), ("h", 2004))))
    lines = dict(daemon.config_lines())
    assert lines["carbon"] == "[::1]:2003, h:2004"
    assert lines["legacy_namespace"] == "true"
