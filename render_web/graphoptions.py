"""graphite-web's image options (`width`, `bgcolor`, `areaMode`, ...) read from request
parameters into one immutable value the renderer draws from.

graphite-web types every parameter loosely (digits become ints, `true`/`false` booleans,
`default` or an empty value is ignored) and only fails, with a 500, when drawing. Here a
value is checked when it is read, so a bad one is a 400 naming the parameter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from render_web.functions.registry import InputError

# An RGBA colour, each channel in 0..1 (what matplotlib takes).
Color = tuple[float, float, float, float]

# graphite-web's colour names (glyph.py `colorAliases`, render_api.rst) as RGB.
COLOR_NAMES: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "blue": (100, 100, 255),
    "green": (0, 200, 0),
    "red": (200, 0, 50),
    "yellow": (255, 255, 0),
    "orange": (255, 165, 0),
    "purple": (200, 100, 255),
    "brown": (150, 100, 50),
    "cyan": (0, 255, 255),
    "aqua": (0, 150, 150),
    "gray": (175, 175, 175),
    "grey": (175, 175, 175),
    "magenta": (255, 0, 255),
    "pink": (255, 100, 100),
    "gold": (200, 200, 0),
    "rose": (200, 150, 200),
    "darkblue": (0, 0, 255),
    "darkgreen": (0, 255, 0),
    "darkred": (255, 0, 0),
    "darkgray": (111, 111, 111),
    "darkgrey": (111, 111, 111),
}

_HEX = re.compile(r"[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?")


@dataclass(frozen=True)
class Template:
    """A look: graphite's graphTemplates.conf sections (the shipped example's values)."""

    background: str
    foreground: str
    major_line: str
    minor_line: str
    line_colors: tuple[str, ...]


_CLASSIC_COLORS = ("blue", "green", "red", "purple", "brown", "yellow", "aqua", "grey",
                   "magenta", "pink", "gold", "rose")
_SOLARIZED_COLORS = ("268bd2aa", "859900aa", "dc322faa", "d33682aa", "db4b16aa", "b58900aa",
                     "2aa198aa", "6c71c4aa")
TEMPLATES: dict[str, Template] = {
    "default": Template("white", "black", "rose", "grey", _CLASSIC_COLORS),
    "classic": Template("black", "white", "white", "grey", _CLASSIC_COLORS),
    "noc": Template("black", "white", "white", "grey",
                    ("blue", "green", "red", "yellow", "purple", "brown", "aqua", "grey",
                     "magenta", "pink", "gold", "rose")),
    "solarized-light": Template("#fdf6e3", "#657b83", "#073642", "#586e75", _SOLARIZED_COLORS),
    "solarized-dark": Template("#002b36", "#839496", "#fdf6e3", "#eee8d5", _SOLARIZED_COLORS),
    "alphas": Template("white", "black", "grey", "rose", ("00ff00aa", "ff000077", "00337799")),
    "grafana": Template("white", "black", "rose", "grey",
                        ("#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1",
                         "#ba43a9", "#705da0", "#508642", "#cca300", "#447ebc")),
}

LINE_MODES = ("slope", "staircase", "connected")
AREA_MODES = ("none", "first", "all", "stacked")
PIE_MODES = ("average", "maximum", "minimum")
UNIT_SYSTEMS = ("si", "binary", "sec", "msec", "none")
GRAPH_TYPES = ("line", "pie")
VALUE_LABELS = ("none", "number", "percent")
PIE_LABELS = ("horizontal", "rotated")
AXIS_SIDES = ("left", "right")


def parse_color(text: str, what: str = "color") -> Color:
    """A graphite colour: a name from its table, or hex RRGGBB[AA] with or without `#`
    (or a URL-encoded `%23`)."""
    value = str(text).strip()
    if value.lower() in COLOR_NAMES:
        r, g, b = COLOR_NAMES[value.lower()]
        return (r / 255, g / 255, b / 255, 1.0)
    if value.startswith("%23"):
        value = value[3:]
    value = value.removeprefix("#")
    if not _HEX.fullmatch(value):
        raise InputError(f"{what}: invalid color {text!r} (a color name or hex RRGGBB[AA])")
    channels = [int(value[i:i + 2], 16) / 255 for i in range(0, len(value), 2)]
    if len(channels) == 3:
        channels.append(1.0)
    return (channels[0], channels[1], channels[2], channels[3])


@dataclass(frozen=True)
class GraphOptions:
    """Every image option; `None` means "not given" where graphite tells that apart."""

    width: int = 330
    height: int = 250
    margin: int = 10
    bgcolor: Color | None = None
    fgcolor: Color | None = None
    font_name: str = "Sans"
    font_size: float = 10.0
    font_bold: bool = False
    font_italic: bool = False
    color_list: tuple[Color, ...] | None = None
    template: str = "default"
    y_axis_side: str = "left"
    title: str = ""
    vtitle: str = ""
    vtitle_right: str = ""
    line_mode: str = "slope"
    line_width: float = 1.2
    hide_legend: bool | None = None
    hide_axes: bool = False
    hide_x_axis: bool = False
    hide_y_axis: bool = False
    hide_grid: bool = False
    hide_null_from_legend: bool = False
    unique_legend: bool = False
    min_x_step: float = 1.0
    major_grid_line_color: Color | None = None
    minor_grid_line_color: Color | None = None
    minor_y: int = 1
    graph_only: bool = False
    y_min: float | None = None
    y_max: float | None = None
    y_limit: float | None = None
    y_step: float | None = None
    y_divisors: tuple[int, ...] = (4, 5, 6)
    y_unit_system: str = "si"
    log_base: float | None = None
    area_mode: str = "none"
    area_alpha: float | None = None
    draw_null_as_zero: bool = False
    connected_limit: int | None = None
    x_format: str | None = None
    y_min_left: float | None = None
    y_min_right: float | None = None
    y_max_left: float | None = None
    y_max_right: float | None = None
    y_limit_left: float | None = None
    y_limit_right: float | None = None
    y_step_left: float | None = None
    y_step_right: float | None = None
    left_width: float | None = None
    right_width: float | None = None
    left_color: Color | None = None
    right_color: Color | None = None
    left_dashed: float | None = None
    right_dashed: float | None = None
    graph_type: str = "line"
    pie_mode: str = "average"
    value_labels: str = "percent"
    value_labels_min: float = 5.0
    value_labels_color: Color | None = None
    pie_labels: str = "horizontal"

    @property
    def look(self) -> Template:
        return TEMPLATES.get(self.template, TEMPLATES["default"])

    @property
    def background(self) -> Color:
        return self.bgcolor or parse_color(self.look.background)

    @property
    def foreground(self) -> Color:
        return self.fgcolor or parse_color(self.look.foreground)

    @property
    def major_grid(self) -> Color:
        return self.major_grid_line_color or parse_color(self.look.major_line)

    @property
    def minor_grid(self) -> Color:
        return self.minor_grid_line_color or parse_color(self.look.minor_line)

    @property
    def colors(self) -> tuple[Color, ...]:
        """The series colours, used in turn."""
        if self.color_list:
            return self.color_list
        return tuple(parse_color(c) for c in self.look.line_colors)


# -- value readers: each takes the parameter name and its text ---------------------------

def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{name}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"{name}: {text!r} is not a finite number") from None
        return int(value)


def _float(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name}: {text!r} is not a number") from None
    if math.isnan(value):
        raise InputError(f"{name}: {text!r} is not a number")
    return value


def _finite(name: str, text: str) -> float:
    value = _float(name, text)
    if not math.isfinite(value):
        raise InputError(f"{name}: {text!r} is not a finite number")
    return value


def _positive_int(name: str, text: str) -> int:
    value = _int(name, text)
    if value <= 0:
        raise InputError(f"{name}: must be a positive integer, not {text!r}")
    return value


def _positive(name: str, text: str) -> float:
    value = _finite(name, text)
    if value <= 0:
        raise InputError(f"{name}: must be greater than 0, not {text!r}")
    return value


def _non_negative(name: str, text: str) -> float:
    value = _finite(name, text)
    if value < 0:
        raise InputError(f"{name}: must not be negative, not {text!r}")
    return value


def _bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    try:
        # graphite turns digits into ints, which then count as true when non-zero.
        return bool(int(lowered))
    except ValueError:
        raise InputError(f"{name}: {text!r} is not a boolean (true or false)") from None


def _text(name: str, text: str) -> str:
    return text


def _title(name: str, text: str) -> str:
    # graphite decodes titles once more, so `title=CPU%2Busage` reads "CPU usage".
    return unquote_plus(text)


def _choice(options: tuple[str, ...]) -> Callable[[str, str], str]:
    def read(name: str, text: str) -> str:
        value = text.strip().lower()
        if value not in options:
            raise InputError(f"{name}: {text!r} is not one of {', '.join(options)}")
        return value
    return read


def _color(name: str, text: str) -> Color:
    return parse_color(text, name)


def _color_list(name: str, text: str) -> tuple[Color, ...]:
    parts = [p.strip() for p in unquote_plus(text).split(",") if p.strip()]
    if not parts:
        raise InputError(f"{name}: no colors given")
    return tuple(parse_color(p, name) for p in parts)


def _log_base(name: str, text: str) -> float:
    if text.strip().lower() == "e":
        return math.e
    value = _finite(name, text)
    if value <= 1:
        raise InputError(f"{name}: the logarithm base must be greater than 1 (or e)")
    return value


def _y_max(name: str, text: str) -> float | None:
    # `yMax=max` means "the data's maximum", which is what an unset yMax does too.
    if text.strip().lower() == "max":
        return None
    return _finite(name, text)


def _divisors(name: str, text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise InputError(f"{name}: {text!r} is not a comma-separated list of integers") from None
    if not values or min(values) < 1:
        raise InputError(f"{name}: divisors must be integers of at least 1")
    return values


def _dash(name: str, text: str) -> float | None:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return 5.0 if lowered == "true" else None
    value = _non_negative(name, text)
    return value or None


def _template(name: str, text: str) -> str:
    # Unknown templates fall back to the default look, as graphite does.
    return text.strip()


# graphite parameter -> (GraphOptions field, reader)
_READERS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "width": ("width", _positive_int),
    "height": ("height", _positive_int),
    "margin": ("margin", _int),
    "bgcolor": ("bgcolor", _color),
    "fgcolor": ("fgcolor", _color),
    "fontName": ("font_name", _text),
    "fontSize": ("font_size", _positive),
    "fontBold": ("font_bold", _bool),
    "fontItalic": ("font_italic", _bool),
    "colorList": ("color_list", _color_list),
    "template": ("template", _template),
    "yAxisSide": ("y_axis_side", _choice(AXIS_SIDES)),
    "title": ("title", _title),
    "vtitle": ("vtitle", _title),
    "vtitleRight": ("vtitle_right", _title),
    "lineMode": ("line_mode", _choice(LINE_MODES)),
    "lineWidth": ("line_width", _non_negative),
    "hideLegend": ("hide_legend", _bool),
    "hideAxes": ("hide_axes", _bool),
    "hideXAxis": ("hide_x_axis", _bool),
    "hideYAxis": ("hide_y_axis", _bool),
    "hideGrid": ("hide_grid", _bool),
    "hideNullFromLegend": ("hide_null_from_legend", _bool),
    "uniqueLegend": ("unique_legend", _bool),
    "minXStep": ("min_x_step", _positive),
    "majorGridLineColor": ("major_grid_line_color", _color),
    "minorGridLineColor": ("minor_grid_line_color", _color),
    "minorY": ("minor_y", _int),
    "graphOnly": ("graph_only", _bool),
    "yMin": ("y_min", _finite),
    "yMax": ("y_max", _y_max),
    "yLimit": ("y_limit", _float),
    "yStep": ("y_step", _positive),
    "yDivisors": ("y_divisors", _divisors),
    "yUnitSystem": ("y_unit_system", _choice(UNIT_SYSTEMS)),
    "logBase": ("log_base", _log_base),
    "areaMode": ("area_mode", _choice(AREA_MODES)),
    "areaAlpha": ("area_alpha", _non_negative),
    "drawNullAsZero": ("draw_null_as_zero", _bool),
    "connectedLimit": ("connected_limit", lambda n, t: int(_non_negative(n, t))),
    "xFormat": ("x_format", _text),
    "yMinLeft": ("y_min_left", _finite),
    "yMinRight": ("y_min_right", _finite),
    "yMaxLeft": ("y_max_left", _y_max),
    "yMaxRight": ("y_max_right", _y_max),
    "yLimitLeft": ("y_limit_left", _float),
    "yLimitRight": ("y_limit_right", _float),
    "yStepLeft": ("y_step_left", _positive),
    "yStepRight": ("y_step_right", _positive),
    "leftWidth": ("left_width", _non_negative),
    "rightWidth": ("right_width", _non_negative),
    "leftColor": ("left_color", _color),
    "rightColor": ("right_color", _color),
    "leftDashed": ("left_dashed", _dash),
    "rightDashed": ("right_dashed", _dash),
    "graphType": ("graph_type", _choice(GRAPH_TYPES)),
    "pieMode": ("pie_mode", _choice(PIE_MODES)),
    "valueLabels": ("value_labels", _choice(VALUE_LABELS)),
    "valueLabelsMin": ("value_labels_min", _finite),
    "valueLabelsColor": ("value_labels_color", _color),
    "pieLabels": ("pie_labels", _choice(PIE_LABELS)),
}

# Deprecated names graphite still reads when the new one is absent.
_DEPRECATED = {"min": "yMin", "max": "yMax", "thickness": "lineWidth"}


def _given(params: Mapping[str, str], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    value = str(value)
    if value == "" or value.strip().lower() == "default":
        return None
    return value


def parse_graph_options(params: Mapping[str, str]) -> GraphOptions:
    """The image options present in `params` (other keys are ignored)."""
    values: dict[str, Any] = {}
    for key, (field_name, read) in _READERS.items():
        text = _given(params, key)
        if text is not None:
            values[field_name] = read(key, text)
    for old, new in _DEPRECATED.items():
        text = _given(params, old)
        if text is not None and _given(params, new) is None:
            field_name, read = _READERS[new]
            values[field_name] = read(old, text)
    if values.get("margin", 0) < 0:
        # graphite's own fallback for a negative margin.
        values["margin"] = 10
    return GraphOptions(**values)


# -- unit prefixes for y labels and cactiStyle (graphite's `UnitSystems`) -------------

UNIT_PREFIXES: dict[str, tuple[tuple[str, float], ...]] = {
    "binary": (("Pi", 1024.0**5), ("Ti", 1024.0**4), ("Gi", 1024.0**3), ("Mi", 1024.0**2),
               ("Ki", 1024.0)),
    "si": (("P", 1000.0**5), ("T", 1000.0**4), ("G", 1000.0**3), ("M", 1000.0**2),
           ("k", 1000.0)),
    "sec": (("Y", 31536000.0), ("M", 2592000.0), ("D", 86400.0), ("H", 3600.0), ("m", 60.0)),
    "msec": (("Y", 31536000000.0), ("M", 2592000000.0), ("D", 86400000.0),
             ("H", 3600000.0), ("m", 60000.0), ("s", 1000.0)),
    "none": (),
}


def format_units(value: float, step: float | None = None, system: str = "si",
                 units: str | None = None) -> tuple[float, str]:
    """`value` scaled by the largest prefix of `system` it reaches (and, given `step`,
    that the step reaches too, so neighbouring axis labels share a prefix), with the
    prefix (+ `units`). Near-integers above 1 are snapped down, as graphite does."""
    prefixes = UNIT_PREFIXES.get(system)
    if prefixes is None:
        raise InputError(f"unknown unit system {system!r}")
    prefix = ""
    for name, size in prefixes:
        if abs(value) >= size and (step is None or step >= size):
            value, prefix = value / size, name
            break
    if value > 1 and value - math.floor(value) < 1e-11:
        value = float(math.floor(value))
    return value, prefix + (units or "")
