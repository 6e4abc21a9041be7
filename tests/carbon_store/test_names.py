"""Metric names: tag normalization, refusal of unsafe names, paths on disk."""

import hashlib
import os

import pytest

from carbon_store.names import BadName, metric_of, normalize, relative_path


@pytest.mark.parametrize("raw, normal", [
    ("a.b.c", "a.b.c"),
    ("cpu;host=a;dc=x", "cpu;dc=x;host=a"),
    ("cpu;b=1;a=2;b=3", "cpu;a=2;b=3"),  # the last value of a tag wins
    ("~cpu;a=1", "cpu;a=1"),
    ("a-b_c.d:e", "a-b_c.d:e"),
    ("unicode.ünï", "unicode.ünï"),
])
def test_normalize(raw, normal):
    assert normalize(raw) == normal


@pytest.mark.parametrize("raw", [
    "", "a..b", ".a", "a.", "a/b", "../etc/passwd", "a.\x00.b", "a\x00b",
    "x" * 300, ("a." * 3000) + "b",
    "cpu;novalue", "cpu;=v", "cpu;a=", "cpu;a!=1", "cpu;a=~x", ";a=1", "cpu;a=1;",
])
def test_refused(raw):
    with pytest.raises(BadName):
        normalize(raw)


def test_untagged_path_and_back():
    assert relative_path("a.b.c") == os.path.join("a", "b", "c.wsp")
    assert metric_of(os.path.join("a", "b", "c.wsp")) == "a.b.c"


def test_tagged_path_is_graphite_webs_hash_layout():
    name = "cpu;dc=x;host=a"
    digest = hashlib.sha256(name.encode()).hexdigest()
    assert relative_path(name) == os.path.join("_tagged", digest[:3], digest[3:6],
                                               digest + ".wsp")
    assert metric_of(relative_path(name)) is None


def test_no_name_escapes_the_storage_directory():
    # Whatever passes normalize maps under the root.
    for raw in ("a.b", "x;y=../../z", "tag;t=/etc/passwd", "dots.in.name"):
        path = os.path.normpath(os.path.join("/root", relative_path(normalize(raw))))
        assert path.startswith("/root/")
