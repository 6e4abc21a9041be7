"""The statsd UDP port's read loop over a real socket, with and without recvmmsg."""

import socket

import pytest
from twisted.internet import reactor

from statsd_daemon.aggregator import Aggregator
from statsd_daemon.protocols import Activity, StatsdDatagramProtocol, StatsdPort
from statsd_daemon.recvmmsg import BatchReceiver
from tests.statsd_daemon.helpers import OFFLINE


def test_batch_receiver_reads_whole_datagrams_in_order():
    receiver = BatchReceiver(slots=4, size=65536)
    if not receiver.available():
        pytest.skip("no recvmmsg here")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as source:
        sink.bind(("127.0.0.1", 0))
        sink.setblocking(False)
        sent = [b"a:1|c", b"x" * 65000, b"", b"b:2|c", b"c:3|c", b"d:4|c"]
        for data in sent:
            source.sendto(data, sink.getsockname())
        got = receiver.receive(sink.fileno())
        assert got == sent[:4]  # at most `slots` per call
        assert receiver.receive(sink.fileno()) == sent[4:]
        assert receiver.receive(sink.fileno()) == []


def test_batch_receiver_raises_real_errors():
    receiver = BatchReceiver(slots=2, size=16)
    if not receiver.available():
        pytest.skip("no recvmmsg here")
    with pytest.raises(OSError):
        receiver.receive(987654)  # not a file descriptor


@pytest.mark.parametrize("batched", [True, False])
def test_port_reads_everything_waiting(batched):
    aggregator = Aggregator(OFFLINE)
    protocol = StatsdDatagramProtocol(aggregator, Activity(lambda: 42.0))
    batch = BatchReceiver() if batched else None
    port = StatsdPort(0, protocol, interface="127.0.0.1", reactor=reactor, batch=batch)
    port.startListening()
    port.socket.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE, as root
    if port.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < 8 << 20:
        port.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    try:
        address = ("127.0.0.1", port.getHost().port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as source:
            for _ in range(300):
                source.sendto(b"k:1|c", address)
            source.sendto(b"\n".join([b"big:1|c"] * 8000), address)
        port.READ_PAUSE = 0
        port.doRead()
        snapshot = aggregator.flush()
        assert snapshot.counters["k"] == 300 and snapshot.counters["big"] == 8000
        assert protocol.activity.last_msg_seen == 42.0
    finally:
        port.stopReading()
        port.connectionLost(None)
