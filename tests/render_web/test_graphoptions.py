from __future__ import annotations

import math

import pytest

from render_web.functions.registry import InputError
from render_web.graphoptions import (
    COLOR_NAMES,
    TEMPLATES,
    GraphOptions,
    format_units,
    parse_color,
    parse_graph_options,
)


def rgba(r: int, g: int, b: int, a: float = 1.0) -> tuple[float, float, float, float]:
    return (r / 255, g / 255, b / 255, a)


# -- colours ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("blue", rgba(100, 100, 255)),
    ("red", rgba(200, 0, 50)),
    ("Green", rgba(0, 200, 0)),            # names are case-insensitive
    ("darkgrey", rgba(111, 111, 111)),
    ("ff0000", rgba(255, 0, 0)),
    ("#00ff00", rgba(0, 255, 0)),
    ("%230000ff", rgba(0, 0, 255)),        # a URL-encoded '#'
    ("6464ffaa", rgba(100, 100, 255, 0xAA / 255)),
    ("#FFFFFF80", rgba(255, 255, 255, 128 / 255)),
])
def test_parse_color(text, expected):
    assert parse_color(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["teal", "fff", "12345", "ggggggg", "1234567", "#12345678ab", ""])
def test_parse_color_refuses(text):
    with pytest.raises(InputError, match="invalid color"):
        parse_color(text, "bgcolor")


def test_color_table_is_graphites():
    assert len(COLOR_NAMES) == 22
    assert COLOR_NAMES["rose"] == (200, 150, 200)
    assert COLOR_NAMES["aqua"] == (0, 150, 150)
    assert COLOR_NAMES["cyan"] == (0, 255, 255)


# -- defaults ---------------------------------------------------------------------------

def test_defaults():
    options = parse_graph_options({})
    assert options == GraphOptions()
    assert (options.width, options.height, options.margin) == (330, 250, 10)
    assert options.line_width == 1.2
    assert options.line_mode == "slope"
    assert options.area_mode == "none"
    assert options.y_unit_system == "si"
    assert options.hide_legend is None          # decided by the number of series
    assert options.pie_mode == "average"
    assert options.graph_type == "line"
    assert options.y_divisors == (4, 5, 6)
    # graphite's default look
    assert options.background == rgba(255, 255, 255)
    assert options.foreground == rgba(0, 0, 0)
    assert options.major_grid == rgba(200, 150, 200)
    assert options.minor_grid == rgba(175, 175, 175)
    assert options.colors[:3] == (rgba(100, 100, 255), rgba(0, 200, 0), rgba(200, 0, 50))
    assert len(options.colors) == 12


def test_unrelated_and_empty_and_default_values_are_ignored():
    options = parse_graph_options({"target": "a.b", "from": "-1h", "width": "",
                                   "height": "default", "title": "Default"})
    assert options.width == 330
    assert options.height == 250
    assert options.title == ""   # "default" in any case means "not given"
    assert parse_graph_options({"title": "default view"}).title == "default view"


# -- every option -------------------------------------------------------------------------

