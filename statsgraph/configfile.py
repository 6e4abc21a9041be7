"""Reading the INI configuration file with the line number of every key.

`configparser` parses the syntax but forgets where a value came from; a refusal at start
must name the file, the line and the key, so the positions are recorded alongside.
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass, field
from pathlib import Path


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
    _record_lines(parser, text, sections)
    return IniFile(path=path, sections=sections)


def _record_lines(parser: configparser.RawConfigParser, text: str,
                  sections: dict[str, IniSection]) -> None:
    """Note the line of every header and key, reading the text the way configparser's
    own loop does (same line splitting, comments, indented continuations, header and
    key patterns), so that whatever it accepted has a line to be blamed on."""
    defaults: dict[str, int] = {}  # keys of [DEFAULT], inherited by every section
    current: dict[str, int] | None = None
    in_value = False  # an option was just read: deeper-indented lines continue it
    indent_level = 0
    for number, line in enumerate(io.StringIO(text), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        first = parser.NONSPACECRE.search(line)
        indent = first.start() if first else 0
        if current is not None and in_value and indent > indent_level:
            continue
        indent_level = indent
        if match := parser.SECTCRE.match(stripped):
            name = match["header"]
            section = sections.get(name)
            if section is not None:
                section.header_line = number
                current = section.lines
            else:
                current = defaults if name == parser.default_section else None
            in_value = False
        elif current is not None and (match := parser.OPTCRE.match(stripped)):
            key = parser.optionxform(match["option"].rstrip())
            current.setdefault(key, number)
            in_value = bool(key)
    for section in sections.values():
        for key in section.values.keys() - section.lines.keys():
            if key in defaults:
                section.lines[key] = defaults[key]
