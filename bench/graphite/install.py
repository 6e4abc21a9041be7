"""Install graphite-web 1.1.10 into bench/graphite/.venv, for golden files and benchmarks.

    python3.11 bench/graphite/install.py          # idempotent; prints the venv and webapp

Not part of the test run, and no graphite-web source is kept in the project: pip downloads
the PyPI sdist into the (git-ignored) venv and it runs from the sdist's webapp/ folder,
because its setup.py insists on /opt/graphite.  What this does, each step skipped when done:

1. `python3.11 -m venv bench/graphite/.venv` (or $STATSGRAPH_GRAPHITE_VENV);
2. pip installs the runtime deps (DEPS: Django 3.0.x since graphite-web wants <3.1);
3. `pip download --no-binary :all: graphite-web==1.1.10`, unpacked into the venv;
4. replaces the `inspect.getargspec`/`formatargspec` pair in graphite/functions/__init__.py,
   gone from Python 3.11, with `inspect.signature` (else /functions is a 500);
5. writes graphite/local_settings.py: UTC, sqlite and logs under the venv, no memcache,
   no carbonlink (CARBONLINK_HOSTS=[] and REPLICATION_FACTOR=0), WHISPER_DIR from the
   environment variable WHISPER_ENV so one install serves any dataset;
6. `django-admin migrate --noinput` once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GRAPHITE_VERSION = "1.1.10"
DEFAULT_VENV = HERE / ".venv"
WHISPER_ENV = "STATSGRAPH_GRAPHITE_WHISPER_DIR"
DEPS = [
    "Django==3.0.14",
    "django-tagging==0.4.3",
    "whisper==1.1.10",
    "cairocffi",
    "pyparsing",
    "pytz",
    "six",
    "urllib3",
    "gunicorn==23.0.0",
]

# The Python 3.11 fix for /functions: the two removed inspect calls become one signature.
GETARGSPEC_OLD = (
    "    argspec = inspect.getargspec(func)\n"
    "    argformat = inspect.formatargspec(argspec[0][1:], argspec[1], argspec[2], argspec[3])\n"
)
GETARGSPEC_NEW = (
    "    sig = inspect.signature(func)  # statsgraph bench: getargspec is gone in 3.11\n"
    "    argformat = str(sig.replace(parameters=list(sig.parameters.values())[1:]))\n"
)

LOCAL_SETTINGS = """\
# Written by statsgraph bench/graphite/install.py
import os

SECRET_KEY = 'statsgraph-bench-only'
ALLOWED_HOSTS = ['*']
TIME_ZONE = 'UTC'
STORAGE_DIR = {storage!r}
LOG_DIR = os.path.join(STORAGE_DIR, 'log', 'webapp')
INDEX_FILE = os.path.join(STORAGE_DIR, 'index')
WHISPER_DIR = os.environ.get({env!r}, os.path.join(STORAGE_DIR, 'whisper'))
STANDARD_DIRS = [WHISPER_DIR]
MEMCACHE_HOSTS = []
CARBONLINK_HOSTS = []
REPLICATION_FACTOR = 0
LOG_RENDERING_PERFORMANCE = False
LOG_CACHE_PERFORMANCE = False
LOG_INFO_PERFORMANCE = False
DATABASES = {{
    'default': {{
        'NAME': os.path.join(STORAGE_DIR, 'graphite.db'),
        'ENGINE': 'django.db.backends.sqlite3',
    }},
}}
"""


def venv_dir() -> Path:
    return Path(os.environ.get("STATSGRAPH_GRAPHITE_VENV") or DEFAULT_VENV)


def webapp_dir(venv: Path | None = None) -> Path:
    return (venv or venv_dir()) / f"graphite-web-{GRAPHITE_VERSION}" / "webapp"


def storage_dir(venv: Path | None = None) -> Path:
    return (venv or venv_dir()) / "storage"


def _base_python() -> str:
    """graphite-web 1.1.10 with Django 3.0 is known to run on 3.11; prefer that."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    for candidate in (os.environ.get("STATSGRAPH_GRAPHITE_PYTHON"), shutil.which("python3.11")):
        if candidate:
            return candidate
    raise RuntimeError("graphite-web 1.1.10 needs Python 3.11 here: run with python3.11 "
                       "or set STATSGRAPH_GRAPHITE_PYTHON")


def _run(cmd: list[str], log, **kw) -> subprocess.CompletedProcess:
    log("+", " ".join(str(c) for c in cmd))
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({r.returncode}):\n{(r.stderr or r.stdout)[-3000:]}")
    return r


