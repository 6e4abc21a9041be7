"""MetricIndex: finds over the in-memory whisper tree, and refreshes that re-list only
the folders whose mtime changed (counted by wrapping os.scandir)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from carbon_store import index as index_module
from carbon_store.index import MetricIndex

# A fixed past time for folder mtimes, far older than the index's settle window.
OLD_NS = 1_600_000_000 * 10**9

LEAVES = [
    "a/b/c.wsp",
    "a/b/d.wsp",
    "a/b.wsp",  # a.b is a folder and a file
    "a/e.wsp",
    "a/_tagged/y.wsp",  # `_tagged` is skipped only at the top
    "servers/web-01/cpu.wsp",
    "servers/web-02/cpu.wsp",
    "servers/web-02/mem.wsp",
    "servers/db/cpu.wsp",
    "top.wsp",
]
NOT_LEAVES = [
    ".hidden/x.wsp",
    "a/.tmp.wsp",
    "a/.git/z.wsp",
    "_tagged/ab/cd/x;y=z.wsp",
    "notes.txt",
    "a/f.wsp.tmp",
    "servers/.wsp",
]


def touch(root: Path, relative: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def age(root: Path, offset: int = 0) -> None:
    """Every folder's mtime set to a settled past time (`offset` makes it differ)."""
    for folder, _, _ in os.walk(root):
        os.utime(folder, ns=(OLD_NS + offset, OLD_NS + offset))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "whisper"
    for relative in LEAVES + NOT_LEAVES:
        touch(base, relative)
    age(base)
    return base


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders the index lists with os.scandir, in order (only the index module's
    `os` is wrapped, so shutil and friends are not counted)."""
    listed: list[str] = []

    class CountingOs:
        def __getattr__(self, name: str):
            return getattr(os, name)

        @staticmethod
        def scandir(path):
            listed.append(os.fspath(path))
            return os.scandir(path)

    monkeypatch.setattr(index_module, "os", CountingOs())
    return listed


def relative(root: Path, paths: list[str]) -> list[str]:
    return sorted(os.path.relpath(p, root) for p in paths)


# -- find --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "found"), [
    # plain names: branches and leaves
    ("a", [("a", False)]),
    ("top", [("top", True)]),
    ("servers.db.cpu", [("servers.db.cpu", True)]),
    ("servers.db", [("servers.db", False)]),
    # a name both folder and file is reported once, as a leaf
    ("a.b", [("a.b", True)]),
    ("a.*", [("a._tagged", False), ("a.b", True), ("a.e", True)]),
    ("a.b.*", [("a.b.c", True), ("a.b.d", True)]),
    # every wildcard kind, within one node
    ("*", [("a", False), ("servers", False), ("top", True)]),
    ("servers.*", [("servers.db", False), ("servers.web-01", False),
                   ("servers.web-02", False)]),
    ("servers.*.cpu", [("servers.db.cpu", True), ("servers.web-01.cpu", True),
                       ("servers.web-02.cpu", True)]),
    ("servers.web-0?.cpu", [("servers.web-01.cpu", True), ("servers.web-02.cpu", True)]),
    ("servers.web-0[2-9].*", [("servers.web-02.cpu", True), ("servers.web-02.mem", True)]),
    ("servers.web-0[1].cpu", [("servers.web-01.cpu", True)]),
    ("servers.[!w]*.cpu", [("servers.db.cpu", True)]),
    ("servers.{db,web-01}.cpu", [("servers.db.cpu", True), ("servers.web-01.cpu", True)]),
    ("servers.{db,nope}.cpu", [("servers.db.cpu", True)]),
    ("servers.web-{01,02}.{cpu,mem}", [("servers.web-01.cpu", True),
                                       ("servers.web-02.cpu", True),
                                       ("servers.web-02.mem", True)]),
    ("servers.*b*.cpu", [("servers.db.cpu", True), ("servers.web-01.cpu", True),
                         ("servers.web-02.cpu", True)]),
    ("*.*.cpu", [("servers.db.cpu", True), ("servers.web-01.cpu", True),
                 ("servers.web-02.cpu", True)]),
    ("s*s.w*", [("servers.web-01", False), ("servers.web-02", False)]),
    # a `*` never crosses a dot
    ("servers.*", [("servers.db", False), ("servers.web-01", False),
                   ("servers.web-02", False)]),
    ("*.cpu", []),
    # nothing there
    ("nothing", []),
    ("nothing.*", []),
    ("a.b.c.d", []),
    ("top.x", []),
    ("a.z*", []),
    # hidden files and folders, the top `_tagged` folder and non-whisper files
    (".hidden", []),
    (".hidden.x", []),
    ("a..tmp", []),
    ("_tagged.*", []),
    ("_tagged", []),
    ("notes", []),
    ("a.f", []),
    ("a._tagged.y", [("a._tagged.y", True)]),
])
def test_find(root: Path, pattern: str, found: list[tuple[str, bool]]) -> None:
    assert MetricIndex(root).find(pattern) == found


def test_leaves(root: Path) -> None:
    assert MetricIndex(root).leaves() == sorted(
        path[:-4].replace("/", ".") for path in LEAVES)


def test_missing_root_is_empty(tmp_path: Path) -> None:
    index = MetricIndex(tmp_path / "nowhere")
    assert index.find("*") == []
    assert index.leaves() == []


def test_first_use_lists_every_folder_once(root: Path, scans: list[str]) -> None:
    index = MetricIndex(root)
    index.find("a.*")
    index.find("servers.*")
    index.leaves()
    # every folder but the hidden ones and the top `_tagged`
    assert relative(root, scans) == [
        ".", "a", "a/_tagged", "a/b", "servers", "servers/db", "servers/web-01",
        "servers/web-02"]


# -- refresh -----------------------------------------------------------------------------------


def test_refresh_without_changes_lists_nothing(root: Path, scans: list[str]) -> None:
    index = MetricIndex(root)
    index.refresh()
    scans.clear()
    index.refresh()
    index.refresh()
    assert scans == []
    assert index.find("servers.*.cpu") == [
        ("servers.db.cpu", True), ("servers.web-01.cpu", True), ("servers.web-02.cpu", True)]


def settle(root: Path, folder: str, offset: int) -> None:
    """One folder's mtime set back to a settled time different from before."""
    os.utime(root / folder, ns=(OLD_NS + offset, OLD_NS + offset))


