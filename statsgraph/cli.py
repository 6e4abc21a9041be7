"""`statsgraph COMMAND [options]`: the one console script (also `python -m statsgraph`).

Every option of a service is also a key of its section in the config file
(`--flush-interval` is `flush_interval` in `[statsd]`); the command line wins.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from statsgraph import __version__
from statsgraph.configfile import ConfigError
from statsgraph.options import add_arguments, load_section, resolve


def _common(parser: argparse.ArgumentParser) -> None:
    from statsgraph.runner import LEVELS
    parser.add_argument("--config", metavar="FILE",
                        help="INI configuration file; its section for this command holds "
                             "every option below under its snake_case name")
    parser.add_argument("--log-level", choices=LEVELS, default="info",
                        help="least severe log events to print (default: info)")
    parser.add_argument("--log-file", metavar="FILE",
                        help="log to FILE, rotated at 10 MB (default: standard output)")
    parser.add_argument("--pidfile", metavar="FILE",
                        help="write the process id to FILE while running")


def serve(args: argparse.Namespace, make, reload=None) -> int:
    """Log as asked, hold the pid file, and run the service until signalled."""
    from statsgraph import runner

    runner.begin_logging(args.log_level, args.log_file)
    if not args.pidfile:
        return runner.run(make, reload)
    try:
        with runner.PidFile(args.pidfile):
            return runner.run(make, reload)
    except RuntimeError as exc:
        print(f"statsgraph {args.command}: {exc}", file=sys.stderr)
        return 1


def load_settings(args: argparse.Namespace, settings_type: type, section: str):
    """A service's settings: defaults, then its config-file section, then the flags."""
    return resolve(settings_type, load_section(args.config, section), args)


def load_statsd_settings(args: argparse.Namespace):
    from statsd_daemon.settings import StatsdSettings
    return load_settings(args, StatsdSettings, "statsd")


def run_statsd(args: argparse.Namespace) -> int:
    from twisted.logger import Logger

    from statsd_daemon.service import makeService

    settings = load_statsd_settings(args)
    log = Logger(namespace="statsgraph.statsd")

    def reload(service) -> None:
        try:
            service.reconfigure(load_statsd_settings(args))
        except ConfigError as exc:
            log.error("configuration not reloaded: {why}", why=str(exc))

    return serve(args, lambda reactor: makeService(settings, reactor), reload)


def run_carbon(args: argparse.Namespace) -> int:
    from twisted.logger import Logger

    from carbon_store.service import makeService
    from carbon_store.settings import CarbonSettings

    settings = load_settings(args, CarbonSettings, "carbon")
    log = Logger(namespace="statsgraph.carbon")
    service = makeService(settings, config_path=args.config)  # refuses bad rules now

    def reload(service) -> None:
        service.core.rules.check()
        log.info("storage rules checked; other [carbon] settings need a restart")

    return serve(args, lambda reactor: service, reload)


def run_web(args: argparse.Namespace) -> int:
    from render_web.service import makeService
    from render_web.settings import WebSettings

    settings = load_settings(args, WebSettings, "web")
    service = makeService(settings)  # refuses bad storage rules now
    return serve(args, lambda reactor: service)


def run_demo(args: argparse.Namespace) -> int:
    from statsgraph.demo import DemoService
    from statsgraph.options import OptionError, parse_host_port

    try:
        host, port = parse_host_port(args.statsd)
    except OptionError as exc:
        print(f"statsgraph demo: --statsd: {exc}", file=sys.stderr)
        return 2
    return serve(args, lambda reactor: DemoService(host, port, reactor))


def run_all(args: argparse.Namespace) -> int:
    from pathlib import Path

    from statsgraph.run import makeService, plan, prepare

    try:
        pipeline = plan(Path(args.data), Path(args.config) if args.config else None,
                        demo=args.demo, log_level=args.log_level)
    except ValueError as exc:
        print(f"statsgraph run: {exc}", file=sys.stderr)
        return 2
    for finding in pipeline.findings:
        print(f"statsgraph run: {finding}", file=sys.stderr)
    if pipeline.refused:
        print("statsgraph run: refusing to start a pipeline that would lose data "
              f"(edit {pipeline.config})", file=sys.stderr)
        return 2
    prepare(pipeline)
    for line in pipeline.addresses():
        print(line, flush=True)

    def reload(service) -> None:
        for protocol in list(service.protocols.values()):
            protocol.transport.signalProcess("HUP")

    return serve(args, lambda reactor: makeService(pipeline, reactor), reload)


def build_parser() -> argparse.ArgumentParser:
    from statsd_daemon.settings import StatsdSettings

    parser = argparse.ArgumentParser(
        prog="statsgraph",
        description="statsd aggregator, carbon store and graphite renderer")
    parser.add_argument("--version", action="version", version=f"statsgraph {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    statsd = commands.add_parser(
        "statsd", help="the statsd aggregator (UDP and TCP 8125, admin 8126)",
        description="Aggregate statsd metrics and flush them to carbon every interval.")
    _common(statsd)
    add_arguments(statsd, StatsdSettings)
    statsd.set_defaults(handler=run_statsd)

    from carbon_store.settings import CarbonSettings
    carbon = commands.add_parser(
        "carbon", help="the whisper-backed carbon store (2003 plaintext, 2004 pickle, "
        "7002 cache query)",
        description="Receive carbon plaintext and pickle, cache, and write whisper files.")
    _common(carbon)
    add_arguments(carbon, CarbonSettings)
    carbon.set_defaults(handler=run_carbon)

    run = commands.add_parser(
        "run", help="statsd, carbon and web together, supervised (the whole pipeline)",
        description="Start the statsd aggregator, the carbon store and the renderer as "
                    "child processes over one data directory; a child that dies is "
                    "restarted, and Ctrl-C or SIGTERM stops them upstream first.")
    _common(run)
    run.add_argument("--data", default="data", metavar="DIR",
                     help="data directory: whisper files, saved graphs and the "
                          "configuration, created on first run (default: ./data)")
    run.add_argument("--demo", action="store_true",
                     help="also send a small web application's metrics, to see graphs "
                          "at once")
    run.set_defaults(handler=run_all)

    demo = commands.add_parser(
        "demo", help="send a small web application's metrics to a statsd (what "
        "`run --demo` starts)",
        description="Send requests by endpoint and status, response times, a queue gauge "
                    "and unique users to a statsd, twice a second, until stopped.")
    _common(demo)
    demo.add_argument("--statsd", default="127.0.0.1:8125", metavar="HOST:PORT",
                      help="where to send (default: 127.0.0.1:8125)")
    demo.set_defaults(handler=run_demo)

    from render_web.settings import WebSettings
    web = commands.add_parser(
        "web", help="the graphite-web compatible renderer and HTTP API (8080)",
        description="Serve graphite-web's render, metrics and functions API over the "
                    "whisper files, merged with a carbon cache's unwritten points.")
    _common(web)
    add_arguments(web, WebSettings)
    web.set_defaults(handler=run_web)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"statsgraph {args.command}: {exc}", file=sys.stderr)
        return 2
