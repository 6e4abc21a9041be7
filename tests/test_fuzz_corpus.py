"""Replay of the corpus the atheris run of bench/fuzz_parsers.py kept (and of the inputs
that made it fail), through the same parser entry points and the same properties: the
statsd ingest, carbon's plaintext intake and its pickle intake never raise, never count
below zero, and the unpickler resolves no global.

The properties are imported from the harness itself (which needs atheris only to fuzz),
so the replay cannot drift from what was fuzzed.
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import pytest

from carbon_store.wire import safe_loads
from statsd_daemon.parser import BAD, COUNTER, parse_line

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"
TARGETS = {"statsd": "statsd", "carbon_lines": "carbon-lines", "carbon_pickle": "carbon-pickle"}


def _harness():
    spec = importlib.util.spec_from_file_location("fuzz_parsers", ROOT / "bench" /
                                                  "fuzz_parsers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HARNESS = _harness()
CASES = sorted((folder, path.name) for folder in TARGETS
               for path in (CORPUS / folder).iterdir() if path.is_file())


def test_corpus_is_kept_small():
    for folder in TARGETS:
        files = [p for p in (CORPUS / folder).iterdir() if p.is_file()]
        assert 0 < len(files) <= 250, folder
        assert all(p.stat().st_size < 4096 for p in files), folder


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(("folder", "name"), CASES)
def test_replay(folder: str, name: str):
    HARNESS.CHECKS[TARGETS[folder]]((CORPUS / folder / name).read_bytes())


# -- the findings, spelled out ----------------------------------------------------------

def _only(line: str) -> tuple:
    (op,) = parse_line(line)
    return op


def test_statsd_separator_controls_are_not_a_number():
    # U+001C..U+001F match the regex's `\s` but float() does not strip them: this used
    # to raise ValueError out of ingest.
    assert _only("a:\x1c1|c")[:2] == (BAD, "counter value is not a number")
    assert _only("a:1\x1f|g")[:2] == (BAD, "gauge value is not a number")


def test_statsd_rate_that_overflows_the_count_is_refused():
    # 1e308 / 0.5 = 2e308 > max float: the counter would have been +inf.
    assert _only("a:1e308|c|@0.5")[:2] == (BAD, "counter value out of range")
    # 1 / 1e-320 overflows: a subnormal rate gave an infinite count and timer weight.
    assert _only("a:1|c|@1e-320")[:2] == (BAD, "sample rate too small")
    assert _only("a:1|ms|@1e-310")[:2] == (BAD, "sample rate too small")
    # 8e307 / 0.5 = 1.6e308 still fits.
    assert _only("a:8e307|c|@0.5") == (COUNTER, "a", 1.6e308, 0.0)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_honest_memo_indices_still_load(protocol: int):
    # 300 distinct tuples: protocols 1-3 store them with LONG_BINPUT (index >= 256).
    points = [(f"a.b{i}", (1_700_000_000 + i, i / 4)) for i in range(300)]
    assert safe_loads(pickle.dumps(points, protocol=protocol)) == points


def test_pickle_pushed_builder_is_inert():
    # `_codecs.encode` pushed but never called: it comes out as a function that only
    # builds bytes, and the point holding it is refused.
    from carbon_store.wire import parse_pickle

    payload = b"](X\x01\x00\x00\x00aJ\x01\x00\x00\x00c_codecs\nencode\n\x86\x86e."
    points, refused = parse_pickle(payload, lambda: 0.0)
    assert points == [] and refused == ["value is not a number"]
