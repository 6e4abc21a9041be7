"""Connection faults around the daemon: idle and oversize TCP connections, carbon away
while flushing. Protocol units run on a fake clock; the rest against a real subprocess.

The outages here last a few 1 s flush intervals. The issue's 60 s outage is the same
mechanism (the sink's bounded queue and ClientService's reconnect with backoff capped at
30 s); only the number of queued flushes differs.
"""

from __future__ import annotations

import re
import select
import socket

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from statsd_daemon.protocols import Activity, AdminFactory, StatsdStreamFactory
from tests.conftest import CarbonListener, free_port, wait_for
from tests.statsd_daemon.test_daemon_process import FAST


class FakeAggregator:
    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self.rejected: list[str] = []

    def ingest(self, block: bytes) -> None:
        self.blocks.append(block)

    def reject(self, reason: str, text: str) -> None:
        self.rejected.append(reason)


def stream(idle_timeout: float):
    clock = Clock()
    aggregator = FakeAggregator()
    factory = StatsdStreamFactory(aggregator, Activity(clock.seconds), idle_timeout, clock)
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport, aggregator, clock


# -- idle timeout on a fake clock --------------------------------------------------------

def test_idle_metrics_connection_closed_and_data_resets_the_countdown():
    protocol, transport, aggregator, clock = stream(5)
    clock.advance(4.9)
    protocol.dataReceived(b"a:1|c\n")  # 5 s from here
    clock.advance(4.9)
    assert not transport.disconnecting
    clock.advance(0.1)
    assert transport.disconnecting
    assert aggregator.blocks == [b"a:1|c"]


def test_a_half_line_does_not_keep_a_connection_forever():
    protocol, transport, _, clock = stream(5)
    protocol.dataReceived(b"half:1|")
    clock.advance(5)
    assert transport.disconnecting


def test_zero_idle_timeout_means_never():
    _, transport, _, clock = stream(0)
    clock.advance(10 ** 6)
    assert not transport.disconnecting and not clock.getDelayedCalls()


def test_closing_cancels_the_timer():
    protocol, _, _, clock = stream(5)
    protocol.connectionLost(None)
    assert not clock.getDelayedCalls()


def test_idle_admin_connection_closed():
    clock = Clock()
    factory = AdminFactory(daemon=None, idle_timeout=2, reactor=clock)
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    clock.advance(2)
    assert transport.disconnecting


# -- real processes ----------------------------------------------------------------------

def stat(daemon, key: str) -> float:
    found = re.search(rf"^{re.escape(key)}: (\S+)$", daemon.admin("stats"), re.M)
    return float(found.group(1)) if found else float("nan")


def closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def wait_all_closed(socks: list[socket.socket], what: str) -> None:
    pending = {s.fileno(): s for s in socks}
    poller = select.poll()
    for fd in pending:
        poller.register(fd, select.POLLIN)

    def check() -> bool:
        for fd, _ in poller.poll(100):
            if fd in pending and closed(pending[fd]):
                del pending[fd]
                poller.unregister(fd)
        return not pending
    wait_for(check, timeout=30, what=what)


def test_500_idle_connections_are_closed_and_the_daemon_keeps_answering(statsd, carbon):
    daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", "--idle-timeout", "2", *FAST)
    ports = (daemon.port, daemon.admin_port)
    idle = [socket.create_connection(("127.0.0.1", ports[i % 2])) for i in range(500)]
    try:
        # With all 500 open: the admin port answers, TCP and UDP metrics are taken.
        assert "uptime:" in daemon.admin("stats")
        with socket.create_connection(("127.0.0.1", daemon.port)) as tcp:
            tcp.sendall(b"during.tcp:1|c\n")
        daemon.udp(b"during.udp:1|c")
        wait_for(lambda: carbon.total("stats_counts.during.tcp") == 1, what="tcp metric")
        wait_for(lambda: carbon.total("stats_counts.during.udp") == 1, what="udp metric")
        wait_all_closed(idle, "idle connections closed")
        daemon.udp(b"after.udp:1|c")
        wait_for(lambda: carbon.total("stats_counts.after.udp") == 1, what="after")
        assert "uptime:" in daemon.admin("stats")
    finally:
        for sock in idle:
            sock.close()