@pytest.mark.parametrize(("param", "text", "field", "expected"), [
    ("width", "800", "width", 800),
    ("width", "800.7", "width", 800),             # graphite int()s what it reads
    ("height", "600", "height", 600),
    ("margin", "5", "margin", 5),
    ("margin", "-3", "margin", 10),               # negative margins fall back to 10
    ("bgcolor", "black", "bgcolor", rgba(0, 0, 0)),
    ("fgcolor", "#ffffff", "fgcolor", rgba(255, 255, 255)),
    ("fontName", "Serif", "font_name", "Serif"),
    ("fontSize", "12", "font_size", 12.0),
    ("fontBold", "true", "font_bold", True),
    ("fontItalic", "True", "font_italic", True),
    ("fontBold", "false", "font_bold", False),
    ("colorList", "red,00ff00", "color_list", (rgba(200, 0, 50), rgba(0, 255, 0))),
    ("colorList", "red%2Cblue", "color_list", (rgba(200, 0, 50), rgba(100, 100, 255))),
    ("template", "classic", "template", "classic"),
    ("yAxisSide", "right", "y_axis_side", "right"),
    ("title", "CPU load", "title", "CPU load"),
    ("title", "CPU+load", "title", "CPU load"),  # decoded once more, as graphite does
    ("title", "100%25", "title", "100%"),
    ("vtitle", "percent", "vtitle", "percent"),
    ("vtitleRight", "bytes", "vtitle_right", "bytes"),
    ("lineMode", "staircase", "line_mode", "staircase"),
    ("lineMode", "connected", "line_mode", "connected"),
    ("lineWidth", "2.5", "line_width", 2.5),
    ("hideLegend", "false", "hide_legend", False),
    ("hideLegend", "true", "hide_legend", True),
    ("hideLegend", "1", "hide_legend", True),
    ("hideLegend", "0", "hide_legend", False),
    ("hideAxes", "true", "hide_axes", True),
    ("hideXAxis", "true", "hide_x_axis", True),
    ("hideYAxis", "true", "hide_y_axis", True),
    ("hideGrid", "true", "hide_grid", True),
    ("hideNullFromLegend", "true", "hide_null_from_legend", True),
    ("uniqueLegend", "true", "unique_legend", True),
    ("minXStep", "0.5", "min_x_step", 0.5),
    ("majorGridLineColor", "red", "major_grid_line_color", rgba(200, 0, 50)),
    ("minorGridLineColor", "000000", "minor_grid_line_color", rgba(0, 0, 0)),
    ("minorY", "3", "minor_y", 3),
    ("graphOnly", "true", "graph_only", True),
    ("yMin", "-5", "y_min", -5.0),
    ("yMax", "100.5", "y_max", 100.5),
    ("yMax", "max", "y_max", None),
    ("yLimit", "90", "y_limit", 90.0),
    ("yStep", "10", "y_step", 10.0),
    ("yDivisors", "2,3", "y_divisors", (2, 3)),
    ("yUnitSystem", "binary", "y_unit_system", "binary"),
    ("yUnitSystem", "SEC", "y_unit_system", "sec"),
    ("yUnitSystem", "msec", "y_unit_system", "msec"),
    ("yUnitSystem", "none", "y_unit_system", "none"),
    ("logBase", "10", "log_base", 10.0),
    ("logBase", "2", "log_base", 2.0),
    ("logBase", "e", "log_base", math.e),
    ("areaMode", "stacked", "area_mode", "stacked"),
    ("areaMode", "first", "area_mode", "first"),
    ("areaMode", "all", "area_mode", "all"),
    ("areaAlpha", "0.3", "area_alpha", 0.3),
    ("drawNullAsZero", "true", "draw_null_as_zero", True),
    ("connectedLimit", "3", "connected_limit", 3),
    ("xFormat", "%d %H", "x_format", "%d %H"),
    ("yMinLeft", "1", "y_min_left", 1.0),
    ("yMinRight", "2", "y_min_right", 2.0),
    ("yMaxLeft", "3", "y_max_left", 3.0),
    ("yMaxRight", "4", "y_max_right", 4.0),
    ("yLimitLeft", "5", "y_limit_left", 5.0),
    ("yLimitRight", "6", "y_limit_right", 6.0),
    ("yStepLeft", "7", "y_step_left", 7.0),
    ("yStepRight", "8", "y_step_right", 8.0),
    ("leftWidth", "2", "left_width", 2.0),
    ("rightWidth", "3", "right_width", 3.0),
    ("leftColor", "red", "left_color", rgba(200, 0, 50)),
    ("rightColor", "blue", "right_color", rgba(100, 100, 255)),
    ("leftDashed", "4", "left_dashed", 4.0),
    ("rightDashed", "true", "right_dashed", 5.0),
    ("rightDashed", "false", "right_dashed", None),
    ("graphType", "pie", "graph_type", "pie"),
    ("pieMode", "maximum", "pie_mode", "maximum"),
    ("pieMode", "minimum", "pie_mode", "minimum"),
    ("valueLabels", "number", "value_labels", "number"),
    ("valueLabelsMin", "1", "value_labels_min", 1.0),
    ("valueLabelsColor", "white", "value_labels_color", rgba(255, 255, 255)),
    ("pieLabels", "rotated", "pie_labels", "rotated"),
])
def test_each_option(param, text, field, expected):
    options = parse_graph_options({param: text})
    value = getattr(options, field)
    if isinstance(expected, float):
        assert value == pytest.approx(expected)
    elif isinstance(expected, tuple) and expected and isinstance(expected[0], tuple):
        assert len(value) == len(expected)
        for got, want in zip(value, expected, strict=True):
            assert got == pytest.approx(want)
    elif isinstance(expected, tuple) and expected and isinstance(expected[0], float):
        assert value == pytest.approx(expected)
    else:
        assert value == expected


