"""The writer: a thread that drains the cache into whisper files.

Each turn takes one metric (chosen by the cache's drain strategy) and writes all of
its points with one `whisper.update_many`. New files are created from the storage rules
by a separate process, ahead of the writes (creating a file is kernel time, which then
overlaps with this process's Python work), and atomically (a temporary file in the same
folder, then a hard link to the final name), so a crash never leaves a half-written file.
A metric whose file may not be created yet (`max_creates_per_minute`) or whose write
failed keeps its points in the cache and is parked for a while; the others keep flowing.
A file that is corrupt or shorter than its header says is never written to (its points
wait in the cache, counted as errors), and a path that a symbolic link leads out of the
storage directory is neither created nor written: its points are dropped and counted.
"""

from __future__ import annotations

import contextlib
import heapq
import multiprocessing
import os
import signal
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import whisper
from twisted.logger import Logger

from carbon_store.cache import MetricCache
from carbon_store.index import Containment
from carbon_store.names import relative_path
from carbon_store.schemas import StorageRules
from carbon_store.settings import CarbonSettings
from carbon_store.tagindex import register_tagged
from statsgraph.ratelimit import RateLimitedLog, TokenBucket

log = Logger()

RETRY_AFTER_ERROR = 5.0  # seconds before a metric whose write failed is tried again
CREATE_BATCH = 32  # files handed to the creator process per call


@dataclass
class WriterStats:
    committed_points: int = 0
    update_operations: int = 0
    update_seconds: float = 0.0
    creates: int = 0
    errors: int = 0


