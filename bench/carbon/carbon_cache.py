"""Install and run Graphite's carbon-cache 1.1.10 for benchmarks.  Not part of the
test run, and no carbon source is kept in the project: pip installs it into a
virtualenv outside the tracked tree.

    from carbon_cache import CarbonCache, ensure_venv    # with bench/carbon on sys.path
    venv = ensure_venv()
    with CarbonCache(venv, workdir, overrides={"MAX_UPDATES_PER_SECOND": "inf"}) as cc:
        ...  # plaintext on cc.line_port, pickle on cc.pickle_port, files under cc.data_dir

The virtualenv is bench/carbon/.venv (git-ignored), or $STATSGRAPH_CARBON_VENV.  It is
made with `python -m venv` and `pip install carbon==1.1.10 whisper==1.1.10` (pip
brings Twisted, txAMQP, cachetools, urllib3, six) the first time it is missing.
carbon 1.1.10 does not run on Python 3.12 or later, so the venv's Python is this
interpreter when it is older than 3.12, else $STATSGRAPH_CARBON_PYTHON or python3.11.

The process is `carbon-cache.py --config=WORK/conf/carbon.conf --nodaemon start`, so it
stays in the foreground and its PID is the one Popen started (twistd runs in that
process; carbon's writer is a thread of it).  The config written starts from the
[cache] section of carbon's conf/carbon.conf.example and changes only what
CACHE_SETTINGS_CHANGED lists plus the caller's overrides; storage-schemas.conf and
storage-aggregation.conf are written beside it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from procstat import DaemonProcess, free_port

HERE = Path(__file__).resolve().parent
CARBON_VERSION = "1.1.10"
WHISPER_VERSION = "1.1.10"
DEFAULT_VENV = HERE / ".venv"

# The [cache] section of carbon 1.1.10's conf/carbon.conf.example: every key it sets
# (uncommented), with its value there.
EXAMPLE_CACHE_SECTION: dict[str, str] = {
    "DATABASE": "whisper",
    "ENABLE_LOGROTATION": "True",
    "USER": "",
    "MAX_CACHE_SIZE": "inf",
    "MAX_UPDATES_PER_SECOND": "500",
    "MAX_CREATES_PER_MINUTE": "50",
    "MIN_TIMESTAMP_RESOLUTION": "1",
    "LINE_RECEIVER_INTERFACE": "0.0.0.0",
    "LINE_RECEIVER_PORT": "2003",
    "ENABLE_UDP_LISTENER": "False",
    "UDP_RECEIVER_INTERFACE": "0.0.0.0",
    "UDP_RECEIVER_PORT": "2003",
    "PICKLE_RECEIVER_INTERFACE": "0.0.0.0",
    "PICKLE_RECEIVER_PORT": "2004",
    "PICKLE_RECEIVER_MAX_LENGTH": "1048576",
    "USE_INSECURE_UNPICKLER": "False",
    "CACHE_QUERY_INTERFACE": "0.0.0.0",
    "CACHE_QUERY_PORT": "7002",
    "USE_FLOW_CONTROL": "True",
    "LOG_UPDATES": "False",
    "LOG_CREATES": "False",
    "LOG_CACHE_HITS": "False",
    "LOG_CACHE_QUEUE_SORTS": "False",
    "CACHE_WRITE_STRATEGY": "sorted",
    "WHISPER_AUTOFLUSH": "False",
    "WHISPER_FALLOCATE_CREATE": "True",
}

# What the benchmark changes from the example, always (ports and folders aside).
CACHE_SETTINGS_CHANGED: dict[str, str] = {
    "MAX_CREATES_PER_MINUTE": "inf",     # the example's 50 drops the points of new metrics
    "MAX_UPDATES_PER_SECOND": "inf",     # as ours is run; the caller may override it
    "LOG_UPDATES": "False",              # code defaults are True: say it explicitly
    "LOG_CREATES": "False",
    "LOG_CACHE_HITS": "False",
    "CARBON_METRIC_INTERVAL": "0",       # no self-metrics, as ours is run
    "LINE_RECEIVER_INTERFACE": "127.0.0.1",
    "PICKLE_RECEIVER_INTERFACE": "127.0.0.1",
    "CACHE_QUERY_INTERFACE": "127.0.0.1",
    "UDP_RECEIVER_INTERFACE": "127.0.0.1",
}

STORAGE_SCHEMAS = """\
[bench]
pattern = .*
retentions = {retentions}
"""

STORAGE_AGGREGATION = """\
[default]
pattern = .*
xFilesFactor = 0.5
aggregationMethod = average
"""


# ------------------------------------------------------------------------ install
def _python_for_venv() -> str:
    if sys.version_info < (3, 12):
        return sys.executable
    for candidate in (os.environ.get("STATSGRAPH_CARBON_PYTHON"), shutil.which("python3.11")):
        if candidate:
            return candidate
    raise RuntimeError("carbon-cache 1.1.10 needs Python <= 3.11 (it uses readfp and imp); "
                       "run the benchmark with python3.11 or set STATSGRAPH_CARBON_PYTHON")


def venv_dir() -> Path:
    return Path(os.environ.get("STATSGRAPH_CARBON_VENV") or DEFAULT_VENV)


def _installed_versions(python: Path) -> dict[str, str] | None:
    code = ("import importlib.metadata as m, json, sys, carbon, whisper, twisted;"
            "print(json.dumps({'carbon': m.version('carbon'), 'whisper': m.version('whisper'),"
            "'twisted': m.version('twisted'), 'python': sys.version.split()[0]}))")
    try:
        p = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                           timeout=60, cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0:
        return None
    import json
    return json.loads(p.stdout.strip().splitlines()[-1])


def ensure_venv(quiet: bool = False) -> Path:
    """The venv with carbon 1.1.10 and whisper 1.1.10, made when missing."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    versions = _installed_versions(python) if python.exists() else None
    if versions and versions["carbon"] == CARBON_VERSION \
            and versions["whisper"] == WHISPER_VERSION:
        return venv
    base = _python_for_venv()
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    if not python.exists():
        log(f"creating a virtualenv for carbon-cache {CARBON_VERSION} in {venv}")
        r = subprocess.run([base, "-m", "venv", str(venv)], capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"`{base} -m venv {venv}` failed:\n{r.stderr or r.stdout}")
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           f"carbon=={CARBON_VERSION}", f"whisper=={WHISPER_VERSION}"]
    log("installing:", " ".join(cmd[2:]))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd="/")
    if r.returncode != 0:
        raise RuntimeError(f"pip could not install carbon-cache {CARBON_VERSION}:\n"
                           + (r.stderr or r.stdout)[-3000:])
    versions = _installed_versions(python)
    if not versions or versions["carbon"] != CARBON_VERSION:
        raise RuntimeError(f"after pip install, {python} cannot import carbon "
                           f"{CARBON_VERSION} (found {versions})")
    return venv


