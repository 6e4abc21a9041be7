"""Connection faults at the store's edge: broken frames, bad lines, idle and oversize
connections. Protocol units run on a fake clock; the rest against a real subprocess."""

from __future__ import annotations

import pickle
import select
import socket
import struct

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from carbon_store.cache import MetricCache
from carbon_store.intake import Intake
from carbon_store.protocols import (
    CacheQueryFactory,
    PickleReceiver,
    PlaintextReceiver,
    ReceiverFactory,
)
from tests.carbon_store.test_carbon_process import FAST, now10, points_in
from tests.conftest import wait_for

T = 1_700_000_000.0


def frame(obj: object) -> bytes:
    payload = obj if isinstance(obj, bytes) else pickle.dumps(obj, protocol=2)
    return struct.pack("!L", len(payload)) + payload


def connect(protocol: type, idle_timeout: float = 0, max_length: int = 1 << 20):
    """A receiver on a string transport, its intake and the fake clock."""
    clock = Clock()
    intake = Intake(MetricCache(), lambda: T)
    factory = ReceiverFactory(protocol, intake, max_length, idle_timeout, clock)
    receiver = factory.buildProtocol(None)
    transport = StringTransport()
    receiver.makeConnection(transport)
    return receiver, transport, intake, clock, factory


def cached(intake: Intake, name: str) -> list:
    return list(intake.cache.pop(name))


# -- pickle frames ----------------------------------------------------------------------

EVIL = b"cos\nsystem\n(S'true'\ntR."


def test_good_frame_then_broken_frame_then_more_in_the_same_read():
    receiver, transport, intake, _, _ = connect(PickleReceiver)
    receiver.dataReceived(frame([("a.b", (T, 1.0))]) + frame(b"\x80\x02garbage")
                          + frame([("c.d", (T, 2.0))]))
    assert cached(intake, "a.b") == [(T, 1.0)]  # before the broken frame: kept
    assert cached(intake, "c.d") == [(T, 2.0)]  # after it: kept, the framing is sound
    assert intake.bad_lines == 1  # the broken frame, counted once
    assert not transport.disconnecting


def test_every_kind_of_bad_frame_is_counted_and_the_connection_stays():
    for payload in (EVIL, b"", b"\x00\x01\x02", pickle.dumps({"a": 1}, protocol=2),
                    pickle.dumps("a.b 1 2", protocol=2), pickle.dumps(42, protocol=2)):
        receiver, transport, intake, _, _ = connect(PickleReceiver)
        receiver.dataReceived(frame(payload))
        assert not transport.disconnecting, payload
        assert intake.bad_lines == 1, payload
        assert intake.received == 0


def test_a_bad_tuple_in_a_good_frame_is_counted_and_the_connection_stays():
    receiver, transport, intake, _, _ = connect(PickleReceiver)
    # three items: good, not a pair, value not a number -> 1 kept, 2 bad
    receiver.dataReceived(frame([("a.b", (T, 1.0)), ("x",), ("y.z", (T, "nan?"))]))
    assert cached(intake, "a.b") == [(T, 1.0)]
    assert intake.bad_lines == 2
    assert not transport.disconnecting
    receiver.dataReceived(frame([("a.b", (T + 60, 2.0))]))
    assert cached(intake, "a.b") == [(T + 60, 2.0)]


def test_an_empty_list_frame_is_fine():
    receiver, transport, intake, _, _ = connect(PickleReceiver)
    receiver.dataReceived(frame([]))
    assert (intake.bad_lines, transport.disconnecting) == (0, False)


# -- plaintext lines --------------------------------------------------------------------

def test_bad_plaintext_lines_are_counted_and_the_connection_stays():
    receiver, transport, intake, _, _ = connect(PlaintextReceiver)
    receiver.dataReceived(f"a.b 1 {T:.0f}\nbad line\n\xff\xfe\nc.d x {T:.0f}\n".encode("latin1"))
    receiver.dataReceived(f"a.b 2 {T + 60:.0f}\n".encode())
    assert cached(intake, "a.b") == [(T, 1.0), (T + 60, 2.0)]
    assert intake.bad_lines == 3  # 2 fields; not UTF-8; value not a number
    assert not transport.disconnecting


def test_an_oversize_line_drops_its_connection_only():
    receiver, transport, intake, _, factory = connect(PlaintextReceiver, max_length=100)
    other = factory.buildProtocol(None)
    other_transport = StringTransport()
    other.makeConnection(other_transport)
    receiver.dataReceived(b"x" * 500)
    assert transport.disconnecting and intake.bad_lines == 1
    other.dataReceived(f"a.b 1 {T:.0f}\n".encode())
    assert cached(intake, "a.b") == [(T, 1.0)] and not other_transport.disconnecting


# -- idle timeout -----------------------------------------------------------------------

def test_idle_connection_closed_after_the_timeout_and_data_resets_it():
    for protocol in (PlaintextReceiver, PickleReceiver):
        receiver, transport, _, clock, _ = connect(protocol, idle_timeout=5)
        clock.advance(4.9)
        assert not transport.disconnecting
        receiver.dataReceived(b"")  # any read counts as activity: 5 s from here
        clock.advance(4.9)
        assert not transport.disconnecting
        clock.advance(0.1)  # 5.0 s silent
        assert transport.disconnecting, protocol


