"""A WSGI middleware: every request counted by status class, and timed.

    from client.wsgi import StatsdMiddleware
    app = StatsdMiddleware(app, prefix="web")

sends, per request,

* `web.requests.<N>xx`: a count by the class of the status the app gave
  (`web.requests.2xx`, `web.requests.4xx`...); `5xx` when the app raised before it
  gave a status;
* `web.response_time`: the time in milliseconds from the call until the response
  body has been iterated and closed (so a streamed body is included);
* `web.exceptions`: a count of the requests whose app raised (the exception goes on
  to the server, untouched).

It takes any client (`client=`, the default client `client.statsd` otherwise) and
never changes the request or the response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from time import perf_counter
from typing import Any

StartResponse = Callable[..., Any]


class StatsdMiddleware:
    def __init__(self, app: Callable[[dict, StartResponse], Iterable[bytes]],
                 client: Any = None, prefix: str = "web") -> None:
        if client is None:
            from client import statsd as client
        self.app = app
        self.client = client
        prefix = prefix.strip(".")
        self.prefix = prefix + "." if prefix else ""

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        request = _Request(self, perf_counter())

        def counting_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            request.status = status
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, counting_start_response)
        except BaseException:
            request.finish(failed=True)
            raise
        return _Body(body, request)

    def record(self, status: str | None, started: float, failed: bool) -> None:
        klass = status[0] + "xx" if status and status[0].isdigit() else "5xx"
        elapsed = (perf_counter() - started) * 1000.0
        with self.client.pipeline() as pipe:
            pipe.increment(self.prefix + "requests." + klass)
            if failed:
                pipe.increment(self.prefix + "exceptions")
            pipe.timing(self.prefix + "response_time", round(elapsed, 6))


class _Request:
    __slots__ = ("done", "middleware", "started", "status")

    def __init__(self, middleware: StatsdMiddleware, started: float) -> None:
        self.middleware = middleware
        self.started = started
        self.status: str | None = None
        self.done = False

    def finish(self, failed: bool = False) -> None:
        if not self.done:
            self.done = True
            self.middleware.record(self.status, self.started, failed)


class _Body:
    """The app's body, passed through; the request is recorded when it is closed (or
    when iterating it raises)."""

    def __init__(self, body: Iterable[bytes], request: _Request) -> None:
        self.body = body
        self.request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.body
        except GeneratorExit:  # the server stopped early (the client went away)
            raise
        except BaseException:
            self.request.finish(failed=True)
            raise

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.request.finish()
