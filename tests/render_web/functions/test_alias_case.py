"""upper() and lower(): only the name changes; path expression and tags stay."""

from __future__ import annotations

from render_web.functions import alias
from tests.render_web.functions.test_transform import CTX, ts


def test_upper_whole_name_and_positions() -> None:
    source = ts("a.bc.d", [1], path_expression="a.*.d")
    [out] = alias.upper(CTX, [source])
    assert out.name == "A.BC.D"
    assert out.path_expression == "a.*.d" and out.tags == {"name": "a.bc.d"}
    # first and last characters; a position past the end is ignored
    assert alias.upper(CTX, [source], 0, -1, 100)[0].name == "A.bc.D"
    assert source.name == "a.bc.d"


def test_lower_whole_name_and_positions() -> None:
    source = ts("Front.END", [1])
    assert alias.lower(CTX, [source])[0].name == "front.end"
    assert alias.lower(CTX, [source], 0, -2)[0].name == "front.EnD"
    assert alias.lower(CTX, [source], -100)[0].name == "Front.END"
