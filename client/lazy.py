"""The default client, `client.statsd`: built on first use, from the environment.

    from client import statsd
    statsd.increment("api.3_0.endpoint_request." + endpoint)

`LazyClient` is a stand-in that builds its real client the first time one of its
methods is looked up: a `StatsClient` from `STATSD_HOST` (default `localhost`),
`STATSD_PORT` (8125) and `STATSD_PREFIX` (none), read at that moment. Importing makes
no socket and no DNS lookup; the client itself makes its socket on its first send.
Once built, the real client's bound methods are stored on the stand-in, so
`statsd.increment` costs the same as calling the real client.

`configure(...)` replaces the real client (with a given one, or a `StatsClient` built
from keyword arguments), for an application that configures it from its own settings.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from client.clients import StatsClient, StatsClientBase

log = logging.getLogger("statsgraph.client")

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 8125


def from_environment(environ: Mapping[str, str] | None = None) -> StatsClient:
    """A `StatsClient` configured by `STATSD_HOST`, `STATSD_PORT` and `STATSD_PREFIX`.

    A `STATSD_PORT` that is not a port number is logged (warning) and the default used:
    metrics must not break the application that sends them.
    """
    environ = os.environ if environ is None else environ
    host = environ.get("STATSD_HOST") or DEFAULT_HOST
    port = DEFAULT_PORT
    text = environ.get("STATSD_PORT")
    if text:
        try:
            port = int(text)
            if not 0 < port < 65536:
                raise ValueError(text)
        except ValueError:
            log.warning("statsd: STATSD_PORT=%r is not a port number; using %d", text,
                        DEFAULT_PORT)
            port = DEFAULT_PORT
    return StatsClient(host, port, prefix=environ.get("STATSD_PREFIX") or None)


class LazyClient:
    """A client that is built when first used (see the module doc)."""

    def __init__(self, factory: Callable[[], StatsClientBase] = from_environment) -> None:
        self.__dict__["_factory"] = factory
        self.__dict__["_client"] = None
        self.__dict__["_lock"] = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        # Only reached for what is not yet stored on the stand-in.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._real(), name)

    def _real(self) -> StatsClientBase:
        client = self._client
        if client is None:
            with self._lock:
                client = self._client
                if client is None:
                    client = self._install(self._factory())
        return client

    def _install(self, client: StatsClientBase) -> StatsClientBase:
        for name in dir(client):
            if not name.startswith("_"):
                value = getattr(client, name)
                if callable(value):
                    self.__dict__[name] = value
        self.__dict__["_client"] = client
        return client

    def configure(self, client: StatsClientBase | None = None, **settings: Any) -> None:
        """Use `client`, or a `StatsClient(**settings)`, from now on."""
        new = client if client is not None else StatsClient(**settings)
        with self._lock:
            old = self._client
            for name in [n for n in self.__dict__ if not n.startswith("_")]:
                del self.__dict__[name]
            self._install(new)
        if old is not None and old is not new:
            close = getattr(old, "close", None)
            if close is not None:
                close()

    @property
    def configured(self) -> bool:
        """Whether the real client has been built yet."""
        return self._client is not None

    def __repr__(self) -> str:
        state = repr(self._client) if self._client is not None else "not built yet"
        return f"<LazyClient: {state}>"
