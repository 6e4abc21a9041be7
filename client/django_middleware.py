"""A Django middleware in the spirit of django-statsd: views timed and counted by name,
responses counted by status code, exceptions counted by class.

    MIDDLEWARE = ["client.django_middleware.StatsdMiddleware", ...]

Per request, with `<view>` = `<module>.<function>` of the view that served it (the
class name for a class-based view) and `<METHOD>` the HTTP method:

* `view.<view>.<METHOD>`: timing, milliseconds from the middleware to the response;
* `view.<view>.<METHOD>.requests`: count;
* `response.<code>`: count by status code (`response.200`, `response.404`), for every
  response, whether a view was found or not;
* `exception.<module>.<Class>` (`exception.builtins.ValueError`): count of the
  exceptions a view raised, and `view.<view>.<METHOD>.exceptions`.

Settings (read when Django builds the middleware):

* `STATSD_CLIENT`: the client to send through; otherwise a `StatsClient` from
  `STATSD_HOST`, `STATSD_PORT` and `STATSD_PREFIX` when any of them is set, otherwise
  the default client `client.statsd` (configured from the environment);
* `STATSD_MIDDLEWARE_PREFIX`: put in front of every name above (default none).

Django is imported here only, never by the rest of the client.
"""

from __future__ import annotations

import contextlib
from time import perf_counter
from typing import Any

from django.conf import settings

from client import core


def _client() -> Any:
    client = getattr(settings, "STATSD_CLIENT", None)
    if client is not None:
        return client
    names = ("STATSD_HOST", "STATSD_PORT", "STATSD_PREFIX")
    if any(hasattr(settings, name) for name in names):
        from client.clients import StatsClient
        return StatsClient(getattr(settings, "STATSD_HOST", "localhost"),
                           int(getattr(settings, "STATSD_PORT", 8125)),
                           prefix=getattr(settings, "STATSD_PREFIX", None))
    from client import statsd
    return statsd


def view_name(view_func: Any) -> str:
    """`<module>.<name>` of a view function, or of the class of a class-based view."""
    view = getattr(view_func, "view_class", None) or view_func
    while hasattr(view, "func") and not hasattr(view, "__name__"):  # functools.partial
        view = view.func
    if not hasattr(view, "__name__"):
        view = type(view)
    module = getattr(view, "__module__", None) or "unknown"
    name = getattr(view, "__qualname__", None) or view.__name__
    return f"{module}.{name}".replace("<", "").replace(">", "")


class StatsdMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.client = _client()
        prefix = getattr(settings, "STATSD_MIDDLEWARE_PREFIX", "") or ""
        self.prefix = core.clean_prefix(prefix)

    def __call__(self, request: Any) -> Any:
        request._statsd_start = perf_counter()
        response = self.get_response(request)
        with contextlib.suppress(Exception):  # never let a metric break a response
            self._record(request, response)
        return response

    def process_view(self, request: Any, view_func: Any, view_args: Any,
                     view_kwargs: Any) -> None:
        request._statsd_view = f"view.{view_name(view_func)}.{request.method}"

    def process_exception(self, request: Any, exception: BaseException) -> None:
        exc = type(exception)
        names = [f"{self.prefix}exception.{exc.__module__}.{exc.__qualname__}"]
        view = getattr(request, "_statsd_view", None)
        if view is not None:
            names.append(f"{self.prefix}{view}.exceptions")
        with contextlib.suppress(Exception), self.client.pipeline() as pipe:
            for name in names:
                pipe.increment(name)

    def _record(self, request: Any, response: Any) -> None:
        elapsed = round((perf_counter() - request._statsd_start) * 1000.0, 6)
        prefix = self.prefix
        with self.client.pipeline() as pipe:
            pipe.increment(f"{prefix}response.{response.status_code}")
            view = getattr(request, "_statsd_view", None)
            if view is not None:
                pipe.increment(f"{prefix}{view}.requests")
                pipe.timing(f"{prefix}{view}", elapsed)
