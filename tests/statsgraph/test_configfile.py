"""INI reading keeps the line of every key, and syntax errors name their line."""

import pytest

from statsgraph.configfile import ConfigError, parse_ini, read_ini

TEXT = """# comment
[statsd]
port = 8125
Flush_Interval: 10
histogram =
    api: 1, 10, inf
    *: 100

[carbon]
; another comment
max_cache_size = inf
"""


def test_values_and_lines():
    ini = parse_ini(TEXT, "x.conf")
    statsd = ini.section("statsd")
    assert statsd.values == {"port": "8125", "flush_interval": "10",
                             "histogram": "\napi: 1, 10, inf\n*: 100"}
    assert statsd.lines == {"port": 3, "flush_interval": 4, "histogram": 5}
    assert statsd.header_line == 2
    assert ini.section("carbon").lines == {"max_cache_size": 11}


def test_missing_section_is_empty():
    section = parse_ini(TEXT).section("web")
    assert section.values == {} and section.lines == {}


def test_error_names_file_line_section_and_key():
    section = parse_ini(TEXT, "x.conf").section("statsd")
    assert str(section.error("port", "bad")) == "x.conf:3: [statsd] port: bad"


@pytest.mark.parametrize("text, line, message", [
    ("[a]\nk = 1\nk = 2\n", 3, "key appears twice"),
    ("[a]\n[a]\n", 2, "appears twice"),
    ("k = 1\n", 1, "before any [section]"),
    ("[a]\nthis is not a key\n", 2, "cannot parse this line"),
])
def test_syntax_errors(text, line, message):
    with pytest.raises(ConfigError) as info:
        parse_ini(text, "bad.conf")
    assert info.value.line == line
    assert message in str(info.value)
    assert str(info.value).startswith(f"bad.conf:{line}:")


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        read_ini(tmp_path / "missing.conf")
    bad = tmp_path / "latin1.conf"
    bad.write_bytes(b"[statsd]\nprefix_stats = caf\xe9\n")
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        read_ini(bad)


def test_percent_signs_are_literal():
    assert parse_ini("[a]\npattern = ^x%y\n").section("a").values["pattern"] == "^x%y"
