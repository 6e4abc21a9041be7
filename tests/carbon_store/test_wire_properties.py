"""Property-based tests of the safe unpickler: data comes out, code never runs.

Pickles of the shapes a sender can produce without a global (None, booleans, numbers,
strings, bytes, lists, tuples, dicts) round-trip under every protocol; a pickle that
names any other global, by any opcode, is refused before anything is imported or called.
"""

from __future__ import annotations

import builtins
import contextlib
import copyreg
import io
import math
import os
import pickle
import pickletools
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbon_store.cache import MetricCache
from carbon_store.intake import Intake
from carbon_store.wire import BadInput, parse_pickle, safe_loads

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
PROTOCOLS = st.integers(0, pickle.HIGHEST_PROTOCOL)

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False), st.text(max_size=10), st.binary(max_size=10),
)
SHAPES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), inner, max_size=4)),
    max_leaves=25,
)


def _same(a: object, b: object) -> bool:
    """Equal, with the same types all the way down (1 == 1.0 == True would hide a change)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(_same, a, b))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)  # type: ignore
    if isinstance(a, float):
        return math.copysign(1, a) == math.copysign(1, b) and a == b  # type: ignore
    return a == b


@PROPERTY
@given(SHAPES, PROTOCOLS)
def test_allowed_shapes_round_trip(value: object, protocol: int) -> None:
    assert _same(safe_loads(pickle.dumps(value, protocol=protocol)), value)


@PROPERTY
@given(st.binary(max_size=200))
def test_random_bytes_are_data_or_bad_input(payload: bytes) -> None:
    with contextlib.suppress(BadInput):
        safe_loads(payload)


# -- globals, by every opcode that names one -----------------------------------------

IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,15}", fullmatch=True)


def _global_pickles(module: str, name: str) -> list[bytes]:
    """A pickle per opcode that resolves a global: GLOBAL, INST, STACK_GLOBAL (+ REDUCE,
    OBJ, NEWOBJ, NEWOBJ_EX and BUILD after it, which would call or fill it)."""
    m, n = module.encode(), name.encode()
    short = (pickle.SHORT_BINUNICODE + bytes([len(m)]) + m + pickle.MEMOIZE
             + pickle.SHORT_BINUNICODE + bytes([len(n)]) + n + pickle.MEMOIZE)
    proto4 = pickle.PROTO + b"\x04"
    return [
        pickle.GLOBAL + m + b"\n" + n + b"\n" + pickle.STOP,
        pickle.GLOBAL + m + b"\n" + n + b"\n" + b"(S'x'\ntR" + pickle.STOP,
        pickle.MARK + pickle.INST + m + b"\n" + n + b"\n" + pickle.STOP,
        proto4 + short + pickle.STACK_GLOBAL + pickle.STOP,
        proto4 + short + pickle.STACK_GLOBAL + pickle.EMPTY_TUPLE + pickle.NEWOBJ + pickle.STOP,
        proto4 + short + pickle.STACK_GLOBAL + pickle.EMPTY_TUPLE + pickle.EMPTY_DICT
        + pickle.NEWOBJ_EX + pickle.STOP,
        pickle.MARK + proto4 + short + pickle.STACK_GLOBAL + pickle.OBJ + pickle.STOP,
        b"]" + pickle.GLOBAL + m + b"\n" + n + b"\n" + pickle.APPEND + pickle.STOP,
    ]


@PROPERTY
@given(IDENT, IDENT)
def test_any_global_is_refused_without_import(module: str, name: str) -> None:
    if (module, name) in {("_codecs", "encode"), ("builtins", "bytes"), ("__builtin__", "bytes")}:
        return  # the two that only rebuild bytes (tested below)
    before = set(sys.modules)
    for payload in _global_pickles(module, name):
        with pytest.raises(BadInput, match="not allowed"):
            safe_loads(payload)
    assert set(sys.modules) == before  # nothing was imported to resolve it


@pytest.mark.parametrize("module, name", [
    ("os", "system"), ("posix", "system"), ("nt", "system"), ("subprocess", "Popen"),
    ("subprocess", "call"), ("subprocess", "check_output"), ("builtins", "eval"),
    ("builtins", "exec"), ("__builtin__", "eval"), ("builtins", "getattr"),
    ("builtins", "__import__"), ("builtins", "open"), ("builtins", "bytearray"),
    ("builtins", "set"), ("copyreg", "_reconstructor"), ("pickle", "loads"),
    ("_codecs", "decode"), ("codecs", "encode"), ("_codecs", "escape_encode"),
])
def test_dangerous_globals_are_refused(module: str, name: str) -> None:
    for payload in _global_pickles(module, name):
        with pytest.raises(BadInput, match=re.escape(f"global {module}.{name} is not allowed")):
            safe_loads(payload)


def test_extension_registry_cannot_smuggle_a_global() -> None:
    """EXT1/2/4 look a global up in copyreg's registry; it must be refused just the same."""
    code = 0x7FF0
    copyreg.add_extension("os", "system", code)
    try:
        payload = pickle.PROTO + b"\x02" + pickle.EXT2 + struct.pack("<H", code) + pickle.STOP
        with pytest.raises(BadInput, match=r"global os\.system is not allowed"):
            safe_loads(payload)
    finally:
        copyreg.remove_extension("os", "system", code)