def test_refresh_relists_only_the_changed_folder(root: Path, scans: list[str]) -> None:
    index = MetricIndex(root)
    index.refresh()
    touch(root, "servers/web-01/mem.wsp")
    settle(root, "servers/web-01", 1)
    scans.clear()
    index.refresh()
    assert relative(root, scans) == ["servers/web-01"]
    assert ("servers.web-01.mem", True) in index.find("servers.*.*")
    scans.clear()
    index.refresh()
    assert scans == []


def test_refresh_picks_up_a_new_folder(root: Path, scans: list[str]) -> None:
    index = MetricIndex(root)
    index.refresh()
    touch(root, "servers/cache/hits.wsp")
    settle(root, "servers", 1)
    settle(root, "servers/cache", 1)
    scans.clear()
    index.refresh()
    # the parent, whose mtime changed, and the new folder itself
    assert relative(root, scans) == ["servers", "servers/cache"]
    assert index.find("servers.cache.*") == [("servers.cache.hits", True)]
    assert ("servers.cache", False) in index.find("servers.*")


def test_refresh_picks_up_a_new_top_folder(root: Path, scans: list[str]) -> None:
    index = MetricIndex(root)
    index.refresh()
    touch(root, "z/y/x.wsp")
    age(root / "z", 1)
    settle(root, ".", 1)
    scans.clear()
    index.refresh()
    assert relative(root, scans) == [".", "z", "z/y"]
    assert index.find("z.y.x") == [("z.y.x", True)]
    assert index.leaves()[-1] == "z.y.x"


