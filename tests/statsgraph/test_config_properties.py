"""Property-based tests of configuration files: any text loads or is refused with its line.

The promise: whatever an operator writes, `parse_ini`/`read_ini` and `resolve` either
give settings or raise `ConfigError` naming `file:line` (and the key when there is one),
never another exception; and every key that loads knows the line it stands on, so a
value refused later is blamed on the right line.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbon_store.schemas import parse_aggregation, parse_schemas
from carbon_store.settings import CarbonSettings
from render_web.settings import WebSettings
from statsd_daemon.settings import StatsdSettings
from statsgraph.configfile import ConfigError, IniFile, parse_ini, read_ini
from statsgraph.options import resolve

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
PATH = "etc/statsgraph.conf"
SERVICES = {"statsd": StatsdSettings, "carbon": CarbonSettings, "web": WebSettings}

KEYS = sorted({name for cls in SERVICES.values() for name in cls.__dataclass_fields__}
              | {"no_such_key", "Port", "PORT"})
VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "8125", "65536", "99999999999999999999", "1.5",
                     "inf", "-inf", "nan", "1e999", "true", "false", "yes", "maybe",
                     "none", "127.0.0.1:2003", "[::1]:2003", "host:0", ":80", "a:b",
                     "text", "pickle", "up", "down", "sorted", "max", "90, -10", "0",
                     "200", "api: 1, 10, inf", "*: 100; x: 5, 1", ".a", "a.", "a..b",
                     "UTC", "Europe/Berlin", "../../etc/passwd", "Europe", "/graphite",
                     "/a b", "9" * 5000, "\u0661\u0662", "0x10", "1_000"]),
    st.text(max_size=12).filter(lambda t: "\n" not in t and "\r" not in t),
)


@st.composite
def key_line(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from(KEYS))
    value = draw(VALUES)
    delimiter = draw(st.sampled_from(["=", " = ", ": ", ":", "\t=\t"]))
    indent = draw(st.sampled_from(["", "", "", " ", "\t"]))
    return f"{indent}{key}{delimiter}{value}"


HEADERS = st.sampled_from([
    "[statsd]", "[carbon]", "[web]", "[DEFAULT]", "  [statsd]", "\t[carbon]", "[web] x",
    "[statsd]]", "[[web]", "[a]b]", "[]", "[", "]", "[ statsd ]", "[statsd] ; note",
])
ODD = st.sampled_from([
    "", " ", "# comment", "; comment", "   # indented comment", "novalue", "=x", ":x",
    "  continued value", "\tmore", "port", "[statsd", "a = b = c", "\u00a0port = 1",
    "\x0c", "port\u2028= 1", "\x1c", "key ; = 1", "#[web]",
])
LINE = st.one_of(key_line(), key_line(), HEADERS, ODD, st.text(max_size=15))
TEXT = st.lists(LINE, max_size=14).map("\n".join)


def _lines(text: str) -> list[str]:
    """The lines as configparser numbers them (`\\n` only ends a line)."""
    return list(io.StringIO(text))


def _check_error(error: ConfigError, text: str) -> None:
    assert error.path == PATH
    assert error.line is not None and 1 <= error.line <= max(1, len(_lines(text)))
    assert str(error).startswith(f"{PATH}:{error.line}:")
    if error.key is not None and error.section is not None:
        assert f"[{error.section}] {error.key}:" in str(error)


def _load(text: str) -> IniFile | ConfigError:
    try:
        return parse_ini(text, PATH)
    except ConfigError as error:
        _check_error(error, text)
        return error


@PROPERTY
@given(TEXT)
def test_any_text_loads_or_names_its_line(text: str) -> None:
    _load(text)


@PROPERTY
@given(TEXT)
def test_every_loaded_key_knows_its_line(text: str) -> None:
    ini = _load(text)
    if isinstance(ini, ConfigError):
        return
    lines = _lines(text)
    for name, section in ini.sections.items():
        assert section.header_line is not None
        assert lines[section.header_line - 1].strip().startswith(f"[{name}]")
        assert section.lines.keys() == section.values.keys()
        for key, number in section.lines.items():
            assert lines[number - 1].strip().lower().startswith(key)


@PROPERTY
@given(TEXT)
def test_any_settings_resolve_or_name_file_and_line(text: str) -> None:
    ini = _load(text)
    if isinstance(ini, ConfigError):
        return
    for name, settings_type in SERVICES.items():
        if name not in ini.sections:
            continue
        try:
            resolve(settings_type, ini.section(name), None)
        except ConfigError as error:
            _check_error(error, text)
            assert error.section == name and error.key in ini.section(name).values


@PROPERTY
@given(st.sampled_from(sorted(SERVICES)), st.lists(st.tuples(st.sampled_from(KEYS), VALUES),
                                                   min_size=1, max_size=6, unique_by=lambda
                                                   kv: kv[0].lower()))
def test_a_refused_value_names_its_own_line(service: str,
                                            pairs: list[tuple[str, str]]) -> None:
    """A section of `key = value` lines, one key a line after the header: when resolving
    refuses it, the error names the line of the key it names."""
    text = f"[{service}]\n" + "".join(f"{key} = {value}\n" for key, value in pairs)
    ini = _load(text)
    if isinstance(ini, ConfigError):
        return
    try:
        resolve(SERVICES[service], ini.section(service), None)
    except ConfigError as error:
        _check_error(error, text)
        keys = [key.lower() for key, _ in pairs]
        assert error.key in keys and error.line == keys.index(error.key) + 2


@PROPERTY
@given(st.binary(max_size=200))
def test_any_file_bytes_load_or_name_the_file(tmp_path_factory: pytest.TempPathFactory,
                                              raw: bytes) -> None:
    path = tmp_path_factory.mktemp("conf") / "statsgraph.conf"
    path.write_bytes(raw)
    try:
        read_ini(path)
    except ConfigError as error:
        assert error.path == str(path) and str(error).startswith(str(path))


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read") as caught:
        read_ini(tmp_path / "missing.conf")
    assert str(caught.value).startswith(str(tmp_path / "missing.conf"))


# -- storage-schemas.conf and storage-aggregation.conf ---------------------------------

RULE_LINES = st.one_of(
    st.sampled_from([
        "[rule]", "[other]", "[default]", "pattern = .*", "pattern = ^stats\\.", "pattern = (",
        "pattern = a{99999999999}", "pattern = " + "(" * 1200 + ")" * 1200, "pattern =",
        "retentions = 10s:6h,1m:7d", "retentions = 60:1440", "retentions = 10s:1d,10s:2d",
        "retentions = 10s", "retentions = 0s:1d", "retentions = 10q:1d", "retentions = 1d:1s",
        "retentions = " + "9" * 5000 + "s:1d", "retentions = ,", "priority = 1",
        "xFilesFactor = 0.5", "xFilesFactor = 2", "xFilesFactor = nan", "xFilesFactor = x",
        "aggregationMethod = max", "aggregationMethod = median", "aggregationMethod = ",
        "unknown = 1", "# comment", "",
    ]),
    st.builds("retentions = {}:{}".format, st.text("0123456789smhdwy", max_size=6),
              st.text("0123456789smhdwy", max_size=6)),
    st.text(max_size=12),
)


@PROPERTY
@given(st.lists(RULE_LINES, max_size=10).map("\n".join))
def test_storage_rules_load_or_name_their_line(text: str) -> None:
    for parse in (parse_schemas, parse_aggregation):
        try:
            parse(text, PATH)
        except ConfigError as error:
            _check_error(error, text)


@pytest.mark.parametrize("pattern", ["a{99999999999}", "(" * 1200 + ")" * 1200])
def test_unusable_rule_patterns_are_config_errors(pattern: str) -> None:
    text = f"[rule]\npattern = {pattern}\nretentions = 10s:1d\n"
    with pytest.raises(ConfigError, match="invalid regular expression") as caught:
        parse_schemas(text, PATH)
    assert str(caught.value).startswith(f"{PATH}:2: [rule] pattern:")


# -- what the position scan must get right, found by the properties above -------------


@pytest.mark.parametrize("text, section, key, line", [
    # a header indented (configparser strips it) and its keys
    ("  [statsd]\nport = x\n", "statsd", "port", 2),
    # a header whose name holds `]` (configparser's pattern is greedy) is another section
    ("[statsd]]\nport = 1\n[statsd]\nport = x\n", "statsd", "port", 4),
    # an indented key after a header is a key, not a continuation
    ("[statsd]\n   port = x\n", "statsd", "port", 2),
    # form feed and other separators do not end a line for configparser
    ("[statsd]\nbind = a\x0cb\nport = x\n", "statsd", "port", 3),
    ("[statsd]\nbind = a\u2028b\nport = x\n", "statsd", "port", 3),
    # a value inherited from [DEFAULT] is blamed on its line there
    ("[DEFAULT]\nport = x\n[statsd]\n", "statsd", "port", 2),
])
def test_refusals_name_the_right_line(text: str, section: str, key: str, line: int) -> None:
    ini = parse_ini(text, PATH)
    with pytest.raises(ConfigError) as caught:
        resolve(SERVICES[section], ini.section(section), None)
    assert (caught.value.key, caught.value.line) == (key, line)
    assert str(caught.value).startswith(f"{PATH}:{line}: [{section}] {key}:")