class Writer:
    def __init__(self, cache: MetricCache, rules: Callable[[], StorageRules],
                 settings: CarbonSettings, *, seconds: Callable[[], float] = time.monotonic
                 ) -> None:
        self.cache = cache
        self.rules = rules
        self.settings = settings
        self.root = Path(settings.storage)
        self.containment = Containment(self.root)
        # Sizes seen in whole files (a handful, one per schema): a file of such a size
        # is taken as whole without reading its header again.
        self._whole_sizes: set[int] = set()
        self.seconds = seconds
        self.updates = TokenBucket(settings.max_updates_per_second, seconds)
        self.creates = TokenBucket(settings.max_creates_per_minute / 60.0, seconds,
                                   capacity=max(1.0, settings.max_creates_per_minute / 60.0))
        self.stats = WriterStats()
        self._stats_lock = threading.Lock()
        # Separate processes: creating a file is kernel time, and in a process of its own
        # it overlaps with this one's Python work instead of contending for its GIL.
        self._creator = ProcessPoolExecutor(max_workers=settings.create_processes,
                                            mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_ignore_interrupts)
        self._creating: set[str] = set()  # only the writer thread touches it
        self._created: deque[tuple[str, float]] = deque()  # (name, retry at) from creators
        self._to_create: list[tuple] = []  # (name, path, archives, xff, method) to send
        self._waiting: list[tuple[float, str]] = []  # heap of parked names to retry at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._deadline = float("inf")
        self.error_log = RateLimitedLog(lambda text: log.error("{text}", text=text), seconds)
        # whisper's switches are module globals; this process has one writer.
        whisper.AUTOFLUSH = settings.whisper_autoflush
        whisper.LOCK = settings.whisper_lock_writes

    # -- control (from the reactor thread) -------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float) -> None:
        """Drain what is cached (faster, as configured), for at most `timeout` seconds."""
        self._deadline = self.seconds() + timeout
        self.updates.set_rate(self.settings.max_updates_per_second_on_shutdown)
        self._stopping.set()
        self._wake.set()

    # -- the thread ------------------------------------------------------------------

    def run(self) -> None:
        # Start the creator process now: its memory is a fixed cost of the running
        # store, paid before any point arrives rather than in the middle of a burst.
        self._creator.submit(os.getpid)
        try:
            self._run()
        finally:
            self._creator.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while True:
            if self._stopping.is_set() and (self.cache.size == 0
                                            or self.seconds() >= self._deadline):
                return
            self._release()
            name = self.cache.choose()
            if name is None and self._to_create:
                self._send_creates()
            if (name is None and self._stopping.is_set() and self.cache.size
                    and not self._creating):
                return  # what is left cannot be written now (errors, creates): dumped
            if name is None:
                wait = 0.05 if self._stopping.is_set() else 1.0
                if self._waiting:
                    wait = min(wait, max(0.01, self._waiting[0][0] - self.seconds()))
                self._wake.wait(wait)
                self._wake.clear()
                continue
            try:
                self.write(name)
            except Exception as exc:  # never let one metric end the writer
                self.stats.errors += 1
                self.error_log(f"writing {name!r} failed: {exc!r}")

    def _park(self, name: str, until: float) -> None:
        self.cache.park(name)
        if until != float("inf"):
            heapq.heappush(self._waiting, (until, name))

    def _release(self) -> None:
        """Unpark metrics whose file is now there, or whose wait is over."""
        while self._created:
            name, retry_at = self._created.popleft()
            self._creating.discard(name)
            if retry_at:
                heapq.heappush(self._waiting, (retry_at, name))
            else:
                self.cache.unpark(name)
        now = self.seconds()
        while self._waiting and self._waiting[0][0] <= now:
            self.cache.unpark(heapq.heappop(self._waiting)[1])

    def write(self, name: str) -> bool:
        """Write one metric's points; False if they stay cached for later."""
        path = self.root / relative_path(name)
        try:
            found = os.lstat(path)
        except OSError:  # as Path.exists: a missing folder, or a file in its place
            found = None
        if not self.containment.contains(
                path, found is not None and stat.S_ISLNK(found.st_mode)):
            dropped = self.cache.pop(name)
            self.stats.errors += 1
            self.error_log(f"not writing {name!r}: a symbolic link leads {path} out of the "
                           f"storage directory; {len(dropped)} points dropped")
            return False
        if found is not None and stat.S_ISLNK(found.st_mode):
            try:
                found = os.stat(path)
            except OSError:
                found = None
        if found is None:
            if name in self._creating:
                self._park(name, float("inf"))
                return False
            if not self.creates.take():
                self._park(name, self.seconds() + self.creates.wait_time())
                return False
            self._creating.add(name)
            self._park(name, float("inf"))  # until its file is there
            meta = self.rules().lookup(name)
            self._to_create.append((name, str(path), meta.archives, meta.x_files_factor,
                                    meta.method))
            if len(self._to_create) >= CREATE_BATCH:
                self._send_creates()
            return False
        wait = self.updates.wait_time()
        while wait > 0 and not (self._stopping.is_set() and self.seconds() >= self._deadline):
            time.sleep(min(wait, 0.1))
            wait = self.updates.wait_time()
        self.updates.take()
        points = self.cache.pop(name)
        if not points:
            return True
        started = time.perf_counter()
        try:
            self._check_whole(str(path), found.st_size)
            whisper.update_many(str(path), points)
        except Exception as exc:
            self.cache.restore(name, points)
            self._park(name, self.seconds() + RETRY_AFTER_ERROR)
            self.stats.errors += 1
            self.error_log(f"cannot write {name!r} to {path}: {exc}; "
                           f"{len(points)} points kept for a retry")
            return False
        self.stats.update_seconds += time.perf_counter() - started
        self.stats.update_operations += 1
        self.stats.committed_points += len(points)
        return True

    def _check_whole(self, path: str, size: int) -> None:
        """Refuse (CorruptWhisperFile) a file shorter or longer than its header says,
        which whisper would otherwise write into as if it were whole."""
        if size in self._whole_sizes:
            return
        header = whisper.info(path)
        if header is None:
            raise FileNotFoundError(path)
        expected = max(a["offset"] + a["size"] for a in header["archives"])
        if size != expected:
            raise whisper.CorruptWhisperFile(
                f"file is {size} bytes where its header says {expected}", path)
        if len(self._whole_sizes) < 1000:
            self._whole_sizes.add(size)

    def _send_creates(self) -> None:
        """Hand the files waiting to be created to the creator process, as one call."""
        batch, self._to_create = self._to_create, []
        future = self._creator.submit(create_files, [job[1:] for job in batch],
                                      self.settings.whisper_sparse_create,
                                      self.settings.whisper_fallocate_create)
        names = [job[0] for job in batch]
        future.add_done_callback(lambda done: self._created_batch(names, done))

    def _created_batch(self, names: list[str], done: Future) -> None:
        """Creations finished (in the pool's thread): let the writer take the metrics."""
        failure = done.exception()
        errors = [str(failure)] * len(names) if failure else done.result()
        for name, error in zip(names, errors, strict=True):
            retry_at = 0.0
            if error is None and ";" in name:
                # The file's path is a hash: the tag index finds the name in this list.
                try:
                    register_tagged(self.root, name)
                except OSError as exc:  # the points are still written; only /tags misses it
                    self.error_log(f"cannot record the tagged name {name!r}: {exc}")
            with self._stats_lock:
                if error is None:
                    self.stats.creates += 1
                else:
                    self.stats.errors += 1
            if error is not None:
                self.error_log(f"cannot create the file of {name!r}: {error}")
                # Its points stay cached; the next attempt waits like after a write error.
                retry_at = self.seconds() + RETRY_AFTER_ERROR
            self._created.append((name, retry_at))
        self._wake.set()


def _ignore_interrupts() -> None:
    """Ctrl-C reaches the whole process group; the daemon stops its creators itself.
    Should the daemon be killed outright, the creator goes with it (on Linux), rather
    than linger holding the daemon's output pipes (which a supervisor waits on)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def create_files(jobs: list[tuple], sparse: bool, fallocate: bool) -> list[str | None]:
    """Create several files (in the creator process); an error text or None for each."""
    results: list[str | None] = []
    for path, archives, x_files_factor, method in jobs:
        try:
            create_file(path, archives, x_files_factor, method, sparse, fallocate)
            results.append(None)
        except Exception as exc:
            results.append(str(exc))
    return results


def create_file(path: str, archives: tuple, x_files_factor: float, method: str,
                sparse: bool, fallocate: bool) -> None:
    """Create a whisper file atomically: a temporary file beside it, then a hard link (which
    never replaces a file someone else made). Runs in a creator process."""
    folder, name = os.path.split(path)
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        whisper.create(temporary, list(archives), x_files_factor, method, sparse, fallocate)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
