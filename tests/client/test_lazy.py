"""client.lazy: the default client is built on first use, from the environment."""

from __future__ import annotations

import logging

import pytest

from client import StatsClient
from client.lazy import LazyClient, from_environment


def test_nothing_is_built_until_a_method_is_used(udp, monkeypatch):
    monkeypatch.setenv("STATSD_HOST", "127.0.0.1")
    monkeypatch.setenv("STATSD_PORT", str(udp.port))
    monkeypatch.setenv("STATSD_PREFIX", "lazy")
    lazy = LazyClient()
    assert not lazy.configured
    assert "not built yet" in repr(lazy)
    lazy.increment("api.3_0.endpoint_request." + "users")
    assert lazy.configured
    assert udp.packet() == b"lazy.api.3_0.endpoint_request.users:1|c"


def test_the_environment_is_read_at_first_use_not_before(udp, monkeypatch):
    monkeypatch.delenv("STATSD_PREFIX", raising=False)
    lazy = LazyClient()
    monkeypatch.setenv("STATSD_HOST", "127.0.0.1")
    monkeypatch.setenv("STATSD_PORT", str(udp.port))
    lazy.timing("t", 5)
    assert udp.packet() == b"t:5|ms"


def test_built_client_holds_no_socket_until_it_sends(udp, monkeypatch):
    monkeypatch.setenv("STATSD_PORT", str(udp.port))
    lazy = LazyClient()
    assert lazy.prefix == ""  # builds the client: still no socket
    assert lazy._client._transport._sock is None


def test_methods_are_the_real_clients_bound_methods(monkeypatch):
    lazy = LazyClient(lambda: StatsClient("127.0.0.1", 9))
    lazy.increment  # noqa: B018 - builds it
    real = lazy._client
    for name in ("increment", "incr", "decrement", "decr", "gauge", "timing", "timer",
                 "set", "histogram", "distribution", "pipeline", "close"):
        assert getattr(lazy, name) == getattr(real, name)
        assert name in vars(lazy)  # found without going through __getattr__


def test_defaults(monkeypatch):
    for name in ("STATSD_HOST", "STATSD_PORT", "STATSD_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    client = from_environment()
    assert (client._transport.host, client._transport.port, client.prefix) == (
        "localhost", 8125, "")


@pytest.mark.parametrize("port", ["nope", "0", "70000", "-1"])
def test_a_bad_port_is_logged_and_the_default_used(port, caplog):
    with caplog.at_level(logging.WARNING, logger="statsgraph.client"):
        client = from_environment({"STATSD_PORT": port})
    assert client._transport.port == 8125
    assert "STATSD_PORT" in caplog.text


def test_configure_replaces_the_client(udp):
    lazy = LazyClient(lambda: StatsClient("127.0.0.1", 9))
    lazy.increment("before")
    old = lazy._client
    lazy.configure(host="127.0.0.1", port=udp.port, prefix="new")
    assert lazy._client is not old
    lazy.increment("after")
    assert udp.packet() == b"new.after:1|c"
    other = StatsClient("127.0.0.1", udp.port, prefix="given")
    lazy.configure(other)
    lazy.gauge("g", 1)
    assert udp.packet() == b"given.g:1|g"


def test_configure_before_first_use_never_builds_the_default(udp):
    built = []
    lazy = LazyClient(lambda: built.append(1) or StatsClient("127.0.0.1", 9))
    lazy.configure(host="127.0.0.1", port=udp.port)
    lazy.increment("x")
    assert built == []
    assert udp.packet() == b"x:1|c"


def test_dunder_lookups_do_not_build_the_client():
    lazy = LazyClient(lambda: pytest.fail("built"))
    with pytest.raises(AttributeError):
        lazy.__wrapped__  # noqa: B018
    assert not lazy.configured


def test_first_use_from_many_threads_builds_one_client(udp):
    import threading
    built = []

    def factory():
        built.append(1)
        return StatsClient("127.0.0.1", udp.port)

    lazy = LazyClient(factory)
    barrier = threading.Barrier(8)

    def work():
        barrier.wait()
        lazy.increment("x")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == [1]
    assert udp.packets(8) == [b"x:1|c"] * 8
