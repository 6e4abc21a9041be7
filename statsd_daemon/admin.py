"""etsy statsd's management commands (port 8126), as text in and text out.

The commands and their answers are etsy's (`stats`, `counters`, `timers`, `gauges`,
`del*` with `prefix.*`, `health [up|down]`, `config`, `quit`), plus `sets` and `delsets`,
which etsy lacks. Dumps are JSON rather than Node's `util.inspect`: the same shape, and
a tool can parse it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Protocol

from statsd_daemon.aggregator import Aggregator

COMMANDS = ("stats", "counters", "timers", "gauges", "sets", "delcounters", "deltimers",
            "delgauges", "delsets", "health", "config", "quit")
HELP = "Commands: " + ", ".join(COMMANDS) + "\n\n"


class Daemon(Protocol):
    """What the commands need to see of the running daemon."""

    aggregator: Aggregator
    health: str

    def status(self) -> Iterable[tuple[str, float]]:
        """`(group.metric, value)`; `uptime` and `*.last_*` are times (shown as ages)."""

    def seconds(self) -> float: ...

    def config_lines(self) -> Iterable[tuple[str, str]]: ...


class Reply:
    """What a command answers: text, and whether to close the connection after it."""

    def __init__(self, text: str, close: bool = False) -> None:
        self.text = text
        self.close = close


def _number(value: float) -> float | int | str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _dump(table: dict) -> str:
    def plain(value: object) -> object:
        if isinstance(value, set):
            return sorted(value)
        if isinstance(value, list):
            return [_number(v) for v in value]
        return _number(value)  # type: ignore[arg-type]
    return json.dumps({key: plain(value) for key, value in table.items()}, indent=2,
                      sort_keys=True)


def execute(daemon: Daemon, line: str) -> Reply:
    """Run one command line."""
    words = line.strip().split()
    if not words:
        return Reply("")
    command, args = words[0], words[1:]
    if command == "help":
        return Reply(HELP)
    if command == "quit":
        return Reply("", close=True)
    if command == "health":
        if args and args[0].lower() in ("up", "down"):
            daemon.health = args[0].lower()
        return Reply(f"health: {daemon.health}\n")
    if command == "stats":
        now = daemon.seconds()
        lines = []
        for name, value in daemon.status():
            # etsy shows times as ages ("seconds ago"), uptime included.
            if name.rpartition(".")[2].startswith("last_") or name == "uptime":
                value = round(now - value)
            lines.append(f"{name}: {_number(value)}\n")
        return Reply("".join(lines) + "END\n\n")
    if command in ("counters", "timers", "gauges", "sets"):
        return Reply(_dump(daemon.aggregator.table(command)) + "\nEND\n\n")
    if command in ("delcounters", "deltimers", "delgauges", "delsets"):
        results = daemon.aggregator.delete(command[3:], args)
        text = "".join(f"deleted: {name}\n" if found else f"metric {name} not found\n"
                       for name, found in results)
        return Reply(text + "END\n\n")
    if command == "config":
        return Reply("\n" + "".join(f"{key}: {value}\n" for key, value in daemon.config_lines())
                     + "END\n\n")
    return Reply("ERROR\n")
