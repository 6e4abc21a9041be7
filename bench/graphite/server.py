"""Serve graphite-web 1.1.10 (installed by install.py) over a whisper folder, for a while.

    from bench.graphite.server import graphite_web      # or with bench/graphite on sys.path
    with graphite_web(Path("/tmp/whisper"), port=8090) as base_url:
        urllib.request.urlopen(base_url + "/render?target=a.b&format=json")

gunicorn 23 runs `graphite.wsgi:application` on 127.0.0.1:port from the sdist's webapp/
with the local_settings written by install.py (UTC, no carbonlink, no memcache: Django's
dummy cache, so nothing is cached between requests).  Default config: 1 sync worker,
1 thread; `workers`/`threads` change it.  Not part of the test run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from install import django_env, ensure_installed, webapp_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, url: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n"
                               + log_path.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                r.read()
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"graphite-web did not answer {url} within {timeout}s:\n"
                       + log_path.read_text(errors="replace")[-3000:])


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)       # gunicorn: graceful stop of master and workers
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def graphite_web(whisper_dir: Path, port: int | None = None, workers: int = 1,
                 threads: int = 1, timeout: float = 60.0) -> Iterator[str]:
    """graphite-web on 127.0.0.1:port serving whisper_dir; yields its base URL."""
    venv = ensure_installed(quiet=True)
    port = port or free_port()
    env = django_env(venv, Path(whisper_dir).resolve())
    with tempfile.TemporaryDirectory(prefix="graphite-web-") as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        cmd = [str(venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads),
               "--timeout", "300", "--log-level", "warning",
               "--chdir", str(webapp_dir(venv)), "graphite.wsgi:application"]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=str(webapp_dir(venv)), start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(proc, base + "/version", log_path, timeout)
            yield base
        finally:
            _stop(proc)


def main() -> int:
    """`python bench/graphite/server.py WHISPER_DIR [PORT]`: serve until Ctrl-C."""
    whisper_dir = Path(sys.argv[1])
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8080
    with graphite_web(whisper_dir, port) as base:
        print(f"graphite-web 1.1.10 on {base} serving {whisper_dir}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
