"""The carbon store as a tree of Twisted services, built by `makeService`.

The core (cache, writer thread, flow control, rule reloading, self-metrics) starts first
and stops last; the listeners stop first. On a clean stop the writer drains the cache
(for at most `shutdown_timeout` seconds); what is left is dumped to
`<storage>/carbon-cache.dump` and loaded again at the next start.
"""

from __future__ import annotations

import os
import resource
import socket
import time
from pathlib import Path

from twisted.application import internet
from twisted.application.service import MultiService, Service
from twisted.internet import task, threads
from twisted.logger import Logger

from carbon_store.cache import MetricCache
from carbon_store.index import Containment
from carbon_store.intake import Intake
from carbon_store.names import BadName, normalize, relative_path
from carbon_store.protocols import (
    CacheQueryFactory,
    PickleReceiver,
    PlaintextDatagramReceiver,
    PlaintextReceiver,
    ReceiverFactory,
)
from carbon_store.schemas import StorageRules, load_rules
from carbon_store.settings import CarbonSettings
from carbon_store.writer import Writer
from statsgraph.configfile import ConfigError
from statsgraph.ratelimit import RateLimitedLog

log = Logger()

PACKAGED_CONF = Path(__file__).parent / "conf"
DUMP_NAME = "carbon-cache.dump"
RULES_CHECK_INTERVAL = 60.0


def rules_files(settings: CarbonSettings, config_path: str | None) -> tuple[Path, Path]:
    """Where the storage rules come from: the keys if set, else beside the config file,
    else the data directory's conf/ (the storage directory's parent), else packaged."""
    candidates = []
    if config_path:
        candidates.append(Path(config_path).resolve().parent)
    candidates.append(Path(settings.storage).resolve().parent / "conf")
    candidates.append(PACKAGED_CONF)
    folder = next((c for c in candidates if (c / "storage-schemas.conf").exists()),
                  PACKAGED_CONF)
    schemas = Path(settings.storage_schemas) if settings.storage_schemas else (
        folder / "storage-schemas.conf")
    aggregation = Path(settings.storage_aggregation) if settings.storage_aggregation else (
        folder / "storage-aggregation.conf")
    return schemas, aggregation


class RulesSource:
    """The storage rules in force, re-read when either file changes."""

    def __init__(self, schemas: Path, aggregation: Path) -> None:
        self.schemas = schemas
        self.aggregation = aggregation
        self.rules = load_rules(schemas, aggregation)  # ConfigError at start: refused
        self._stamp = self._mtimes()

    def _mtimes(self) -> tuple[float, float]:
        def mtime(path: Path) -> float:
            try:
                return path.stat().st_mtime
            except OSError:
                return 0.0
        return mtime(self.schemas), mtime(self.aggregation)

    def __call__(self) -> StorageRules:
        return self.rules

    def check(self) -> None:
        stamp = self._mtimes()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            self.rules = load_rules(self.schemas, self.aggregation)
        except ConfigError as exc:
            log.error("storage rules not reloaded, keeping the old ones: {why}", why=str(exc))
            return
        log.info("storage rules reloaded from {path}", path=str(self.schemas))


def _idle(settings: CarbonSettings) -> float:
    """The idle timeout of TCP connections; 0 (or inf) = none."""
    seconds = settings.idle_timeout
    return 0 if seconds == float("inf") else seconds


