"""The demo traffic: a plausible web application's metrics, sent through the client."""

from __future__ import annotations

import socket

from twisted.internet.task import Clock

from statsd_daemon.parser import BAD, decode, parse_line
from statsgraph.demo import DemoService, DemoTraffic
from tests.conftest import free_port


def test_a_tick_has_every_kind_of_metric():
    traffic = DemoTraffic(seed=1)
    metrics = traffic.tick(now=0.0, seconds=1.0)
    kinds = {kind for kind, _, _ in metrics}
    assert kinds == {"c", "ms", "g", "s"}
    names = {name for _, name, _ in metrics}
    assert "web.requests.home.200" in names and "worker.queue_depth" in names
    assert all(value > 0 for kind, _, value in metrics if kind == "ms")


def test_the_same_seed_gives_the_same_traffic():
    assert DemoTraffic(seed=3).tick(5.0, 1.0) == DemoTraffic(seed=3).tick(5.0, 1.0)
    assert DemoTraffic(seed=3).tick(5.0, 1.0) != DemoTraffic(seed=4).tick(5.0, 1.0)


def test_the_service_sends_what_the_daemon_parses():
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", port))
        receiver.settimeout(5)
        clock = Clock()
        service = DemoService("127.0.0.1", port, clock, interval=0.5)
        service.startService()          # the first tick runs at once
        packet = receiver.recv(65536)
        service.stopService()
    ops = [op for line in packet.split(b"\n") for op in parse_line(decode(line))]
    assert ops and all(op[0] != BAD for op in ops), packet
