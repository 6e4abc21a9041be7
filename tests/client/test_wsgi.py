"""client.wsgi: the middleware around real WSGI apps, checked by wsgiref's validator."""

from __future__ import annotations

from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from client import StatsClient
from client.wsgi import StatsdMiddleware


def call(app, path="/"):
    """Run a WSGI request as a server would: start_response, iterate, close."""
    environ = {}
    setup_testing_defaults(environ)
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = ""
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return seen["status"], body


def hello(environ, start_response):
    status = "404 Not Found" if environ["PATH_INFO"] == "/missing" else "200 OK"
    start_response(status, [("Content-Type", "text/plain")])
    return [b"hello ", b"world"]


def parse(packet):
    lines = packet.split(b"\n")
    counts = [line for line in lines if line.endswith(b"|c")]
    (timing,) = [line for line in lines if line.endswith(b"|ms")]
    name, value = timing[:-3].split(b":")
    return counts, name, float(value)


@pytest.fixture
def client(udp):
    made = StatsClient("127.0.0.1", udp.port)
    yield made
    made.close()


def test_counts_by_status_class_and_times(client, udp):
    app = validator(StatsdMiddleware(validator(hello), client=client))
    assert call(app) == ("200 OK", b"hello world")
    assert call(app, "/missing") == ("404 Not Found", b"hello world")
    first, second = udp.packets(2)
    counts, name, ms = parse(first)
    assert counts == [b"web.requests.2xx:1|c"]
    assert name == b"web.response_time" and ms >= 0
    assert parse(second)[0] == [b"web.requests.4xx:1|c"]


def test_custom_prefix(client, udp):
    app = StatsdMiddleware(hello, client=client, prefix="shop.front.")
    call(app)
    counts, name, _ = parse(udp.packet())
    assert counts == [b"shop.front.requests.2xx:1|c"]
    assert name == b"shop.front.response_time"


def test_the_time_covers_a_streamed_body(client, udp):
    events = []

    def streaming(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body():
            events.append("first")
            yield b"a"
            events.append("second")
            yield b"b"
        return body()

    app = StatsdMiddleware(streaming, client=client)
    environ = {}
    setup_testing_defaults(environ)
    result = app(environ, lambda status, headers, exc_info=None: None)
    iterator = iter(result)
    assert next(iterator) == b"a"
    client.increment("sentinel")  # nothing recorded yet: the body is not done
    assert udp.packet() == b"sentinel:1|c"
    assert list(iterator) == [b"b"]
    result.close()
    assert parse(udp.packet())[0] == [b"web.requests.2xx:1|c"]
    assert events == ["first", "second"]


def test_an_app_that_raises_counts_5xx_and_the_exception(client, udp):
    def broken(environ, start_response):
        raise RuntimeError("boom")

    app = StatsdMiddleware(broken, client=client)
    with pytest.raises(RuntimeError, match="boom"):
        call(app)
    counts, _, _ = parse(udp.packet())
    assert counts == [b"web.requests.5xx:1|c", b"web.exceptions:1|c"]


def test_a_body_that_raises_counts_the_exception_once(client, udp):
    def broken_body(environ, start_response):
        start_response("200 OK", [])

        def body():
            yield b"x"
            raise ValueError("half way")
        return body()

    app = StatsdMiddleware(broken_body, client=client)
    with pytest.raises(ValueError, match="half way"):
        call(app)
    counts, _, _ = parse(udp.packet())
    assert counts == [b"web.requests.2xx:1|c", b"web.exceptions:1|c"]
    client.increment("sentinel")
    assert udp.packet() == b"sentinel:1|c"  # close() did not record it again


def test_close_of_the_apps_body_is_called(client, udp):
    closed = []

    class Body:
        def __iter__(self):
            return iter([b"x"])

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("302 Found", [("Location", "/")])
        return Body()

    assert call(StatsdMiddleware(app, client=client)) == ("302 Found", b"x")
    assert closed == [True]
    assert parse(udp.packet())[0] == [b"web.requests.3xx:1|c"]


def test_nothing_listening_does_not_disturb_the_app():
    from tests.conftest import free_port
    app = validator(StatsdMiddleware(validator(hello),
                                     client=StatsClient("127.0.0.1", free_port())))
    for _ in range(20):
        assert call(app) == ("200 OK", b"hello world")


def test_default_client_is_the_lazy_one():
    from client import statsd
    assert StatsdMiddleware(hello).client is statsd
