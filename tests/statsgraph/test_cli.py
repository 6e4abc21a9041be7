"""The console script's shape: subcommands, help, config-file errors."""

import pytest

from statsgraph.cli import build_parser, load_statsd_settings, main


def test_every_design_command_exists():
    parser = build_parser()
    for command in ("run", "statsd", "carbon", "web"):
        assert parser.parse_args([command]).command == command


def test_statsd_help_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["statsd", "--help"])
    out = capsys.readouterr().out
    for flag in ("--port", "--admin-port", "--carbon", "--flush-interval", "--config",
                 "--carbon-protocol", "--percent-threshold", "--delete-idle-stats",
                 "--legacy-namespace", "--global-prefix", "--udp-recv-buffer", "--bind"):
        assert flag in out


def test_command_line_wins_over_the_file(tmp_path):
    config = tmp_path / "c.conf"
    config.write_text("[statsd]\nflush_interval = 60\nport = 9000\n")
    args = build_parser().parse_args(["statsd", "--config", str(config), "--port", "9001"])
    settings = load_statsd_settings(args)
    assert settings.flush_interval == 60 and settings.port == 9001


def test_config_errors_exit_2(tmp_path, capsys):
    config = tmp_path / "c.conf"
    config.write_text("[statsd]\nflush_intervall = 60\n")
    assert main(["statsd", "--config", str(config)]) == 2
    assert f"{config}:2: [statsd] flush_intervall: unknown key" in capsys.readouterr().err


def test_missing_config_file(tmp_path, capsys):
    assert main(["statsd", "--config", str(tmp_path / "nope.conf")]) == 2
    assert "cannot read the configuration file" in capsys.readouterr().err


def test_web_help_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["web", "--help"])
    out = capsys.readouterr().out
    for flag in ("--storage", "--port", "--cache-query", "--db", "--config", "--bind",
                 "--url-prefix", "--max-series", "--max-points", "--max-seconds"):
        assert flag in out
