"""An in-memory index of the whisper tree, so a find never walks the disk.

The tree is listed once; `refresh()` then stats every folder and lists again only the
ones whose mtime changed (a new file or folder changes its parent's mtime), so keeping
it current costs one stat per folder, not a walk of every file. Readers always see a
complete tree: a refresh builds new folder objects and swaps them in whole.

Symbolic links in the tree are never followed: a link planted there to a folder or file
elsewhere must not make what is outside the storage directory visible (`Containment`
lets the reader and the writer refuse such paths when given a name directly).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from carbon_store.patterns import PathPattern, is_pattern, node_regex

# A pattern node's `{a,b}` lists multiply (`{a,b}{c,d}` is four names, each matched by
# its own regex): past this many, a query is refused rather than left to run for ever.
MAX_ALTERNATIVES = 10_000
MAX_BRACE_LISTS = 100


class PatternTooComplex(ValueError):
    """A find pattern that would cost too much to match; the message says why."""


def check_pattern(pattern: str) -> None:
    """Refuse a pattern whose brace lists would expand past `MAX_ALTERNATIVES` names in
    one node (counted the way `patterns.expand_braces` expands them, without doing it)."""
    for node in pattern.split("."):
        count, groups, rest = 1, 0, node
        while (start := rest.find("{")) >= 0 and (end := rest.find("}", start + 1)) >= 0:
            count *= rest.count(",", start, end) + 1
            groups += 1  # expand_braces recurses once per list
            if count > MAX_ALTERNATIVES or groups > MAX_BRACE_LISTS:
                raise PatternTooComplex(
                    f"the {{a,b}} lists of {node[:100]!r} expand to more than "
                    f"{MAX_ALTERNATIVES} names (or has more than {MAX_BRACE_LISTS} lists)")
            rest = rest[end + 1:]


# A folder whose mtime is this recent may still change within the same timestamp tick
# (Linux stamps files from a coarse clock): its listing is not trusted, so the next
# refresh lists it again instead of missing a file created just after this one.
SETTLE_NS = 2_000_000_000


@dataclass
class Folder:
    mtime_ns: int = -1
    folders: dict[str, Folder] = field(default_factory=dict)
    leaves: frozenset[str] = frozenset()


def _scan(path: str, old: Folder | None, top: bool) -> Folder | None:
    """The folder at `path`, reusing `old`'s listing when its mtime did not change."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    if old is not None and old.mtime_ns == mtime:
        folders = {}
        for name, child in old.folders.items():
            scanned = _scan(os.path.join(path, name), child, False)
            if scanned is not None:
                folders[name] = scanned
        return Folder(mtime, folders, old.leaves)
    folders, leaves = {}, set()
    try:
        entries = list(os.scandir(path))
    except OSError:
        return None
    if mtime > time.time_ns() - SETTLE_NS:
        mtime = -1
    for entry in entries:
        name = entry.name
        if name.startswith(".") or (top and name == "_tagged"):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                child = old.folders.get(name) if old is not None else None
                scanned = _scan(entry.path, child, False)
                if scanned is not None:
                    folders[name] = scanned
            elif (name.endswith(".wsp") and len(name) > 4
                  and entry.is_file(follow_symlinks=False)):
                leaves.add(name[:-4])
        except OSError:
            continue
    return Folder(mtime, folders, frozenset(leaves))


class Containment:
    """Whether a path under `root` really lies inside it once symbolic links are
    resolved. Folders found inside are remembered (bounded), so the common check is one
    `lstat` of the file itself rather than a `realpath` of every component."""

    MAX_REMEMBERED = 100_000

    def __init__(self, root: str | Path) -> None:
        self.root = os.path.realpath(root)
        self._inside: set[str] = set()

    def _is_inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.root or real.startswith(self.root + os.sep)

    def contains(self, path: str | Path, is_link: bool | None = None) -> bool:
        """False when `path` (which need not exist yet) leads outside the root.
        `is_link` saves the `lstat` when the caller has already made it."""
        path = str(path)
        folder = os.path.dirname(path)
        if folder not in self._inside:
            if not self._is_inside(folder):
                return False
            if os.path.isdir(folder):  # one not made yet could still become a link
                if len(self._inside) >= self.MAX_REMEMBERED:
                    self._inside.clear()
                self._inside.add(folder)
        if is_link is None:
            is_link = os.path.islink(path)
        return not is_link or self._is_inside(path)


def _selector(node: str) -> Callable[[Collection[str]], list[str]]:
    """The names of a folder's entries that one pattern node matches."""
    if is_pattern(node):
        match = node_regex(node).match
        return lambda names: [name for name in names if match(name)]
    return lambda names: [node] if node in names else []


class MetricIndex:
    """The tree under `root`. With `max_age`, a lookup first refreshes a tree older than
    that many seconds; without it, the owner calls `refresh()` (a service does so on a
    timer, off the request path)."""

    def __init__(self, root: str | Path, max_age: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.root = str(root)
        self.max_age = max_age
        self.clock = clock
        self._tree: Folder | None = None
        self._refreshed = 0.0
        self._lock = threading.Lock()

    @property
    def tree(self) -> Folder:
        if self._tree is None or (
                self.max_age is not None and self.clock() - self._refreshed > self.max_age):
            self.refresh()
        return self._tree or Folder()

    def refresh(self) -> None:
        """Bring the tree up to date with the disk (safe to call from any thread)."""
        with self._lock:
            self._tree = _scan(self.root, self._tree, True) or Folder()
            self._refreshed = self.clock()

    def find(self, pattern: str) -> list[tuple[str, bool]]:
        """(path, is_leaf) of every branch and leaf matching the pattern, sorted. A name
        that is both a folder and a file appears once, as a leaf."""
        check_pattern(pattern)
        nodes = PathPattern(pattern).nodes
        level: list[tuple[str, Folder]] = [("", self.tree)]
        for node in nodes[:-1]:               # down the tree, one level at a time
            select = _selector(node)
            level = [(prefix + name + ".", folder.folders[name])
                     for prefix, folder in level for name in select(folder.folders)]
            if not level:
                return []
        select = _selector(nodes[-1])
        found: dict[str, bool] = {}
        for prefix, folder in level:
            for name in select(folder.folders):
                found[prefix + name] = False
            for name in select(folder.leaves):
                found[prefix + name] = True
        return sorted(found.items())

    def leaves(self) -> list[str]:
        """Every metric with a file, sorted (graphite's /metrics/index.json)."""
        out: list[str] = []
        stack = [(self.tree, "")]
        while stack:
            folder, prefix = stack.pop()
            out.extend(prefix + name for name in folder.leaves)
            stack.extend((child, prefix + name + ".") for name, child in folder.folders.items())
        out.sort()
        return out
