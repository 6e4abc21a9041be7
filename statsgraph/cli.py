"""`statsgraph COMMAND [options]`: the one console script (also `python -m statsgraph`).

Every option of a service is also a key of its section in the config file
(`--flush-interval` is `flush_interval` in `[statsd]`); the command line wins.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from statsgraph import __version__
from statsgraph.configfile import ConfigError
from statsgraph.options import add_arguments, load_section, resolve

# Commands whose issue has not landed yet: (help, what it will do).
PENDING = {
    "run": "all three services, supervised (not available yet)",
}


def _common(parser: argparse.ArgumentParser) -> None:
    from statsgraph.runner import LEVELS
    parser.add_argument("--config", metavar="FILE",
                        help="INI configuration file; its section for this command holds "
                             "every option below under its snake_case name")
    parser.add_argument("--log-level", choices=LEVELS, default="info",
                        help="least severe log events to print (default: info)")


def load_settings(args: argparse.Namespace, settings_type: type, section: str):
    """A service's settings: defaults, then its config-file section, then the flags."""
    return resolve(settings_type, load_section(args.config, section), args)


def load_statsd_settings(args: argparse.Namespace):
    from statsd_daemon.settings import StatsdSettings
    return load_settings(args, StatsdSettings, "statsd")


def run_statsd(args: argparse.Namespace) -> int:
    from twisted.logger import Logger

    from statsd_daemon.service import makeService
    from statsgraph import runner

    settings = load_statsd_settings(args)
    runner.begin_logging(args.log_level)
    log = Logger(namespace="statsgraph.statsd")

    def reload(service) -> None:
        try:
            service.reconfigure(load_statsd_settings(args))
        except ConfigError as exc:
            log.error("configuration not reloaded: {why}", why=str(exc))

    return runner.run(lambda reactor: makeService(settings, reactor), reload)


def run_carbon(args: argparse.Namespace) -> int:
    from twisted.logger import Logger

    from carbon_store.service import makeService
    from carbon_store.settings import CarbonSettings
    from statsgraph import runner

    settings = load_settings(args, CarbonSettings, "carbon")
    runner.begin_logging(args.log_level)
    log = Logger(namespace="statsgraph.carbon")
    service = makeService(settings, config_path=args.config)  # refuses bad rules now

    def reload(service) -> None:
        service.core.rules.check()
        log.info("storage rules checked; other [carbon] settings need a restart")

    return runner.run(lambda reactor: service, reload)


def run_web(args: argparse.Namespace) -> int:
    from render_web.service import makeService
    from render_web.settings import WebSettings
    from statsgraph import runner

    settings = load_settings(args, WebSettings, "web")
    runner.begin_logging(args.log_level)
    service = makeService(settings)  # refuses bad storage rules now
    return runner.run(lambda reactor: service)


def pending(name: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        print(f"statsgraph {name}: not available yet in statsgraph {__version__}",
              file=sys.stderr)
        return 2
    return handler


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

    from render_web.settings import WebSettings
    web = commands.add_parser(
        "web", help="the graphite-web compatible renderer and HTTP API (8080)",
        description="Serve graphite-web's render, metrics and functions API over the "
                    "whisper files, merged with a carbon cache's unwritten points.")
    _common(web)
    add_arguments(web, WebSettings)
    web.set_defaults(handler=run_web)

    for name, text in PENDING.items():
        command = commands.add_parser(name, help=text, description=text)
        command.set_defaults(handler=pending(name), pending=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "pending", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"statsgraph {args.command}: {exc}", file=sys.stderr)
        return 2
