"""client.transport over real loopback sockets: bytes as sent, and no exception ever."""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading

import pytest

from client import transport as transport_module
from client.transport import (
    TCPTransport,
    UDPTransport,
    UnixDatagramTransport,
    UnixStreamTransport,
)
from tests.client.conftest import DatagramReceiver, StreamReceiver
from tests.conftest import free_port, wait_for


@pytest.fixture
def no_retry_delay(monkeypatch):
    monkeypatch.setattr(transport_module, "RETRY_SECONDS", 0.0)


def test_udp_sends_bytes_as_given_through_one_socket(udp):
    sender = UDPTransport("127.0.0.1", udp.port)
    assert sender._sock is None  # nothing until the first send
    for data in (b"a:1|c", b"b:2|ms\nc:3|g", b"\xc3\xa9:x|s"):
        sender.send(data)
    received = udp.take(3)
    assert [data for data, _ in received] == [b"a:1|c", b"b:2|ms\nc:3|g", b"\xc3\xa9:x|s"]
    assert len({address for _, address in received}) == 1
    sender.close()


def test_udp_resolves_the_name_once_per_socket(udp, monkeypatch):
    calls = []
    real = socket.getaddrinfo

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    sender = UDPTransport("localhost", udp.port)
    for _ in range(50):
        sender.send(b"x:1|c")
    udp.take(50)
    assert calls == ["localhost"]
    sender.close()
    sender.send(b"x:1|c")
    udp.take(1)
    assert calls == ["localhost", "localhost"]


def test_udp_with_nothing_listening_never_raises_and_keeps_its_socket(caplog):
    port = free_port()
    sender = UDPTransport("127.0.0.1", port)
    with caplog.at_level(logging.DEBUG, logger="statsgraph.client"):
        for _ in range(200):  # ICMP port unreachable comes back as ECONNREFUSED
            sender.send(b"x:1|c")
    assert "Connection refused" in caplog.text
    sock = sender._sock
    assert sock is not None
    receiver = DatagramReceiver(address=("127.0.0.1", port))
    try:
        sender.send(b"now:1|c")
        assert receiver.packet() == b"now:1|c"
        assert sender._sock is sock
    finally:
        receiver.close()
        sender.close()


def test_udp_dns_failure_is_logged_dropped_and_retried_later(caplog, monkeypatch):
    calls = []

    def failing(host, *args, **kwargs):
        calls.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", failing)
    sender = UDPTransport("statsd.invalid", 8125)
    with caplog.at_level(logging.DEBUG, logger="statsgraph.client"):
        for _ in range(100):
            sender.send(b"x:1|c")
    assert calls == ["statsd.invalid"]  # then not again before RETRY_SECONDS
    assert "cannot open udp statsd.invalid:8125" in caplog.text
    monkeypatch.setattr(transport_module, "RETRY_SECONDS", 0.0)
    sender._retry_at = 0.0
    sender.send(b"x:1|c")
    assert calls == ["statsd.invalid", "statsd.invalid"]


def test_udp_a_real_unresolvable_name_does_not_raise():
    sender = UDPTransport("no-such-host.invalid", 8125)
    sender.send(b"x:1|c")
    assert sender._sock is None


def test_udp_oversized_datagram_is_dropped(udp, caplog):
    sender = UDPTransport("127.0.0.1", udp.port)
    with caplog.at_level(logging.DEBUG, logger="statsgraph.client"):
        sender.send(b"x" * 70000)  # more than a UDP datagram can hold: EMSGSIZE
    assert "dropped" in caplog.text
    sender.send(b"after:1|c")
    assert udp.packet() == b"after:1|c"


class FailingSocket:
    def __init__(self, error: int) -> None:
        self.error = error
        self.closed = False

    def send(self, data, flags=0):
        raise OSError(self.error, os.strerror(self.error))

    def close(self):
        self.closed = True


@pytest.mark.parametrize("error", [errno.EAGAIN, errno.ENOBUFS, errno.ECONNREFUSED,
                                   errno.EMSGSIZE])
def test_udp_full_buffer_and_transient_errors_keep_the_socket(error):
    sender = UDPTransport("127.0.0.1", 9)
    sender._sock = failing = FailingSocket(error)
    sender.send(b"x:1|c")
    assert sender._sock is failing and not failing.closed