def django_env(venv: Path | None = None, whisper_dir: Path | None = None) -> dict[str, str]:
    """The environment graphite-web's webapp runs in (also used by server.py)."""
    venv = venv or venv_dir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "GRAPHITE_ROOT", "GRAPHITE_CONF_DIR",
                        "GRAPHITE_STORAGE_DIR", "DJANGO_SETTINGS_MODULE")}
    env["PYTHONPATH"] = str(webapp_dir(venv))
    env["DJANGO_SETTINGS_MODULE"] = "graphite.settings"
    if whisper_dir is not None:
        env[WHISPER_ENV] = str(whisper_dir)
    return env


def _deps_ok(python: Path) -> bool:
    code = ("import importlib.metadata as m, sys; "
            f"wanted = {[d for d in DEPS if '==' in d]!r}; "
            "bad = [d for d in wanted if m.version(d.split('==')[0]) != d.split('==')[1]]; "
            "import cairocffi, pyparsing, pytz, six, urllib3; sys.exit(1 if bad else 0)")
    r = subprocess.run([str(python), "-c", code], capture_output=True, cwd="/")
    return r.returncode == 0


def _unpack_sdist(venv: Path, python: Path, log) -> None:
    target = venv / f"graphite-web-{GRAPHITE_VERSION}"
    if (target / "webapp" / "graphite" / "settings.py").exists():
        return
    dl = venv / "sdist"
    dl.mkdir(parents=True, exist_ok=True)
    tgz = dl / f"graphite-web-{GRAPHITE_VERSION}.tar.gz"
    if not tgz.exists():
        _run([python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
              "--no-deps", "--no-binary", ":all:", "-d", dl,
              f"graphite-web=={GRAPHITE_VERSION}"], log, timeout=600, cwd="/")
    with tarfile.open(tgz) as tar:
        tar.extractall(venv, filter="data")


def _patch_functions(venv: Path, log) -> None:
    path = webapp_dir(venv) / "graphite" / "functions" / "__init__.py"
    text = path.read_text()
    if GETARGSPEC_NEW in text:
        return
    if GETARGSPEC_OLD not in text:
        raise RuntimeError(f"{path}: the getargspec lines to patch were not found")
    log("patching", path)
    path.write_text(text.replace(GETARGSPEC_OLD, GETARGSPEC_NEW))


def _write_local_settings(venv: Path, log) -> None:
    path = webapp_dir(venv) / "graphite" / "local_settings.py"
    text = LOCAL_SETTINGS.format(storage=str(storage_dir(venv)), env=WHISPER_ENV)
    if path.exists() and path.read_text() == text:
        return
    log("writing", path)
    path.write_text(text)
    for sub in ("log/webapp", "whisper"):
        (storage_dir(venv) / sub).mkdir(parents=True, exist_ok=True)


def _migrate(venv: Path, log) -> None:
    marker = storage_dir(venv) / ".migrated"
    if marker.exists() and (storage_dir(venv) / "graphite.db").exists():
        return
    _run([venv / "bin" / "django-admin", "migrate", "--noinput"], log,
         env=django_env(venv), timeout=600, cwd=str(webapp_dir(venv)))
    marker.write_text("ok\n")


def ensure_installed(quiet: bool = False) -> Path:
    """The venv with graphite-web 1.1.10 ready to serve; installs what is missing."""
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    venv = venv_dir()
    python = venv / "bin" / "python"
    if not python.exists():
        _run([_base_python(), "-m", "venv", venv], log, timeout=300)
    if not _deps_ok(python):
        _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *DEPS],
             log, timeout=900, cwd="/")
    _unpack_sdist(venv, python, log)
    _patch_functions(venv, log)
    _write_local_settings(venv, log)
    _migrate(venv, log)
    return venv


def versions(venv: Path | None = None) -> dict[str, str]:
    """Versions of what serves the peer (recorded beside golden files and results)."""
    venv = venv or venv_dir()
    code = ("import importlib.metadata as m, json, sys; "
            "print(json.dumps({n: m.version(n) for n in "
            "('Django', 'django-tagging', 'whisper', 'cairocffi', 'pyparsing', 'gunicorn')} "
            "| {'python': sys.version.split()[0]}))")
    r = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True,
                       text=True, cwd="/", check=True)
    import json
    out = json.loads(r.stdout)
    out["graphite-web"] = GRAPHITE_VERSION
    return out


def main() -> int:
    venv = ensure_installed()
    print(f"venv: {venv}\nwebapp: {webapp_dir(venv)}")
    print(versions(venv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