def test_deprecated_names_apply_only_without_the_new_ones():
    options = parse_graph_options({"min": "1", "max": "9", "thickness": "3"})
    assert (options.y_min, options.y_max, options.line_width) == (1.0, 9.0, 3.0)
    options = parse_graph_options({"min": "1", "yMin": "2", "thickness": "3", "lineWidth": "4"})
    assert (options.y_min, options.line_width) == (2.0, 4.0)


def test_templates_change_the_look():
    classic = parse_graph_options({"template": "classic"})
    assert classic.background == rgba(0, 0, 0)
    assert classic.foreground == rgba(255, 255, 255)
    # an unknown template is graphite's default look, not an error
    assert parse_graph_options({"template": "nope"}).background == rgba(255, 255, 255)
    # explicit colours win over the template
    options = parse_graph_options({"template": "classic", "bgcolor": "red"})
    assert options.background == rgba(200, 0, 50)
    grafana = parse_graph_options({"template": "grafana"})
    assert grafana.colors[0] == pytest.approx(rgba(0x7E, 0xB2, 0x6D))
    assert set(TEMPLATES) >= {"default", "classic", "solarized-dark"}


# -- bad values ---------------------------------------------------------------------------

@pytest.mark.parametrize(("param", "text", "message"), [
    ("width", "abc", "width"),
    ("width", "0", "width"),
    ("height", "-5", "height"),
    ("width", "inf", "width"),
    ("bgcolor", "notacolor", "bgcolor"),
    ("fgcolor", "12", "fgcolor"),
    ("colorList", "red,nope", "colorList"),
    ("colorList", ",", "colorList"),
    ("fontSize", "0", "fontSize"),
    ("fontBold", "maybe", "fontBold"),
    ("lineMode", "curvy", "lineMode"),
    ("lineWidth", "-1", "lineWidth"),
    ("lineWidth", "thick", "lineWidth"),
    ("hideLegend", "sometimes", "hideLegend"),
    ("minXStep", "0", "minXStep"),
    ("yMin", "low", "yMin"),
    ("yMax", "nan", "yMax"),
    ("yStep", "0", "yStep"),
    ("yDivisors", "4,x", "yDivisors"),
    ("yDivisors", "0,2", "yDivisors"),
    ("yUnitSystem", "imperial", "yUnitSystem"),
    ("logBase", "1", "logBase"),
    ("logBase", "0.5", "logBase"),
    ("logBase", "ten", "logBase"),
    ("areaMode", "filled", "areaMode"),
    ("areaAlpha", "x", "areaAlpha"),
    ("connectedLimit", "-1", "connectedLimit"),
    ("graphType", "bar", "graphType"),
    ("pieMode", "median", "pieMode"),
    ("yAxisSide", "top", "yAxisSide"),
    ("valueLabels", "all", "valueLabels"),
    ("leftColor", "zz", "leftColor"),
    ("min", "x", "min"),
])
def test_bad_values_are_refused_naming_the_parameter(param, text, message):
    with pytest.raises(InputError, match=message):
        parse_graph_options({param: text})


def test_options_are_immutable():
    options = parse_graph_options({})
    with pytest.raises(AttributeError):
        options.width = 10  # type: ignore[misc]


# -- unit formatting ----------------------------------------------------------------------

@pytest.mark.parametrize(("value", "step", "system", "expected"), [
    (1500.0, None, "si", (1.5, "k")),
    (2_000_000.0, None, "si", (2.0, "M")),
    (999.0, None, "si", (999.0, "")),
    (1536.0, None, "binary", (1.5, "Ki")),
    (3 * 1024.0**3, None, "binary", (3.0, "Gi")),
    (7200.0, None, "sec", (2.0, "H")),
    (90.0, None, "sec", (1.5, "m")),
    (1500.0, None, "msec", (1.5, "s")),
    (5000.0, None, "none", (5000.0, "")),
    # the step keeps small prefixes off labels of a fine axis: 1500 with step 500
    (1500.0, 500.0, "si", (1500.0, "")),
    (-2000.0, None, "si", (-2.0, "k")),
])
def test_format_units(value, step, system, expected):
    scaled, prefix = format_units(value, step, system)
    assert prefix == expected[1]
    assert scaled == pytest.approx(expected[0])


def test_format_units_with_units_and_unknown_system():
    assert format_units(1500.0, system="si", units="b") == (1.5, "kb")
    assert format_units(3.0, system="si", units="b") == (3.0, "b")
    with pytest.raises(InputError):
        format_units(1.0, system="imperial")