def test_udp_other_errors_drop_the_socket():
    sender = UDPTransport("127.0.0.1", 9)
    sender._sock = failing = FailingSocket(errno.EBADF)
    sender.send(b"x:1|c")
    assert sender._sock is None and failing.closed


def test_udp_socket_is_non_blocking(udp):
    sender = UDPTransport("127.0.0.1", udp.port)
    sender.send(b"x:1|c")
    assert sender._sock.getblocking() is False
    udp.take(1)


def test_udp_ipv6(udp):
    try:
        receiver = DatagramReceiver(socket.AF_INET6, ("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    try:
        sender = UDPTransport("::1", receiver.address[1], ipv6=True)
        sender.send(b"v6:1|c")
        assert receiver.packet() == b"v6:1|c"
    finally:
        receiver.close()


def test_udp_is_thread_safe(udp):
    sender = UDPTransport("127.0.0.1", udp.port)
    threads_count, each = 8, 300
    barrier = threading.Barrier(threads_count)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(each):
            sender.send(f"t{n}:{i}|c".encode())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    received = udp.packets(threads_count * each, timeout=15)
    assert sorted(received) == sorted(f"t{n}:{i}|c".encode() for n in range(threads_count)
                                      for i in range(each))
    assert len({address for _, address in udp.received}) == 1  # one socket for all


def _fork_and_send(transport, data: bytes) -> None:
    pid = os.fork()
    if pid == 0:  # the child
        try:
            transport.send(data)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0


def test_udp_a_forked_child_gets_its_own_socket(udp):
    sender = UDPTransport("127.0.0.1", udp.port)
    sender.send(b"parent:1|c")
    parent_sock = sender._sock
    _fork_and_send(sender, b"child:1|c")
    sender.send(b"parent:2|c")
    received = udp.take(3)
    senders = {data: address for data, address in received}
    assert senders[b"parent:1|c"] == senders[b"parent:2|c"]
    assert senders[b"child:1|c"] != senders[b"parent:1|c"]
    assert sender._sock is parent_sock


def test_tcp_sends_newline_framed_lines(tcp):
    sender = TCPTransport("127.0.0.1", tcp.port)
    sender.send(b"a:1|c")
    sender.send(b"b:2|c\nc:3|ms")
    assert tcp.wait(b"a:1|c\nb:2|c\nc:3|ms\n") == b"a:1|c\nb:2|c\nc:3|ms\n"
    assert sender._sock.getblocking() is False
    sender.close()


def test_tcp_with_nothing_listening_never_raises(caplog, no_retry_delay):
    port = free_port()
    sender = TCPTransport("127.0.0.1", port)
    with caplog.at_level(logging.DEBUG, logger="statsgraph.client"):
        for _ in range(20):
            sender.send(b"lost:1|c")
    assert "refused" in caplog.text.lower()
    receiver = StreamReceiver(address=("127.0.0.1", port))
    try:
        # Once the daemon is up, a later metric connects and arrives whole.
        wait_for(lambda: sender.send(b"up:1|c") or b"up:1|c\n" in receiver.data(),
                 what="delivery after the listener came up")
        assert b"lost" not in receiver.data()
        assert receiver.data().startswith(b"up:1|c\n")
    finally:
        receiver.close()
        sender.close()


def test_tcp_waits_retry_seconds_before_reconnecting(monkeypatch):
    calls = []
    monkeypatch.setattr(TCPTransport, "_connect",
                        lambda self: calls.append(1) or (_ for _ in ()).throw(
                            ConnectionRefusedError(errno.ECONNREFUSED, "refused")))
    sender = TCPTransport("127.0.0.1", 9)
    for _ in range(50):
        sender.send(b"x:1|c")
    assert calls == [1]


def test_tcp_reconnects_after_the_server_drops_the_connection(tcp, no_retry_delay):
    sender = TCPTransport("127.0.0.1", tcp.port)
    sender.send(b"first:1|c")
    tcp.wait(b"first:1|c\n")
    wait_for(lambda: tcp.connections, what="accepted")
    tcp.drop_connections()
    # The first sends after the drop may be lost (the RST is news to the sender);
    # then the client reconnects and the lines arrive whole, on a new connection.
    wait_for(lambda: sender.send(b"again:1|c") or b"again:1|c\n" in tcp.data(),
             what="delivery on a new connection")
    lines = tcp.data().split(b"\n")
    assert set(lines) <= {b"first:1|c", b"again:1|c", b""}
    sender.close()


def test_tcp_a_peer_that_does_not_read_never_blocks_the_sender():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # the kernel completes the handshake; nobody ever reads
    try:
        sender = TCPTransport("127.0.0.1", server.getsockname()[1], max_buffer=4096)
        line = b"x" * 1000
        for _ in range(20000):  # 20 MB: far beyond the socket buffers
            sender.send(line)
        assert len(sender._pending) <= 4096
        sender.close()
    finally:
        server.close()


def test_tcp_connection_in_progress_keeps_data_for_the_next_send(tcp):
    sender = TCPTransport("127.0.0.1", tcp.port)
    sock = sender._sock = sender._connect()
    sender._pending += b"early:1|c\n"

    class NotYet:
        def send(self, data, flags=0):
            raise BlockingIOError(errno.EAGAIN, "not yet")

    sender._sock = NotYet()
    sender.flush()
    assert bytes(sender._pending) == b"early:1|c\n"
    sender._sock = sock
    sender.send(b"late:1|c")
    assert tcp.wait(b"early:1|c\nlate:1|c\n") == b"early:1|c\nlate:1|c\n"
    sender.close()


def test_tcp_is_thread_safe(tcp):
    sender = TCPTransport("127.0.0.1", tcp.port, max_buffer=1 << 22)
    lines = {f"t{n}.{i}:1|c".encode() for n in range(4) for i in range(500)}

    def work(n: int) -> None:
        for i in range(500):
            sender.send(f"t{n}.{i}:1|c".encode())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = sum(len(line) + 1 for line in lines)
    wait_for(lambda: sender.flush() or len(tcp.data()) >= expected, what="all lines")
    assert set(tcp.data().split(b"\n")) - {b""} == lines
    sender.close()


def test_tcp_a_forked_child_opens_its_own_connection(tcp):
    sender = TCPTransport("127.0.0.1", tcp.port)
    sender.send(b"parent:1|c")
    tcp.wait(b"parent:1|c\n")
    _fork_and_send(sender, b"child:1|c")
    sender.send(b"parent:2|c")
    wait_for(lambda: len(tcp.connections) == 2, what="a second connection")
    data = tcp.wait(b"parent:1|c\nparent:2|c\nchild:1|c\n")
    assert sorted(data.split(b"\n")) == [b"", b"child:1|c", b"parent:1|c", b"parent:2|c"]
    sender.close()


def test_unix_stream(unix_stream):
    sender = UnixStreamTransport(unix_stream.address)
    sender.send(b"u:1|c")
    sender.send(b"v:2|g")
    assert unix_stream.wait(b"u:1|c\nv:2|g\n") == b"u:1|c\nv:2|g\n"
    sender.close()


def test_unix_stream_with_no_socket_file_never_raises(short_tmp):
    sender = UnixStreamTransport(str(short_tmp / "missing.sock"))
    sender.send(b"x:1|c")
    assert sender._sock is None


def test_unix_datagram(unix_dgram):
    sender = UnixDatagramTransport(unix_dgram.address)
    sender.send(b"u:1|c")
    sender.send(b"v:2|g\nw:3|ms")
    assert unix_dgram.packets(2) == [b"u:1|c", b"v:2|g\nw:3|ms"]
    sender.close()


def test_unix_datagram_listener_gone_then_back(short_tmp, no_retry_delay):
    path = str(short_tmp / "gone.sock")
    sender = UnixDatagramTransport(path)
    sender.send(b"lost:1|c")  # no file: cannot connect
    assert sender._sock is None
    receiver = DatagramReceiver(socket.AF_UNIX, path)
    sender.send(b"a:1|c")
    assert receiver.packet() == b"a:1|c"
    receiver.close()
    os.unlink(path)
    sender.send(b"lost:2|c")  # the listener went away: the socket is dropped
    assert sender._sock is None
    receiver = DatagramReceiver(socket.AF_UNIX, path)
    try:
        sender.send(b"b:1|c")
        assert receiver.packet() == b"b:1|c"
    finally:
        receiver.close()
        sender.close()
