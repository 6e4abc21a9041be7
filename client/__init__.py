"""The application-side statsd client: UDP, so it is safe to call a lot from inside an app.

    from client import statsd
    statsd.increment("api.3_0.endpoint_request." + endpoint)
    statsd.timing("db.query", 12.5)
    with statsd.timer("render"):
        ...

`statsd` is the default client, built on first use from `STATSD_HOST`, `STATSD_PORT`
and `STATSD_PREFIX` (`client.lazy`). For more, make a `StatsClient`, `TCPStatsClient`
or `UnixSocketStatsClient` (`client.clients`). No method raises or blocks on a network
problem; names are cleaned the way `statsd_daemon` cleans them (`client.core`).
Framework glue: `client.wsgi.StatsdMiddleware` and
`client.django_middleware.StatsdMiddleware`.

Standard library only: importing this package imports no framework and no third-party
module.
"""

from client.clients import (
    Pipeline,
    StatsClient,
    StatsClientBase,
    TCPStatsClient,
    UnixSocketStatsClient,
)
from client.lazy import LazyClient, from_environment
from client.timer import Timer

statsd = LazyClient()

__all__ = [
    "LazyClient",
    "Pipeline",
    "StatsClient",
    "StatsClientBase",
    "TCPStatsClient",
    "Timer",
    "UnixSocketStatsClient",
    "from_environment",
    "statsd",
]