def test_zero_idle_timeout_means_never():
    _, transport, _, clock, _ = connect(PlaintextReceiver, idle_timeout=0)
    clock.advance(10 ** 6)
    assert not transport.disconnecting and not clock.getDelayedCalls()


def test_a_sender_paused_by_flow_control_is_not_idle():
    _, transport, _, clock, factory = connect(PlaintextReceiver, idle_timeout=5)
    factory.pause()  # the cache is full: we stopped reading it
    clock.advance(12)
    assert not transport.disconnecting
    factory.resume()
    clock.advance(5)  # the countdown restarted at 10 s, so at 15 s it is over
    assert transport.disconnecting


def test_closing_cancels_the_timer():
    receiver, _, _, clock, factory = connect(PickleReceiver, idle_timeout=5)
    receiver.connectionLost(None)
    assert not clock.getDelayedCalls() and not factory.connections


def test_cache_query_connections_time_out_too():
    clock = Clock()
    factory = CacheQueryFactory(MetricCache(), lambda name: name, 3, clock)
    query = factory.buildProtocol(None)
    transport = StringTransport()
    query.makeConnection(transport)
    query.dataReceived(frame({"type": "cache-query", "metric": "a.b"}))
    assert pickle.loads(transport.value()[4:]) == {"datapoints": []}
    clock.advance(3)
    assert transport.disconnecting


# -- a real process ---------------------------------------------------------------------

def closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def wait_all_closed(socks: list[socket.socket], what: str) -> None:
    """Every socket sees EOF (or a reset); each checked when readable, no sleeping."""
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


def test_500_idle_connections_are_closed_and_the_service_keeps_answering(carbon_daemon):
    carbon = carbon_daemon(*FAST, "--idle-timeout", "2")
    ports = (carbon.port, carbon.pickle_port, carbon.query_port)
    idle = [socket.create_connection(("127.0.0.1", ports[i % 3])) for i in range(500)]
    try:
        t = now10()
        # While all 500 are open, a new client is served on every port.
        carbon.send_lines(f"during.idle 1 {t}")
        carbon.send_pickle([("during.pickle", (t, 2.0))])
        assert carbon.query({"type": "cache-query", "metric": "x.y"}) == {"datapoints": []}
        wait_for(lambda: points_in(carbon.path("during.idle"), t - 600) == [1.0], what="text")
        wait_for(lambda: points_in(carbon.path("during.pickle"), t - 600) == [2.0],
                 what="pickle")
        wait_all_closed(idle, "idle connections closed")
        carbon.send_lines(f"after.idle 3 {t}")
        wait_for(lambda: points_in(carbon.path("after.idle"), t - 600) == [3.0], what="after")
        assert carbon.proc.poll() is None
    finally:
        for sock in idle:
            sock.close()


def test_oversize_line_and_frame_drop_only_their_connection(carbon_daemon):
    carbon = carbon_daemon(*FAST, "--line-max-length", "100", "--pickle-max-length", "2048")
    t = now10()
    with socket.create_connection(("127.0.0.1", carbon.port)) as bystander, \
            socket.create_connection(("127.0.0.1", carbon.pickle_port)) as pickler:
        with socket.create_connection(("127.0.0.1", carbon.port)) as long_line:
            long_line.sendall(b"x" * 500)
            wait_all_closed([long_line], "line connection dropped")
        with socket.create_connection(("127.0.0.1", carbon.pickle_port)) as big:
            big.sendall(struct.pack("!L", 10_000_000))
            wait_all_closed([big], "pickle connection dropped")
        # The connections opened before are still served.
        bystander.sendall(f"neighbour.text 1 {t}\n".encode())
        pickler.sendall(frame([("neighbour.pickle", (t, 2.0))]))
        wait_for(lambda: points_in(carbon.path("neighbour.text"), t - 600) == [1.0],
                 what="plaintext neighbour")
        wait_for(lambda: points_in(carbon.path("neighbour.pickle"), t - 600) == [2.0],
                 what="pickle neighbour")


def test_a_broken_pickle_or_a_bad_line_keeps_its_connection(carbon_daemon, tmp_path):
    """Bad input is counted and dropped; the good input next to it, on the same
    connection, is kept (a length-framed stream stays in step after a bad frame)."""
    carbon = carbon_daemon(*FAST)
    marker = tmp_path / "pwned"
    evil = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    t = now10()
    with socket.create_connection(("127.0.0.1", carbon.pickle_port)) as sender:
        sender.sendall(frame(evil))
        sender.sendall(frame([("after.evil", (t, 1.0))]))  # same connection
        wait_for(lambda: points_in(carbon.path("after.evil"), t - 600) == [1.0],
                 what="the good frame after the evil one")
    with socket.create_connection(("127.0.0.1", carbon.port)) as text:
        text.sendall(b"bad line\n")
        text.sendall(f"after.bad 5 {t}\n".encode())  # same connection, still up
        wait_for(lambda: points_in(carbon.path("after.bad"), t - 600) == [5.0],
                 what="line after a bad line")
    assert not marker.exists()
    assert "unsafe or broken pickle" in carbon.output()