def test_oversize_admin_line_drops_only_its_connection(statsd):
    daemon = statsd("--carbon", "none", *FAST)
    with socket.create_connection(("127.0.0.1", daemon.admin_port)) as bystander:
        with socket.create_connection(("127.0.0.1", daemon.admin_port)) as long_line:
            long_line.sendall(b"x" * 10_000)  # over the admin port's 4096 bytes
            wait_all_closed([long_line], "admin connection dropped")
        bystander.sendall(b"health\n")
        assert bystander.recv(100) == b"health: up\n"


def test_oversize_metric_line_keeps_even_its_own_connection(statsd, carbon):
    daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", *FAST)
    with socket.create_connection(("127.0.0.1", daemon.port)) as bystander, \
            socket.create_connection(("127.0.0.1", daemon.port)) as sender:
        sender.sendall(b"x" * 200_000 + b"\nsame:1|c\n")
        bystander.sendall(b"other:1|c\n")
        wait_for(lambda: carbon.total("stats_counts.same") == 1, what="same connection")
        wait_for(lambda: carbon.total("stats_counts.other") == 1, what="other connection")
    assert stat(daemon, "messages.bad_lines_seen") == 1


# -- carbon away while flushing ---------------------------------------------------------

CONSOLE = re.compile(r"\[statsd_daemon\.sinks#info\] (\S+) (\S+) (\d+)$", re.M)


def flushed(daemon) -> list[tuple[str, float, int]]:
    """Every point the daemon flushed, in order, from its console sink's log."""
    return [(p, float(v), int(t)) for p, v, t in CONSOLE.findall(daemon.output())]


def outage(statsd, *args: str) -> tuple[object, list, list, float]:
    """Flush with carbon away for a few intervals, bring it up, stop the daemon (which
    sends its last flush): what was flushed, what carbon got, what statsd says it
    dropped."""
    port = free_port()  # nothing listens here yet
    daemon = statsd("--carbon", f"127.0.0.1:{port}", "--console", "true", *FAST, *args)
    daemon.udp(*[b"down:1|c"] * 5)
    wait_for(lambda: stat(daemon, "graphite.queued_points") + stat(
        daemon, "graphite.dropped_points") >= 45, what="three flushes while carbon is away")
    listener = CarbonListener(port).start()
    try:
        wait_for(lambda: stat(daemon, "graphite.queued_points") == 0, timeout=60,
                 what="queue delivered after carbon came back")
        dropped = stat(daemon, "graphite.dropped_points")
        assert daemon.stop() == 0
        points = flushed(daemon)
        wait_for(lambda: len(listener.points) >= len(points) - dropped, what="all received")
        with listener.lock:
            received = list(listener.points)
    finally:
        listener.stop()
    return daemon, points, received, dropped


def test_carbon_down_then_back_every_flushed_point_arrives_in_order(statsd):
    _, points, received, dropped = outage(statsd)
    assert dropped == 0
    assert received == points  # every point, same order
    assert sum(v for p, v, _ in received if p == "stats_counts.down") == 5
    stamps = sorted({t for _, _, t in points})
    assert stamps == list(range(stamps[0], stamps[-1] + 1))  # a flush every second


def test_beyond_the_queue_bound_the_drop_count_is_exact(statsd):
    # Each flush is one message of ~15 points; 40 points hold two flushes at most, so
    # at least one of the three (or more) flushes of the outage is dropped.
    _, points, received, dropped = outage(statsd, "--max-queue-points", "40")
    assert dropped > 0 and dropped == int(dropped)
    assert len(points) == len(received) + dropped  # counted drops are exactly the loss
    assert received == points[int(dropped):]  # the oldest went, the rest came in order
