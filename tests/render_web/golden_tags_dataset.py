"""The whisper dataset behind tests/render_web/golden/tags/ (recorded from graphite-web 1.1.10
by bench/record_tag_golden.py): a few tagged series at their hashed `_tagged/` paths, a few
plain ones for the query functions, and the two events both sides are given.

Values are small integers derived from the series' position, so the files are the same on
every run and sums stay exact.
"""

from __future__ import annotations

from pathlib import Path

import whisper

from carbon_store.names import relative_path
from carbon_store.tagindex import register_tagged
from tests.render_web.golden_dataset import END, HOUR

STEP = 60
ARCHIVES = [(STEP, 24 * HOUR // STEP)]   # 60s:1d
POINTS = 2 * HOUR // STEP                # two hours written, ending at END

TAGGED = [
    "cpu.usage;dc=us;host=a",
    "cpu.usage;dc=eu;host=b",
    "cpu.usage;dc=us;host=c",
    "disk.used;dc=us;host=a",
    "disk.used;dc=eu;host=b;rack=r1",
]
PLAIN = [
    "servers.web1.cpu",
    "servers.web1.limit",
    "servers.web2.cpu",
    "servers.web2.limit",
]
# Posted to both graphite-web and ours; `when` falls inside the last ten minutes.
EVENTS = [
    {"what": "deploy api", "tags": ["deploy", "api"], "when": END - 300, "data": "v1.2"},
    {"what": "restart db", "tags": "restart db", "when": END - 120, "data": ""},
]


def values(index: int) -> list[float]:
    """Point i of series `index`: a sawtooth whose height and phase depend on the series;
    every 17th point of odd series is missing."""
    out = []
    for i in range(POINTS):
        v = float((i * (index + 3) + 7 * index) % (20 + 10 * index))
        if index % 2 == 1 and i % 17 == 5:
            v = float("nan")
        out.append(v)
    return out


def write(root: Path, relative: str, index: int) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    whisper.create(str(path), ARCHIVES, xFilesFactor=0.5, aggregationMethod="average")
    points = [(END - (POINTS - 1 - i) * STEP, v) for i, v in enumerate(values(index))
              if v == v]
    whisper.update_many(str(path), points, now=END)


def build(root: Path) -> None:
    """Write every series under root (a WHISPER_DIR) and register the tagged names."""
    root = Path(root)
    for index, name in enumerate(TAGGED):
        write(root, relative_path(name), index)
        register_tagged(root, name)
    for index, name in enumerate(PLAIN, start=len(TAGGED)):
        write(root, relative_path(name), index)


if __name__ == "__main__":
    import sys

    build(Path(sys.argv[1]))
    print(END)