def test_refresh_sees_a_removed_file(root: Path, scans: list[str]) -> None:
    index = MetricIndex(root)
    index.refresh()
    (root / "a" / "e.wsp").unlink()
    settle(root, "a", 1)
    scans.clear()
    index.refresh()
    assert relative(root, scans) == ["a"]
    assert index.find("a.*") == [("a._tagged", False), ("a.b", True)]
    assert "a.e" not in index.leaves()


def test_refresh_sees_a_removed_folder(root: Path, scans: list[str]) -> None:
    index = MetricIndex(root)
    index.refresh()
    shutil.rmtree(root / "servers" / "db")
    settle(root, "servers", 1)
    scans.clear()
    index.refresh()
    assert relative(root, scans) == ["servers"]
    assert index.find("servers.*") == [("servers.web-01", False), ("servers.web-02", False)]
    assert index.find("servers.db.cpu") == []


def test_refresh_when_the_file_of_a_folder_and_file_name_goes(root: Path) -> None:
    index = MetricIndex(root)
    index.refresh()
    (root / "a" / "b.wsp").unlink()
    settle(root, "a", 1)
    index.refresh()
    # only the folder is left: a branch now
    assert index.find("a.b") == [("a.b", False)]


def test_refresh_after_the_root_disappears(root: Path) -> None:
    index = MetricIndex(root)
    index.refresh()
    shutil.rmtree(root)
    index.refresh()
    assert index.find("*") == []
    assert index.leaves() == []


def test_a_folder_changed_just_now_is_listed_again(root: Path, scans: list[str]) -> None:
    """A file created in the same timestamp tick as the listing leaves the folder's mtime
    unchanged; an mtime that recent is not trusted, so the next refresh lists again."""
    index = MetricIndex(root)
    touch(root, "servers/db/new1.wsp")  # servers/db's mtime is now
    index.refresh()
    stamp = (root / "servers" / "db").stat().st_mtime_ns
    touch(root, "servers/db/new2.wsp")
    os.utime(root / "servers" / "db", ns=(stamp, stamp))  # as if in the same tick
    scans.clear()
    index.refresh()
    assert relative(root, scans) == ["servers/db"]
    assert index.find("servers.db.new*") == [
        ("servers.db.new1", True), ("servers.db.new2", True)]


def test_an_unchanged_settled_folder_is_trusted(root: Path) -> None:
    """The other side: a settled mtime that did not move means no re-listing, even if
    (impossibly, here forced) a file appeared."""
    index = MetricIndex(root)
    index.refresh()
    touch(root, "servers/db/sneaky.wsp")
    settle(root, "servers/db", 0)  # the mtime it had at the listing
    index.refresh()
    assert index.find("servers.db.sneaky") == []


# -- max_age -----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_max_age_refreshes_lazily(root: Path, scans: list[str]) -> None:
    clock = FakeClock()
    index = MetricIndex(root, max_age=10, clock=clock)
    assert index.find("a.e") == [("a.e", True)]  # first use lists the tree
    touch(root, "a/new.wsp")
    settle(root, "a", 1)
    scans.clear()
    clock.now = 110.0  # exactly max_age old: still fresh enough
    assert index.find("a.new") == []
    assert scans == []
    clock.now = 110.5
    assert index.find("a.new") == [("a.new", True)]
    assert relative(root, scans) == ["a"]
    scans.clear()
    clock.now = 115.0  # refreshed at 110.5: fresh again
    index.find("a.*")
    assert scans == []


def test_without_max_age_only_refresh_updates(root: Path) -> None:
    clock = FakeClock()
    index = MetricIndex(root, clock=clock)
    assert index.find("a.new") == []
    touch(root, "a/new.wsp")
    settle(root, "a", 1)
    clock.now = 10**9
    assert index.find("a.new") == []
    index.refresh()
    assert index.find("a.new") == [("a.new", True)]
