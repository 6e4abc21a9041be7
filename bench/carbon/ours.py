"""Run our store, `python -m statsgraph carbon`, for benchmarks.  Not part of the
test run.

    python -m statsgraph carbon --storage DIR --port P --pickle-port Q --query-port 0
                                --config CONF

CONF is an INI file with a [carbon] section (OUR_SETTINGS plus the caller's extra
keys); storage-schemas.conf and storage-aggregation.conf, in carbon's syntax, are
written beside it, where the store looks for them first.  The python is the one running
the benchmark, with the checkout first on PYTHONPATH.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from carbon_cache import STORAGE_AGGREGATION, STORAGE_SCHEMAS
from procstat import DaemonProcess, free_port

REPO = Path(__file__).resolve().parents[2]

OUR_SETTINGS: dict[str, str] = {
    "max_updates_per_second": "inf",
    "max_creates_per_minute": "inf",
    "carbon_metric_interval": "0",
}


def repo_env() -> dict:
    env = dict(os.environ)
    parts = [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def ours_available() -> str | None:
    """None when `python -m statsgraph carbon --help` shows the options the benchmark
    uses, else why not."""
    try:
        p = subprocess.run([sys.executable, "-m", "statsgraph", "carbon", "--help"],
                           cwd=str(REPO), env=repo_env(), capture_output=True, text=True,
                           timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`python -m statsgraph carbon --help` failed: {exc}"
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()
        return (f"`python -m statsgraph carbon --help` exited with {p.returncode}: "
                + (tail[-1] if tail else ""))
    missing = [o for o in ("--storage", "--port", "--pickle-port", "--query-port", "--config")
               if o not in p.stdout]
    if missing:
        return f"`statsgraph carbon --help` lists no {', '.join(missing)} (not implemented yet?)"
    return None


class OurStore(DaemonProcess):
    label = "ours"

    def __init__(self, workdir: Path, extra: dict[str, str] | None = None,
                 retentions: str = "10s:1d"):
        super().__init__(Path(workdir))
        self.line_port = free_port(also_udp=True)
        self.pickle_port = free_port()
        self.conf_dir = self.workdir / "conf"
        self.config_path = self.conf_dir / "statsgraph.conf"
        self.data_dir = self.workdir / "whisper"
        self.settings = dict(OUR_SETTINGS)
        self.settings.update(extra or {})
        self.retentions = retentions
        self.ready_ports = [self.line_port, self.pickle_port]

    def write_config(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = ["[carbon]"] + [f"{k} = {v}" for k, v in self.settings.items()]
        self.config_path.write_text("\n".join(lines) + "\n")
        (self.conf_dir / "storage-schemas.conf").write_text(
            STORAGE_SCHEMAS.format(retentions=self.retentions))
        (self.conf_dir / "storage-aggregation.conf").write_text(STORAGE_AGGREGATION)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "statsgraph", "carbon", "--storage", str(self.data_dir),
                "--port", str(self.line_port), "--pickle-port", str(self.pickle_port),
                "--query-port", "0", "--config", str(self.config_path)]

    def env(self) -> dict:
        return repo_env()

    def cwd(self) -> str:
        return str(REPO)

    def start(self) -> OurStore:
        self.write_config()
        super().start()
        return self

    def __enter__(self) -> OurStore:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()
