"""`statsgraph run`: the three services as supervised child processes.

`plan()` reads the configuration once, works out each child's command line (the store and
the renderer on the data directory, statsd pointed at the store, the renderer at the
store's cache query port) and checks the pipeline as a whole; `makeService()` turns a plan
into a `Supervisor`, which restarts a child that dies and stops them upstream first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from carbon_store.schemas import load_rules
from carbon_store.service import rules_files
from carbon_store.settings import CarbonSettings
from render_web.settings import WebSettings
from statsd_daemon.settings import StatsdSettings
from statsgraph.datadir import DataDir
from statsgraph.options import load_section, resolve
from statsgraph.pipeline import Finding, check_pipeline
from statsgraph.runner import SUPERVISED
from statsgraph.supervisor import Supervisor

# Children stop upstream first: statsd flushes into the store, the store writes its
# cache out, the renderer goes last.
STOP_ORDER = ("demo", "statsd", "carbon", "web")


def loopback(address: str) -> str:
    """Where a sibling on this machine reaches a service bound to `address`."""
    return "127.0.0.1" if address in ("", "0.0.0.0") else (
        "::1" if address == "::" else address)


@dataclass(frozen=True)
class Plan:
    data: DataDir
    config: Path
    statsd: StatsdSettings
    carbon: CarbonSettings
    web: WebSettings
    commands: dict[str, list[str]]
    kill_times: dict[str, float]
    findings: list[Finding] = field(default_factory=list)

    @property
    def refused(self) -> list[Finding]:
        return [f for f in self.findings if f.fatal]

    def addresses(self) -> list[str]:
        """What a person needs to know once it runs."""
        s, c, w = self.statsd, self.carbon, self.web
        lines = [f"statsd   udp+tcp {s.bind}:{s.port}, admin tcp {s.bind}:{s.admin_port}",
                 f"carbon   plaintext {c.bind}:{c.port}, pickle {c.bind}:{c.pickle_port}, "
                 f"cache query {c.bind}:{c.query_port}",
                 f"web      http://{loopback(w.bind)}:{w.port}{w.url_prefix}/",
                 f"data     {self.data.root} (configuration in {self.config})"]
        if "demo" in self.commands:
            lines.append("demo     sending a small web application's metrics to statsd")
        return lines


def plan(data: Path, config: Path | None = None, *, demo: bool = False,
         log_level: str = "info", python: str = sys.executable) -> Plan:
    """Everything `statsgraph run` will start, from the data directory and config."""
    directory = DataDir(data.resolve())
    directory.initialize()
    config = (config or directory.config_file).resolve()
    statsd = resolve(StatsdSettings, load_section(str(config), "statsd"), None)
    carbon = resolve(CarbonSettings, load_section(str(config), "carbon"), None)
    web = resolve(WebSettings, load_section(str(config), "web"), None)
    # The data directory decides where the files are, whatever the sections say.
    carbon = replace(carbon, storage=str(directory.whisper))
    web = replace(web, storage=str(directory.whisper), db=str(directory.graphs_db))
    if carbon.port == 0:
        raise ValueError(f"{config}: [carbon] port is 0, so statsd could not deliver")
    store = loopback(carbon.bind)
    statsd = replace(statsd, carbon=((store, carbon.port),))
    if carbon.query_port:
        web = replace(web, cache_query=(store, carbon.query_port))

    base = [python, "-m", "statsgraph"]
    common = ["--config", str(config), "--log-level", log_level]
    commands = {
        "carbon": [*base, "carbon", *common, "--storage", carbon.storage],
        "statsd": [*base, "statsd", *common, "--carbon", f"{store}:{carbon.port}"],
    }
    if web.port:
        commands["web"] = [*base, "web", *common, "--storage", web.storage, "--db", web.db]
        if web.cache_query:
            commands["web"] += ["--cache-query", f"{store}:{carbon.query_port}"]
    if demo:
        commands["demo"] = [*base, "demo", "--statsd", f"{loopback(statsd.bind)}:{statsd.port}"]
    kill_times = {
        "statsd": statsd.flush_interval + statsd.drain_timeout + 5,
        "carbon": min(carbon.shutdown_timeout, 3600) + 15,
        "web": 15.0,
        "demo": 5.0,
    }
    schemas, aggregation = rules_files(carbon, str(config))
    findings = check_pipeline(statsd, load_rules(schemas, aggregation))
    return Plan(directory, config, statsd, carbon, web, commands, kill_times, findings)


def prepare(plan: Plan) -> None:
    """What the first run leaves behind besides files: the self-watching dashboard."""
    from render_web.graphstore import GraphStore
    from statsgraph.selfwatch import ensure_dashboard

    ensure_dashboard(GraphStore(plan.web.db_path), plan.statsd, plan.carbon)


def makeService(plan: Plan, reactor: object | None = None, env: dict[str, str] | None = None
                ) -> Supervisor:
    if reactor is None:
        from twisted.internet import reactor as global_reactor
        reactor = global_reactor
    import os

    supervisor = Supervisor(reactor, STOP_ORDER, plan.kill_times)
    environment = dict(os.environ if env is None else env)
    environment.setdefault("PYTHONUNBUFFERED", "1")
    environment[SUPERVISED] = "1"
    for name in ("carbon", "statsd", "web", "demo"):
        if name in plan.commands:
            supervisor.addProcess(name, plan.commands[name], env=environment)
    return supervisor