def _rss_bytes() -> int:
    """Resident memory now (carbon's memUsage), from /proc where there is one."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class StoreCore(Service):
    """Cache, writer thread, flow control, self-metrics, dump and reload."""

    def __init__(self, settings: CarbonSettings, rules: RulesSource, reactor: object) -> None:
        self.settings = settings
        self.reactor = reactor
        self.rules = rules
        self.cache = MetricCache(settings.max_cache_size, settings.cache_write_strategy,
                                 hard_limit=settings.hard_limit)
        self.bad_log = RateLimitedLog(lambda text: log.warn("{text}", text=text),
                                      time.monotonic)
        self.intake = Intake(self.cache, reactor.seconds,
                             on_bad=lambda why, text: self.bad_log(f"dropped ({why}): {text!r}"))
        self.writer = Writer(self.cache, rules, settings)
        self.receivers: list[ReceiverFactory] = []
        self.udp_ports: list[internet.UDPServer] = []
        self._containment = Containment(settings.storage)
        self.query_factory = CacheQueryFactory(self.cache, self.whisper_path,
                                               _idle(settings), reactor)
        self.paused = False
        self.pauses = 0
        self._writer_done = None
        self._loops: list[task.LoopingCall] = []
        self._last_cpu = 0.0
        host = socket.gethostname().split(".")[0].replace(".", "_")
        instance = f"-{settings.instance}" if settings.instance else ""
        self.agent_prefix = f"{settings.carbon_metric_prefix}.agents.{host}{instance}"

    def whisper_path(self, metric: str) -> str:
        """The file of `metric`; an OSError when a planted link would lead outside."""
        path = str(Path(self.settings.storage) / relative_path(metric))
        if not self._containment.contains(path):
            raise OSError(f"{metric!r} leads outside the storage directory")
        return path

    # -- lifecycle --------------------------------------------------------------------

    def startService(self) -> None:
        Path(self.settings.storage).mkdir(parents=True, exist_ok=True)
        self.load_dump()
        super().startService()
        self._writer_done = threads.deferToThread(self.writer.run)
        self._writer_done.addErrback(lambda f: log.failure("writer thread died", f))
        self._loop(0.1, self.flow_control)
        self._loop(RULES_CHECK_INTERVAL, self.rules.check)
        if self.settings.carbon_metric_interval:
            self._loop(self.settings.carbon_metric_interval, self.record_self_metrics)

    def _loop(self, interval: float, function: object) -> None:
        loop = task.LoopingCall(function)
        loop.clock = self.reactor
        loop.start(interval, now=False).addErrback(
            lambda f: log.failure("periodic task failed", f))
        self._loops.append(loop)

    def stopService(self):
        super().stopService()
        for loop in self._loops:
            if loop.running:
                loop.stop()
        # Receivers still connected stop sending; what they hold joins the cache, whose
        # bound no longer matters (it is written out or dumped).
        self.cache.hard_limit = float("inf")
        for factory in self.receivers:
            factory.pause()
            held = list(factory.orphaned)
            factory.orphaned = []
            for connection in factory.connections:
                held.extend(connection.held)
                connection.held = []
            self.cache.store_many(held)
        log.info("stopping: writing {n} cached points", n=self.cache.size)
        self.writer.stop(self.settings.shutdown_timeout)
        done = self._writer_done
        done.addCallback(lambda _: self.dump())
        return done

    # -- flow control -----------------------------------------------------------------

    def flow_control(self) -> None:
        """Wake the writer when there is work; pause receivers at max_cache_size and
        resume them under the low watermark."""
        size = self.cache.size
        if size:
            self.writer.wake()
        if self.settings.max_cache_size == float("inf"):
            return
        if not self.paused and size >= self.settings.max_cache_size:
            self.paused = True
            self.pauses += 1
            if self.settings.use_flow_control and self.pauses == 1:
                log.warn("cache full ({size} points): pausing receivers until it is below "
                         "{low:.0f} (logged once; see carbon.agents.*.cache.pauses)",
                         size=size, low=self.settings.low_watermark)
                for factory in self.receivers:
                    factory.pause()
                for udp in self.udp_ports:
                    udp._port.stopReading()
        elif self.paused and size < self.settings.low_watermark:
            self.paused = False
            if self.settings.use_flow_control:
                if self.pauses == 1:
                    log.info("cache has room again ({size} points): resuming", size=size)
                for factory in self.receivers:
                    factory.resume()
                for udp in self.udp_ports:
                    udp._port.startReading()
        elif not self.paused:
            for factory in self.receivers:
                if factory.holding:
                    factory.retry()

    # -- self-metrics -----------------------------------------------------------------

    def record_self_metrics(self) -> None:
        stats = self.writer.stats
        now = float(int(self.reactor.seconds()))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime
        cpu_share = (cpu - self._last_cpu) / self.settings.carbon_metric_interval
        self._last_cpu = cpu
        updates = stats.update_operations
        queries = self.query_factory
        figures = {
            "cache.size": self.cache.size,
            "cache.queues": len(self.cache),
            "cache.overflow": self.cache.overflow,
            "cache.pauses": self.pauses,
            "cache.queries": queries.queries,
            "cache.bulk_queries": queries.bulk_queries,
            "cache.bulk_queries_average_size": (queries.bulk_query_metrics / queries.bulk_queries
                                                if queries.bulk_queries else 0),
            "committedPoints": stats.committed_points,
            "updateOperations": updates,
            "pointsPerUpdate": stats.committed_points / updates if updates else 0,
            "avgUpdateTime": stats.update_seconds / updates if updates else 0,
            "creates": stats.creates,
            "droppedCreates": 0,  # creates wait, points are never dropped for them
            "errors": stats.errors,
            "metricsReceived": self.intake.received,
            "badLines": self.intake.bad_lines,
            "activeConnections": sum(len(f.connections) for f in self.receivers),
            "cpuUsage": cpu_share,  # CPU seconds per second over the interval, as carbon
            "memUsage": _rss_bytes(),
        }
        self.cache.store_many((f"{self.agent_prefix}.{key}", now, float(value))
                              for key, value in figures.items())

    # -- dump and reload --------------------------------------------------------------

    @property
    def dump_path(self) -> Path:
        return Path(self.settings.storage) / DUMP_NAME

    def dump(self) -> None:
        """Write what the writer could not, in carbon's plaintext format."""
        if not self.cache.size:
            return
        temporary = self.dump_path.with_suffix(".tmp")
        count = 0
        with open(temporary, "w", encoding="utf-8") as out:
            for name in self.cache.names():
                for timestamp, value in self.cache.pop(name):
                    out.write(f"{name} {value!r} {int(timestamp)}\n")
                    count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.dump_path)
        log.warn("{n} points not written in time were dumped to {path}; they are loaded "
                 "at the next start", n=count, path=str(self.dump_path))

    def load_dump(self) -> None:
        if not self.dump_path.exists():
            return
        count = 0
        with open(self.dump_path, "rb") as dump:
            for line in dump:
                try:
                    name, value, timestamp = line.split()
                    self.cache.store(normalize(name.decode("utf-8")), float(timestamp),
                                     float(value))
                    count += 1
                except (ValueError, BadName):
                    log.warn("skipped a bad line in the cache dump: {line!r}", line=line[:200])
        self.dump_path.unlink()
        log.info("loaded {n} points dumped at the last stop", n=count)


