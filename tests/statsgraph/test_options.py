"""Settings declared once: defaults, config file, command line, in that order."""

import argparse
from dataclasses import dataclass

import pytest

from statsgraph.configfile import ConfigError, parse_ini
from statsgraph.options import (
    OptionError,
    add_arguments,
    choice,
    describe,
    format_destination,
    int_at_least,
    option,
    parse_bool,
    parse_destinations,
    parse_float_list,
    parse_host_port,
    parse_port,
    positive_float,
    resolve,
)


@dataclass(frozen=True)
class Sample:
    port: int = option(8125, parse_port, "a port")
    rate: float = option(1.0, positive_float, "a rate")
    dest: tuple = option((("127.0.0.1", 2003),), parse_destinations, "where",
                         repeatable=True)
    mode: str = option("text", choice("text", "pickle"), "mode")

    def check(self):
        if self.mode == "pickle" and self.port == 1:
            error = OptionError("port 1 cannot do pickle")
            error.key = "mode"
            raise error


def parser():
    p = argparse.ArgumentParser()
    add_arguments(p, Sample)
    return p


def test_defaults():
    assert resolve(Sample, None, parser().parse_args([])) == Sample()


def test_config_then_command_line():
    section = parse_ini("[s]\nport = 9000\nrate = 2\n", "f.conf").section("s")
    settings = resolve(Sample, section, parser().parse_args(["--rate", "3"]))
    assert settings.port == 9000 and settings.rate == 3.0


def test_repeatable_option():
    args = parser().parse_args(["--dest", "a:1", "--dest", "b:2,c:3"])
    assert resolve(Sample, None, args).dest == (("a", 1), ("b", 2), ("c", 3))


def test_unknown_config_key_is_refused_with_its_line():
    section = parse_ini("[s]\nport = 1\nprot = 2\n", "f.conf").section("s")
    with pytest.raises(ConfigError) as info:
        resolve(Sample, section, None)
    assert str(info.value) == "f.conf:3: [s] prot: unknown key for [s]"


def test_bad_config_value_names_file_line_and_key():
    section = parse_ini("[s]\n\nrate = -1\n", "f.conf").section("s")
    with pytest.raises(ConfigError) as info:
        resolve(Sample, section, None)
    assert str(info.value) == "f.conf:3: [s] rate: must be greater than 0, got -1"


def test_bad_command_line_value_names_the_flag():
    with pytest.raises(ConfigError) as info:
        resolve(Sample, None, parser().parse_args(["--port", "99999"]))
    assert str(info.value) == "command line: --port: a port is between 0 and 65535, got 99999"


def test_cross_field_check_points_at_the_key():
    section = parse_ini("[s]\nport = 1\nmode = pickle\n", "f.conf").section("s")
    with pytest.raises(ConfigError) as info:
        resolve(Sample, section, None)
    assert str(info.value) == "f.conf:3: [s] mode: port 1 cannot do pickle"


def test_describe():
    assert dict(describe(Sample()))["mode"] == "text"


@pytest.mark.parametrize("text, value", [
    ("yes", True), ("TRUE", True), ("on", True), ("1", True),
    ("no", False), ("False", False), ("off", False), ("0", False),
])
def test_parse_bool(text, value):
    assert parse_bool(text) is value


@pytest.mark.parametrize("parse, text", [
    (parse_bool, "maybe"), (parse_port, "http"), (parse_port, "-1"), (positive_float, "0"),
    (positive_float, "nan"), (positive_float, "inf"), (int_at_least(1), "0"),
    (int_at_least(1), "1.5"), (parse_float_list, "1, x"), (choice("a", "b"), "c"),
    (parse_host_port, "nohost"), (parse_host_port, ":2003"), (parse_host_port, "h:0"),
    (parse_host_port, "[::1]2003"), (parse_host_port, "h:port"),
])
def test_parsers_refuse(parse, text):
    with pytest.raises(OptionError):
        parse(text)


def test_host_port_forms():
    assert parse_host_port("carbon.example:2004") == ("carbon.example", 2004)
    assert parse_host_port("[::1]:2003") == ("::1", 2003)
    assert parse_destinations("none") == ()
    assert parse_destinations("") == ()
    assert format_destination(("::1", 2003)) == "[::1]:2003"
    assert format_destination(("h", 1)) == "h:1"


def test_list_defaults_must_be_immutable():
    with pytest.raises(TypeError):
        option([1], parse_float_list, "no")