def test_persistent_ids_are_refused() -> None:
    with pytest.raises(BadInput, match="persistent"):
        safe_loads(pickle.PERSID + b"0\n" + pickle.STOP)
    with pytest.raises(BadInput, match="persistent"):
        safe_loads(pickle.PROTO + b"\x02" + pickle.NONE + pickle.BINPERSID + pickle.STOP)


@pytest.mark.parametrize("payload", [
    # bytes() is let through for protocol 0-2's b"", and only with no argument (a size
    # would allocate, a str would need an encoding)
    pickle.GLOBAL + b"__builtin__\nbytes\n(I1000000000\ntR.",
    pickle.GLOBAL + b"builtins\nbytes\n(S'x'\nS'utf-8'\ntR.",
    # _codecs.encode is let through for protocol 2's bytes, and only as latin1 of a str
    pickle.GLOBAL + b"_codecs\nencode\n(S'x'\nS'rot13'\ntR.",
    pickle.GLOBAL + b"_codecs\nencode\n(I1\nS'latin1'\ntR.",
    pickle.GLOBAL + b"_codecs\nencode\n(S'x'\nS'latin1'\nS'strict'\nS'more'\ntR.",
])
def test_bytes_globals_only_rebuild_bytes(payload: bytes) -> None:
    with pytest.raises(BadInput):
        safe_loads(payload)


# -- pickles built to run a command ----------------------------------------------------

RAN: list[object] = []


def _record(*args: object) -> None:
    RAN.append(args)


class Evil:
    """Pickles as a call of `func(*args)`: what unpickling would do if not refused."""

    def __init__(self, func: object, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def _evil_objects(marker: Path) -> list[object]:
    touch = f"touch {marker}"
    code = f"open({str(marker)!r}, 'w').close()"
    return [
        Evil(os.system, touch),
        Evil(subprocess.call, ["touch", str(marker)]),
        Evil(subprocess.Popen, ["touch", str(marker)]),
        Evil(subprocess.check_output, touch, True),
        Evil(eval, code),
        Evil(exec, code),
        Evil(builtins.open, str(marker), "w"),
        Evil(_record, "called"),
        Evil(Path.touch, marker),
    ]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickles_that_run_commands_are_refused_and_never_run(tmp_path: Path,
                                                             protocol: int) -> None:
    marker = tmp_path / "pwned"
    RAN.clear()
    intake = Intake(MetricCache(), lambda: 0.0)
    for evil in _evil_objects(marker):
        alone = pickle.dumps(evil, protocol=protocol)
        # hidden inside an otherwise valid frame, as a name, a value, or a whole tuple
        framed = [
            pickle.dumps([("a.b", (1, 2)), evil], protocol=protocol),
            pickle.dumps([(evil, (1, 2))], protocol=protocol),
            pickle.dumps([("a.b", (1, evil))], protocol=protocol),
        ]
        for payload in [alone, *framed]:
            with pytest.raises(BadInput, match="not allowed"):
                safe_loads(payload)
            with pytest.raises(BadInput):
                parse_pickle(payload, lambda: 0.0)
            bad = intake.bad_lines
            assert intake.parse_pickle(payload) == []  # the valid tuple goes with the frame
            assert intake.bad_lines == bad + 1
    assert not marker.exists()
    assert RAN == []
    assert intake.cache.size == 0


def test_handwritten_protocol_0_command_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    pickletools.dis(payload, out=io.StringIO())  # it is a well-formed pickle
    with pytest.raises(BadInput, match=r"global os\.system is not allowed"):
        safe_loads(payload)
    assert not marker.exists()
