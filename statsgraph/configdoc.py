"""docs/configuration.md, written from the settings declarations themselves, so that the
reference cannot drift from the code (a test compares the file with `render()`).

    python3 -m statsgraph.configdoc > docs/configuration.md
"""

from __future__ import annotations

import dataclasses

from statsgraph.options import flag_of, format_value

HEADER = """# Configuration reference

Every setting of every service, generated from the code by
`python3 -m statsgraph.configdoc`. A setting is a key of its service's section in the
INI file given with `--config` (for `statsgraph run`, `DATA/conf/statsgraph.conf`) and
a command-line flag of the service's own command; the command line wins over the file,
the file over the default. An unknown key or a bad value stops the service at start
with the file, line and key.

Under `statsgraph run` the data directory decides `[carbon] storage`, `[web] storage`
and `[web] db`, statsd is pointed at the store (`[statsd] carbon`) and the renderer at
its cache query port (`[web] cache_query`).
"""

SECTIONS = (
    ("statsd", "statsd_daemon.settings", "StatsdSettings",
     "`statsgraph statsd`: the aggregator (etsy statsd 0.9's keys in snake_case)."),
    ("carbon", "carbon_store.settings", "CarbonSettings",
     "`statsgraph carbon`: the store (carbon.conf's keys in snake_case)."),
    ("web", "render_web.settings", "WebSettings",
     "`statsgraph web`: the renderer and HTTP API."),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    from importlib import import_module

    parts = [HEADER]
    for section, module, name, title in SECTIONS:
        settings_type = getattr(import_module(module), name)
        parts.append(f"\n## [{section}]\n\n{title}\n\n")
        parts.append("| key | flag | default | meaning |\n|---|---|---|---|\n")
        for field in dataclasses.fields(settings_type):
            meta = field.metadata.get("option")
            if meta is None:
                continue
            default = format_value(field.default)
            parts.append(f"| `{field.name}` | `{flag_of(field, meta)}` | "
                         f"{'`' + _cell(default) + '`' if default else '(none)'} | "
                         f"{_cell(meta['help'])} |\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
