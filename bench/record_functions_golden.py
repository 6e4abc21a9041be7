"""Record graphite-web 1.1.10's function metadata (name, group, parameters; not its
descriptions) as tests/render_web/golden/_functions.json, which the registry tests
compare ours with.

    python3 bench/record_functions_golden.py

Installs graphite-web into bench/graphite/.venv if needed (bench/graphite/install.py).
"""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "graphite"))
from server import graphite_web  # noqa: E402

OUT = HERE.parent / "tests" / "render_web" / "golden" / "_functions.json"


def main() -> int:
    with (tempfile.TemporaryDirectory() as data, graphite_web(Path(data)) as base,
          urllib.request.urlopen(base + "/functions", timeout=60) as response):
        # graphite-web 1.1.10 writes infinite defaults as a bare Infinity.
        metadata = json.loads(response.read().decode().replace("Infinity", "1e9999"))
    kept = {name: {"group": entry["group"], "params": entry["params"]}
            for name, entry in sorted(metadata.items())}
    OUT.write_text(json.dumps(kept, indent=1, sort_keys=True) + "\n")
    print(f"{len(kept)} functions -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
