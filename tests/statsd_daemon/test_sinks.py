"""Carbon encodings and the carbon sink's queue, on a fake clock and transport."""

import pickle
import struct

from twisted.internet import defer
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from statsd_daemon.carbon_wire import (
    MAX_POINTS_PER_MESSAGE,
    encode_pickle,
    encode_plaintext,
)
from statsd_daemon.sinks import CarbonSink

POINTS = [("a.b", 1.5, 100), ("c", 2.0, 100), ("d;t=v", 1e-7, 110)]


def test_plaintext():
    ((data, count),) = encode_plaintext(POINTS)
    assert data == b"a.b 1.5 100\nc 2 100\nd;t=v 1e-7 110\n" and count == 3


def test_pickle_is_carbons_frame():
    ((data, count),) = encode_pickle(POINTS)
    (size,) = struct.unpack("!L", data[:4])
    assert size == len(data) - 4 and count == 3
    assert pickle.loads(data[4:]) == [("a.b", (100, 1.5)), ("c", (100, 2.0)),
                                      ("d;t=v", (110, 1e-7))]


def test_messages_are_cut_at_carbons_batch_size():
    points = [(f"m{i}", float(i), 1) for i in range(1201)]
    for encode in (encode_plaintext, encode_pickle):
        messages = encode(points)
        assert [count for _, count in messages] == [MAX_POINTS_PER_MESSAGE] * 2 + [201]


class FakeEndpoint:
    """Connections that succeed or fail when the test says so."""

    def __init__(self):
        self.attempts = []

    def connect(self, factory):
        d = defer.Deferred()
        self.attempts.append((d, factory))
        return d

    def succeed(self):
        d, factory = self.attempts[-1]
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        d.callback(protocol)
        return protocol, transport

    def fail(self):
        d, _ = self.attempts[-1]
        d.errback(ConnectionRefusedError())


def make_sink(max_queue_points=1000, drain_timeout=5.0):
    clock = Clock()
    clock.advance(1000)
    endpoint = FakeEndpoint()
    sink = CarbonSink("test", endpoint, encode_plaintext, max_queue_points=max_queue_points,
                      drain_timeout=drain_timeout, clock=clock)
    sink.startService()
    return sink, endpoint, clock


def lines(transport):
    return transport.value().decode().splitlines()


def test_queues_while_down_and_delivers_in_order_on_connect():
    sink, endpoint, clock = make_sink()
    endpoint.fail()
    assert sink.last_exception == 1000
    sink.send([("a", 1.0, 10)])
    sink.send([("a", 2.0, 20)])
    assert sink.queued_points == 2
    clock.advance(60)  # backoff, then a new attempt
    _, transport = endpoint.succeed()
    assert lines(transport) == ["a 1 10", "a 2 20"]
    assert sink.queued_points == 0 and sink.sent_points == 2
    assert sink.flush_length == len(transport.value())


def test_overflow_drops_the_oldest_and_counts():
    sink, endpoint, _clock = make_sink(max_queue_points=600)
    sink.send([(f"old{i}", 1.0, 10) for i in range(500)])
    sink.send([(f"new{i}", 1.0, 20) for i in range(500)])
    assert sink.dropped_points == 500 and sink.queued_points == 500
    _, transport = endpoint.succeed()
    assert all(line.startswith("new") for line in lines(transport))


def test_paused_transport_keeps_points_in_the_queue():
    sink, endpoint, _ = make_sink()
    protocol, transport = endpoint.succeed()
    protocol.pauseProducing()
    sink.send([("a", 1.0, 10)])
    assert transport.value() == b"" and sink.queued_points == 1
    protocol.resumeProducing()
    assert lines(transport) == ["a 1 10"]


def test_connection_lost_queues_until_reconnected():
    sink, endpoint, clock = make_sink()
    protocol, transport = endpoint.succeed()
    protocol.connectionLost(None)
    sink.send([("a", 1.0, 10)])
    assert transport.value() == b"" and sink.queued_points == 1
    clock.advance(60)
    _, again = endpoint.succeed()
    assert lines(again) == ["a 1 10"]


def test_stop_waits_for_the_queue_then_gives_up_after_the_timeout():
    sink, endpoint, clock = make_sink(drain_timeout=5.0)
    endpoint.fail()
    sink.send([("a", 1.0, 10)])
    stopped = sink.stopService()
    assert not stopped.called
    clock.advance(5.1)
    assert stopped.called  # gave up, with the loss logged


def test_stop_with_an_empty_queue_closes_the_connection():
    from twisted.internet.error import ConnectionDone
    from twisted.python.failure import Failure
    sink, endpoint, _ = make_sink()
    protocol, transport = endpoint.succeed()
    sink.send([("a", 1.0, 10)])
    stopped = sink.stopService()
    assert transport.disconnecting  # loseConnection: what is buffered still goes out
    protocol.connectionLost(Failure(ConnectionDone()))
    assert stopped.called
