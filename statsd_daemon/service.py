"""The statsd daemon as a tree of Twisted services, built by `makeService`.

Children start in this order and stop in the reverse one: the sinks, the flusher, then
the listeners. So on a clean stop the listeners close first (the UDP one reading what
the kernel still holds), the flusher sends a last flush of everything pending, and the
sinks wait (bounded) for their queues to reach carbon.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

from twisted.application import internet
from twisted.application.service import MultiService, Service
from twisted.internet import endpoints, task
from twisted.logger import Logger

from statsd_daemon.aggregator import Aggregator
from statsd_daemon.carbon_wire import ENCODERS
from statsd_daemon.flush import Point, graphite_points, own_name, process
from statsd_daemon.protocols import (
    Activity,
    AdminFactory,
    StatsdDatagramProtocol,
    StatsdStreamFactory,
    StatsdUDPServer,
)
from statsd_daemon.settings import StatsdSettings
from statsd_daemon.sinks import CarbonSink, ConsoleSink
from statsgraph.options import describe, format_destination
from statsgraph.ratelimit import RateLimitedLog

log = Logger()

# A flush this close after a boundary still belongs to it (clock granularity).
_EPSILON = 1e-6


def boundary_before(now: float, interval: float) -> float:
    """The latest wall-clock multiple of `interval` at or before `now`."""
    return math.floor(now / interval + _EPSILON) * interval


def boundary_after(now: float, interval: float) -> float:
    """The first multiple of `interval` after `now`: where a partial interval's
    data belongs (the slot its regular flush would have written)."""
    return (math.floor(now / interval + _EPSILON) + 1) * interval


class FlushService(Service):
    """Flushes at every wall-clock multiple of the flush interval.

    A `LoopingCall` started exactly on a boundary stays on the boundaries (it schedules
    from its start time, skipping intervals it missed rather than bunching them).
    """

    def __init__(self, daemon: StatsdService) -> None:
        self.daemon = daemon
        self._loop: task.LoopingCall | None = None
        self._start_call = None
        self._last_wall: float | None = None

    def startService(self) -> None:
        super().startService()
        self._schedule()

    def _schedule(self) -> None:
        clock = self.daemon.clock
        interval = self.daemon.settings.flush_interval
        delay = boundary_after(clock.seconds(), interval) - clock.seconds()
        self._start_call = clock.callLater(delay, self._start_loop, interval)

    def _start_loop(self, interval: float) -> None:
        self._start_call = None
        self._loop = task.LoopingCall(self.tick)
        self._loop.clock = self.daemon.clock
        self._loop.start(interval, now=True).addErrback(
            lambda f: log.failure("flush loop stopped", f))

    def _cancel(self) -> None:
        if self._start_call is not None and self._start_call.active():
            self._start_call.cancel()
        self._start_call = None
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None

    def reschedule(self) -> None:
        """After a change of flush interval."""
        if self.running:
            self._cancel()
            self._schedule()

    def tick(self) -> None:
        try:
            now = self.daemon.clock.seconds()
            self.flush(boundary_before(now, self.daemon.settings.flush_interval))
        except Exception:
            # One bad flush must not end the loop (and with it every later flush).
            log.failure("flush failed")

    def flush(self, boundary: float) -> list[Point]:
        daemon = self.daemon
        settings = daemon.settings
        wall = daemon.clock.seconds()
        if self._last_wall is not None:
            lag = (wall - self._last_wall) - settings.flush_interval
            daemon.aggregator.set_gauge(f"{settings.prefix_stats}.timestamp_lag", round(lag, 3))
        self._last_wall = wall
        points = daemon.flush_points(int(boundary))
        for sink in daemon.sinks:
            sink.send(points)
        return points

    def stopService(self) -> None:
        super().stopService()
        self._cancel()
        now = self.daemon.clock.seconds()
        self.flush(boundary_after(now, self.daemon.settings.flush_interval))


class StatsdService(MultiService):
    """The daemon: aggregator, flusher, sinks and listeners under one parent."""

    def __init__(self, settings: StatsdSettings, reactor: object,
                 timer: Callable[[], float] = time.perf_counter) -> None:
        super().__init__()
        self.settings = settings
        self.reactor = reactor
        self.clock = reactor
        self.timer = timer
        self.health = settings.health_status
        self.started_at = reactor.seconds()
        self.bad_line_log = RateLimitedLog(lambda text: log.warn("{text}", text=text),
                                           reactor.seconds)
        self.aggregator = Aggregator(settings, on_bad_line=self._bad_line)
        self.activity = Activity(reactor.seconds)
        self.sinks: list[CarbonSink | ConsoleSink] = []
        self._sink_parent = MultiService()
        self._sink_parent.setServiceParent(self)
        self._make_sinks(settings)
        self.flusher = FlushService(self)
        self.flusher.setServiceParent(self)
        self.udp: StatsdUDPServer | None = None
        self.listeners: list[internet._AbstractServer] = []
        if settings.port:
            self.udp = StatsdUDPServer(
                settings.port, StatsdDatagramProtocol(self.aggregator, self.activity),
                interface=settings.bind, recv_buffer=settings.udp_recv_buffer,
                reactor=reactor)
            tcp = internet.TCPServer(settings.port,
                                     StatsdStreamFactory(self.aggregator, self.activity,
                                                         settings.idle_timeout, reactor),
                                     interface=settings.bind, reactor=reactor)
            self.listeners += [self.udp, tcp]
        if settings.admin_port:
            admin_factory = AdminFactory(self, settings.idle_timeout, reactor)
            self.listeners.append(internet.TCPServer(settings.admin_port, admin_factory,
                                                     interface=settings.bind,
                                                     reactor=reactor))
        for listener in self.listeners:
            listener.setServiceParent(self)

    # -- pieces -----------------------------------------------------------------------

    def _bad_line(self, reason: str, text: str) -> None:
        self.bad_line_log(f"bad line ({reason}): {text[:200]!r}")

    def _make_sinks(self, settings: StatsdSettings) -> None:
        encoder = ENCODERS[settings.carbon_protocol]
        for host, port in settings.carbon:
            endpoint = endpoints.HostnameEndpoint(self.reactor, host, port, timeout=10)
            sink = CarbonSink(format_destination((host, port)), endpoint, encoder,
                              max_queue_points=settings.max_queue_points,
                              drain_timeout=settings.drain_timeout, clock=self.reactor)
            sink.setServiceParent(self._sink_parent)
            self.sinks.append(sink)
        if settings.console:
            console = ConsoleSink()
            console.setServiceParent(self._sink_parent)
            self.sinks.append(console)

    def carbon_sinks(self) -> list[CarbonSink]:
        return [sink for sink in self.sinks if isinstance(sink, CarbonSink)]

    # -- flush ------------------------------------------------------------------------

    def flush_points(self, timestamp: int) -> list[Point]:
        """Every point of one flush, the daemon's own figures included."""
        settings = self.settings
        started = self.timer()
        snapshot = self.aggregator.flush()
        processed = process(snapshot, settings)
        processing_ms = (self.timer() - started) * 1000.0
        named = self.timer()
        points, num_stats = graphite_points(snapshot, processed, settings, timestamp)
        own: dict[str, float] = {
            "numStats": num_stats,
            "graphiteStats.calculationtime": round((self.timer() - named) * 1000.0, 3),
            "processing_time": round(processing_ms, 3),
        }
        carbon = self.carbon_sinks()
        if carbon:
            own.update({
                "graphiteStats.last_exception": max(s.last_exception for s in carbon),
                "graphiteStats.last_flush": max(s.last_flush for s in carbon),
                "graphiteStats.flush_time": round(sum(s.flush_time for s in carbon), 3),
                "graphiteStats.flush_length": sum(s.flush_length for s in carbon),
                "graphiteStats.queued_points": sum(s.queued_points for s in carbon),
                "graphiteStats.dropped_points": sum(s.dropped_points for s in carbon),
            })
        points += [(own_name(settings, key), value, timestamp) for key, value in own.items()]
        return points

    # -- what the admin interface sees -----------------------------------------------

    def seconds(self) -> float:
        return self.reactor.seconds()

    def status(self) -> Iterable[tuple[str, float]]:
        yield "uptime", self.started_at
        yield "messages.last_msg_seen", self.activity.last_msg_seen
        yield "messages.bad_lines_seen", self.aggregator.bad_lines_total
        yield ("messages.packets_received",
               self.aggregator.packets_total + self.aggregator.packets_received)
        if self.udp is not None:
            yield "udp.receive_buffer", self.udp.granted_buffer
        for sink in self.carbon_sinks():
            group = "graphite" if len(self.carbon_sinks()) == 1 else f"graphite[{sink.name}]"
            yield f"{group}.last_flush", sink.last_flush or self.started_at
            yield f"{group}.last_exception", sink.last_exception
            yield f"{group}.flush_time", round(sink.flush_time, 3)
            yield f"{group}.flush_length", sink.flush_length
            yield f"{group}.queued_points", sink.queued_points
            yield f"{group}.dropped_points", sink.dropped_points

    def config_lines(self) -> Iterable[tuple[str, str]]:
        for key, text in describe(self.settings):
            if key == "carbon":
                text = ", ".join(map(format_destination, self.settings.carbon)) or "none"
            yield key, text

    # -- reload -----------------------------------------------------------------------

    def reconfigure(self, settings: StatsdSettings) -> None:
        """Apply re-read settings (SIGHUP). Listeners keep their sockets: a change of
        address, port or buffer size needs a restart, and says so."""
        old = self.settings
        for key in ("bind", "port", "admin_port", "udp_recv_buffer", "idle_timeout"):
            if getattr(old, key) != getattr(settings, key):
                log.warn("{key} changed; it takes effect at the next restart", key=key)
        self.settings = settings
        self.aggregator.configure(settings)
        if (old.carbon, old.carbon_protocol, old.console, old.max_queue_points,
                old.drain_timeout) != (settings.carbon, settings.carbon_protocol,
                                       settings.console, settings.max_queue_points,
                                       settings.drain_timeout):
            retired, self.sinks = self.sinks, []
            old_parent = self._sink_parent
            self._sink_parent = MultiService()
            self._sink_parent.setServiceParent(self)
            # Keep the start order: sinks first, so they stop last.
            self.services.remove(self._sink_parent)
            self.services.insert(0, self._sink_parent)
            self._make_sinks(settings)
            for sink in retired:
                if isinstance(sink, CarbonSink) and sink.queued_points:
                    log.warn("carbon {name} removed with {n} points queued; they are sent "
                             "while it drains", name=sink.name, n=sink.queued_points)
            old_parent.disownServiceParent()
        if old.flush_interval != settings.flush_interval:
            self.flusher.reschedule()
        log.info("configuration reloaded")


def makeService(settings: StatsdSettings, reactor: object | None = None) -> StatsdService:
    """The daemon for `settings`, not started."""
    if reactor is None:
        from twisted.internet import reactor as global_reactor
        reactor = global_reactor
    return StatsdService(settings, reactor)
