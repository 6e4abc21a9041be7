"""The [web] settings: the shipped file, the defaults of the design, refusals."""

from pathlib import Path

import pytest

from render_web.settings import WebSettings
from statsgraph.configfile import ConfigError, parse_ini
from statsgraph.options import resolve


def load(text):
    return resolve(WebSettings, parse_ini(text, "c.conf").section("web"), None)


def test_the_shipped_config_file_is_the_defaults():
    shipped = Path(__file__).resolve().parents[2] / "conf" / "statsgraph.conf"
    section = parse_ini(shipped.read_text(), str(shipped)).section("web")
    assert resolve(WebSettings, section, None) == WebSettings()


def test_design_defaults():
    settings = WebSettings()
    assert (settings.port, settings.bind, settings.cache_query) == (8080, "127.0.0.1", None)
    assert settings.db_path == Path("data").resolve() / "graphs.db"


def test_values():
    settings = load("[web]\ncache_query = 127.0.0.1:7002\nurl_prefix = /graphite/\n"
                    "time_zone = Europe/Berlin\ndb = /tmp/g.db\n")
    assert settings.cache_query == ("127.0.0.1", 7002)
    assert settings.url_prefix == "/graphite"
    assert str(settings.tz) == "Europe/Berlin"
    assert settings.db_path == Path("/tmp/g.db")
    assert load("[web]\ncache_query = none\n").cache_query is None


@pytest.mark.parametrize("text", ["port = 70000", "cache_query = nowhere",
                                  "time_zone = Mars/Olympus", "max_series = 0",
                                  "url_prefix = /a b", "index_refresh = 0", "bogus = 1"])
def test_refused_with_file_line_and_key(text):
    with pytest.raises(ConfigError) as error:
        load("[web]\n" + text + "\n")
    assert str(error.value).startswith("c.conf:2: [web] " + text.split(" =")[0])
