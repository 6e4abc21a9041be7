"""Settings declared once, read from the command line and the config file alike.

A service's settings are a frozen dataclass whose fields are declared with `option()`.
The field metadata is the registry: it gives the config key (the field name), the
command-line flag, the text parser and the help. `add_arguments` and `resolve` walk it,
so a new setting is one line and is never missing from either place.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from statsgraph.configfile import ConfigError, IniFile, IniSection, read_ini

T = TypeVar("T")
Parse = Callable[[str], Any]


class OptionError(ValueError):
    """Raised by a parser with a message fit to show after the key's name."""


def option(default: Any, parse: Parse, help: str, *, flag: str | None = None,
           metavar: str | None = None, repeatable: bool = False) -> Any:
    """A settings field that is also a command-line option and a config key."""
    meta = {"parse": parse, "help": help, "flag": flag, "metavar": metavar,
            "repeatable": repeatable}
    if isinstance(default, list | dict | set):
        raise TypeError("use a tuple or a frozen value as an option default")
    return dataclasses.field(default=default, metadata={"option": meta})


def _options(settings_type: type) -> list[tuple[dataclasses.Field, dict[str, Any]]]:
    return [(f, f.metadata["option"]) for f in dataclasses.fields(settings_type)
            if "option" in f.metadata]


def flag_of(field: dataclasses.Field, meta: dict[str, Any]) -> str:
    return meta["flag"] or "--" + field.name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser, settings_type: type) -> None:
    """Add one command-line option per settings field (default None: unset)."""
    for field, meta in _options(settings_type):
        text = meta["help"]
        default = field.default
        if default not in (None, "", ()):
            shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
            text = f"{text} (default: {shown})"
        kwargs: dict[str, Any] = {"dest": field.name, "default": None, "help": text,
                                  "metavar": meta["metavar"] or field.name.upper()}
        if meta["repeatable"]:
            kwargs["action"] = "append"
            text += "; repeatable"
            kwargs["help"] = text
        parser.add_argument(flag_of(field, meta), **kwargs)


def resolve(settings_type: type[T], section: IniSection | None,
            cli: argparse.Namespace | dict[str, Any] | None = None,
            **overrides: Any) -> T:
    """Build settings from defaults, then the config section, then the command line.

    Unknown keys in the section are refused: a misspelt key silently ignored is a
    setting the operator believes is in force and is not.
    """
    known = {f.name: (f, meta) for f, meta in _options(settings_type)}
    values: dict[str, Any] = {}
    if section is not None:
        for key, text in section.values.items():
            if key not in known:
                raise section.error(key, f"unknown key for [{section.name}]")
            try:
                values[key] = known[key][1]["parse"](text)
            except (OptionError, ValueError) as exc:
                raise section.error(key, str(exc)) from exc
    cli_values = vars(cli) if isinstance(cli, argparse.Namespace) else (cli or {})
    for key, (field, meta) in known.items():
        given = cli_values.get(key)
        if given is None:
            continue
        texts = given if meta["repeatable"] else [given]
        try:
            if meta["repeatable"]:
                values[key] = tuple(v for text in texts for v in meta["parse"](text))
            else:
                values[key] = meta["parse"](texts[0])
        except (OptionError, ValueError) as exc:
            raise ConfigError(str(exc), key=flag_of(field, meta)) from exc
    values.update(overrides)
    settings = settings_type(**values)
    check = getattr(settings, "check", None)
    if check is not None:
        try:
            check()
        except OptionError as exc:
            key = getattr(exc, "key", None)
            if section is not None and key in section.values:
                raise section.error(key, str(exc)) from exc
            raise ConfigError(str(exc), key=key) from exc
    return settings


def load_section(path: str | None, name: str) -> IniSection | None:
    """The `[name]` section of the config file at `path`, or None without a file."""
    if not path:
        return None
    ini: IniFile = read_ini(path)
    return ini.section(name)


def describe(settings: Any) -> list[tuple[str, str]]:
    """(key, text) for every option, the way a config file would spell it."""
    out = []
    for field, _meta in _options(type(settings)):
        value = getattr(settings, field.name)
        out.append((field.name, format_value(value)))
    return out


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int)):
        return format_destination(value)  # HOST:PORT
    if isinstance(value, tuple):
        return ", ".join(format_value(v) for v in value)
    if value is None:
        return ""
    return str(value)


# -- parsers: text -> value; raise OptionError with a message that says what is wanted --

def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "yes", "true", "on"):
        return True
    if word in ("0", "no", "false", "off"):
        return False
    raise OptionError(f"expected true or false, got {text.strip()!r}")


def parse_optional_bool(text: str) -> bool | None:
    return None if text.strip() == "" else parse_bool(text)


def optional_path(text: str) -> str | None:
    """A file or directory name; empty means none."""
    return text.strip() or None


def parse_str(text: str) -> str:
    return text.strip()


def parse_port(text: str) -> int:
    try:
        port = int(text.strip())
    except ValueError:
        raise OptionError(f"expected a port number, got {text.strip()!r}") from None
    if not 0 <= port <= 65535:
        raise OptionError(f"a port is between 0 and 65535, got {port}")
    return port


def int_at_least(low: int) -> Parse:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise OptionError(f"expected a whole number, got {text.strip()!r}") from None
        if value < low:
            raise OptionError(f"must be at least {low}, got {value}")
        return value
    return parse


def parse_float(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise OptionError(f"expected a number, got {text.strip()!r}") from None
    if not math.isfinite(value):
        raise OptionError(f"expected a finite number, got {text.strip()!r}")
    return value


def positive_float(text: str) -> float:
    value = parse_float(text)
    if value <= 0:
        raise OptionError(f"must be greater than 0, got {text.strip()}")
    return value


def parse_float_list(text: str) -> tuple[float, ...]:
    return tuple(parse_float(part) for part in split_list(text))


def parse_word_list(text: str) -> tuple[str, ...]:
    return tuple(split_list(text))


def split_list(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def choice(*words: str) -> Parse:
    def parse(text: str) -> str:
        word = text.strip().lower()
        if word not in words:
            raise OptionError(f"expected one of {', '.join(words)}, got {text.strip()!r}")
        return word
    return parse


def parse_host_port(text: str) -> tuple[str, int]:
    """`host:port`, `[v6addr]:port`."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise OptionError(f"expected [ADDRESS]:PORT, got {text!r}")
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not host:
            raise OptionError(f"expected HOST:PORT, got {text!r}")
    port = parse_port(port_text)
    if port == 0:
        raise OptionError(f"a destination needs a port other than 0, got {text!r}")
    return host, port


def parse_destinations(text: str) -> tuple[tuple[str, int], ...]:
    """A list of HOST:PORT; the word `none` (or nothing) for no destination."""
    parts = split_list(text)
    if parts == ["none"]:
        return ()
    return tuple(parse_host_port(part) for part in parts)


def format_destination(dest: Sequence[Any]) -> str:
    host, port = dest[0], dest[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