def venv_versions(venv: Path) -> dict[str, str]:
    return _installed_versions(venv / "bin" / "python") or {}


# ------------------------------------------------------------------------ process
class CarbonCache(DaemonProcess):
    """One carbon-cache 1.1.10 process in the foreground (--nodaemon)."""

    label = f"carbon-cache {CARBON_VERSION}"

    def __init__(self, venv: Path, workdir: Path, overrides: dict[str, str] | None = None,
                 retentions: str = "10s:1d"):
        super().__init__(Path(workdir))
        self.venv = Path(venv)
        self.line_port = free_port()
        self.pickle_port = free_port()
        self.query_port = free_port()
        self.conf_dir = self.workdir / "conf"
        self.storage_dir = self.workdir / "storage"
        self.data_dir = self.storage_dir / "whisper"
        self.config_path = self.conf_dir / "carbon.conf"
        self.settings = dict(EXAMPLE_CACHE_SECTION)
        self.settings.update(CACHE_SETTINGS_CHANGED)
        self.settings.update({
            "LINE_RECEIVER_PORT": str(self.line_port),
            "PICKLE_RECEIVER_PORT": str(self.pickle_port),
            "CACHE_QUERY_PORT": str(self.query_port),
            "STORAGE_DIR": str(self.storage_dir),
            "LOCAL_DATA_DIR": str(self.data_dir),
            "LOG_DIR": str(self.storage_dir / "log"),
            "PID_DIR": str(self.storage_dir),
        })
        for key, value in (overrides or {}).items():
            self.settings[key.upper()] = str(value)
        self.retentions = retentions
        self.ready_ports = [self.line_port, self.pickle_port]

    def changed_settings(self) -> dict[str, str]:
        """The settings that differ from carbon.conf.example, folders and ports left out."""
        skip = {"LINE_RECEIVER_PORT", "PICKLE_RECEIVER_PORT", "CACHE_QUERY_PORT", "STORAGE_DIR",
                "LOCAL_DATA_DIR", "LOG_DIR", "PID_DIR", "LINE_RECEIVER_INTERFACE",
                "PICKLE_RECEIVER_INTERFACE", "CACHE_QUERY_INTERFACE", "UDP_RECEIVER_INTERFACE"}
        return {k: v for k, v in self.settings.items()
                if k not in skip and EXAMPLE_CACHE_SECTION.get(k) != v}

    def write_config(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = ["[cache]"] + [f"{k} = {v}" for k, v in self.settings.items()]
        self.config_path.write_text("\n".join(lines) + "\n")
        (self.conf_dir / "storage-schemas.conf").write_text(
            STORAGE_SCHEMAS.format(retentions=self.retentions))
        (self.conf_dir / "storage-aggregation.conf").write_text(STORAGE_AGGREGATION)

    def command(self) -> list[str]:
        return [str(self.venv / "bin" / "python"), str(self.venv / "bin" / "carbon-cache.py"),
                f"--config={self.config_path}", "--nodaemon", "start"]

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "GRAPHITE_CONF_DIR",
                            "GRAPHITE_STORAGE_DIR")}
        env["GRAPHITE_ROOT"] = str(self.workdir)
        return env

    def start(self) -> CarbonCache:
        self.write_config()
        super().start()
        return self

    def extra_log_text(self) -> str:
        """carbon's own log files (console.log etc.) under LOG_DIR."""
        out = []
        log_dir = self.storage_dir / "log"
        if log_dir.is_dir():
            for f in sorted(log_dir.rglob("*.log")):
                with contextlib.suppress(OSError):
                    out.append(f"--- {f.name}\n" + f.read_text(errors="replace")[-1500:])
        return "\n".join(out)

    def __enter__(self) -> CarbonCache:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()