class CarbonService(MultiService):
    def __init__(self, settings: CarbonSettings, reactor: object,
                 config_path: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        rules = RulesSource(*rules_files(settings, config_path))
        self.core = StoreCore(settings, rules, reactor)
        self.core.setServiceParent(self)
        core = self.core
        listeners: list[Service] = []
        if settings.port:
            plaintext = ReceiverFactory(PlaintextReceiver, core.intake,
                                        settings.line_max_length, _idle(settings), reactor)
            core.receivers.append(plaintext)
            listeners.append(internet.TCPServer(settings.port, plaintext,
                                                interface=settings.bind, reactor=reactor))
            udp = internet.UDPServer(settings.port, PlaintextDatagramReceiver(core.intake),
                                     interface=settings.bind, reactor=reactor)
            core.udp_ports.append(udp)
            listeners.append(udp)
        if settings.pickle_port:
            pickled = ReceiverFactory(PickleReceiver, core.intake, settings.pickle_max_length,
                                      _idle(settings), reactor)
            core.receivers.append(pickled)
            listeners.append(internet.TCPServer(settings.pickle_port, pickled,
                                                interface=settings.bind, reactor=reactor))
        if settings.query_port:
            listeners.append(internet.TCPServer(settings.query_port, core.query_factory,
                                                interface=settings.bind, reactor=reactor))
        for listener in listeners:
            listener.setServiceParent(self)


def makeService(settings: CarbonSettings, reactor: object | None = None,
                config_path: str | None = None) -> CarbonService:
    if reactor is None:
        from twisted.internet import reactor as global_reactor
        reactor = global_reactor
    return CarbonService(settings, reactor, config_path)
