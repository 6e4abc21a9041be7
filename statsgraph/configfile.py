"""Reading the INI configuration file with the line number of every key.

`configparser` parses the syntax but forgets where a value came from; a refusal at start
must name the file, the line and the key, so the positions are recorded alongside.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass, field
from pathlib import Path

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]")
_KEY = re.compile(r"^(?P<key>[^\s=:;#][^=:]*?)\s*[=:]")


class ConfigError(Exception):
    """A configuration value that cannot be used; says where it came from."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 section: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.section = section
        self.key = key

    def __str__(self) -> str:
        where = self.path or "command line"
        if self.line is not None:
            where = f"{where}:{self.line}"
        what = ""
        if self.section and self.key:
            what = f" [{self.section}] {self.key}:"
        elif self.key:
            what = f" {self.key}:"
        return f"{where}:{what} {self.message}"


@dataclass
class IniSection:
    """The raw text values of one section, with the line each key stands on."""

    name: str
    path: str
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    header_line: int | None = None

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.path, line=self.lines.get(key, self.header_line),
                           section=self.name, key=key)


@dataclass
class IniFile:
    path: str
    sections: dict[str, IniSection]

    def section(self, name: str) -> IniSection:
        """The named section, empty when the file does not have it."""
        return self.sections.get(name) or IniSection(name=name, path=self.path)


def read_ini(path: str | Path) -> IniFile:
    """Parse `path`; syntax errors become `ConfigError` with the offending line."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file: {exc.strerror}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("the configuration file is not valid UTF-8", path=path) from exc
    return parse_ini(text, path)


def parse_ini(text: str, path: str = "<config>") -> IniFile:
    parser = configparser.RawConfigParser(strict=True, delimiters=("=", ":"),
                                          comment_prefixes=("#", ";"),
                                          inline_comment_prefixes=None)
    try:
        parser.read_string(text, source=path)
    except configparser.DuplicateSectionError as exc:
        raise ConfigError(f"section [{exc.section}] appears twice", path=path,
                          line=exc.lineno) from exc
    except configparser.DuplicateOptionError as exc:
        raise ConfigError("key appears twice in the section", path=path, line=exc.lineno,
                          section=exc.section, key=exc.option) from exc
    except configparser.MissingSectionHeaderError as exc:
        raise ConfigError("a key stands before any [section] header", path=path,
                          line=exc.lineno) from exc
    except configparser.ParsingError as exc:
        lineno, line = exc.errors[0]
        raise ConfigError(f"cannot parse this line: {line.strip()!r}", path=path,
                          line=lineno) from exc

    sections: dict[str, IniSection] = {
        name: IniSection(name=name, path=path, values=dict(parser.items(name)))
        for name in parser.sections()
    }
    current: IniSection | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw or raw[0].isspace():
            continue  # blank, or a continuation of a multi-line value
        if match := _SECTION.match(raw):
            current = sections.get(match["name"])
            if current is not None:
                current.header_line = number
        elif current is not None and (match := _KEY.match(raw)):
            current.lines.setdefault(parser.optionxform(match["key"].strip()), number)
    return IniFile(path=path, sections=sections)
