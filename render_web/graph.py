"""PNG, SVG and PDF graphs of series, drawn the way graphite-web draws them (its layout,
options, colours and axis labels) with matplotlib's object API.

Style: graphite's own default look (white background, black text, rose major and grey
minor grid lines, its twelve-colour line list; `template=` picks another of graphite's
looks). Sizes are exact pixels: the figure is laid out at 72 dpi, where a point is a
pixel, so font sizes, line widths and dash lengths mean what they mean in graphite.

Only `matplotlib.figure.Figure` and backend canvases are used: no pyplot, no global
rcParams, nothing configured at import time, so concurrent requests do not interfere.
What is kept between requests is either immutable (text widths, text layouts, glyph
bitmaps) or per thread (Agg renderers, fonts). Axis labels and grid lines are plain texts
and line collections rather than matplotlib ticks, which build several artists per tick
and cost more than the graph. PNG texts are drawn from cached glyph bitmaps (laying out
and rasterising them again cost half the drawing), exactly as matplotlib draws them.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import cycle, pairwise
from typing import Any

import matplotlib as mpl
import numpy as np
import PIL.Image
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import XAxis, YAxis
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.ft2font import RenderMode
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Affine2D, Transform

from render_web.functions.registry import InputError
from render_web.graphoptions import Color, GraphOptions, format_units, parse_color
from render_web.series import TimeSeries

DPI = 72.0
FORMATS = ("png", "svg", "pdf")
LEGEND_MAX_ITEMS = 10
_EPSILON = 1e-4
_LEGEND_PADDING = 5.0
_BOX_EDGE = parse_color("darkgrey")
_NO_DATA = parse_color("red")

# Font names graphite configs use (fontconfig aliases) -> fonts matplotlib ships.
_FONT_ALIASES = {"sans": "DejaVu Sans", "sans-serif": "DejaVu Sans", "serif": "DejaVu Serif",
                 "mono": "DejaVu Sans Mono", "monospace": "DejaVu Sans Mono"}


# -- entry point --------------------------------------------------------------------------

class GraphRenderer:
    """Draws graphs, and keeps what is worth keeping between images: each serving
    thread's Agg renderer (matplotlib caches text metrics per renderer, so a fresh one
    per image lays every label out twice), the widths of texts already measured
    (laying a text out costs about a millisecond, and axis labels repeat) and the
    layouts and glyph bitmaps PNG texts are drawn from. One lives as long as the app
    that owns it; `render_image` uses a fresh one."""

    POOLED_MAX_PIXELS = 1_500_000            # 6 MB of RGBA; larger images get their own

    def __init__(self, text_cache: int = 4096, glyph_cache: int = 20_000) -> None:
        """`glyph_cache` 0 draws PNG texts with plain matplotlib texts (nothing cached)."""
        self._local = threading.local()
        self.text_width = lru_cache(maxsize=text_cache)(self._measure)
        self.glyphs = _GlyphCache(text_cache, glyph_cache) if glyph_cache > 0 else None

    def _measure(self, text: str, key: _FontKey) -> float:
        """Width in pixels of `text` laid out by Agg (each thread measures with its own
        renderer: matplotlib's fonts are per thread too)."""
        renderer = getattr(self._local, "measuring", None)
        if renderer is None:
            renderer = self._local.measuring = RendererAgg(1, 1, DPI)
        width, _, _ = renderer.get_text_width_height_descent(text, _properties(key),
                                                             ismath=False)
        return float(width)

    def agg_renderer(self, width: float, height: float, dpi: float) -> RendererAgg:
        """This thread's renderer of that size from the last image, or a new one."""
        pooled = getattr(self._local, "agg", None)
        if pooled is not None and pooled[0] == (width, height, dpi):
            return pooled[1]
        renderer = RendererAgg(width, height, dpi)
        if width * height <= self.POOLED_MAX_PIXELS:
            self._local.agg = ((width, height, dpi), renderer)
        return renderer

    def render(self, series_list: Sequence[TimeSeries], options: GraphOptions, fmt: str,
               start: int, end: int, tz: tzinfo) -> bytes:
        """The graph of `series_list` as `fmt` (png, svg or pdf) bytes, exactly
        `options.width` x `options.height` pixels. As in graphite, the x axis spans the
        series themselves, not the request window (`start`, `end`), which is accepted so
        the call names the whole request but changes nothing drawn."""
        if fmt not in FORMATS:
            raise InputError(f"format: cannot draw an image as {fmt!r}")
        figure = Figure(figsize=(options.width / DPI, options.height / DPI), dpi=DPI,
                        facecolor=options.background)
        canvas = _Canvas(figure, options, self.text_width,
                         self.glyphs if fmt == "png" else None)
        drawable = [s for s in series_list if len(s) > 0]
        if options.graph_type == "pie":
            _draw_pie(canvas, pie_slices(drawable, options.pie_mode))
        elif not drawable or max(s.end for s in drawable) == min(s.start for s in drawable):
            canvas.no_data()
        else:
            _LineGraph(canvas, drawable, tz).draw()
        return self._output(figure, fmt)

    def _output(self, figure: Figure, fmt: str) -> bytes:
        buffer = io.BytesIO()
        if fmt == "png":
            canvas = _PooledCanvasAgg(figure, self)
            canvas.draw()
            image = PIL.Image.frombuffer("RGBA", canvas.get_width_height(),
                                         canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
            if figure.get_facecolor()[3] >= 1.0:
                image = image.convert("RGB")  # opaque: a quarter less to compress
            # zlib's fastest level: a graph's flat colours compress nearly as well, and
            # the default level spends more time than drawing the graph.
            image.save(buffer, "PNG", compress_level=1, dpi=(DPI, DPI))
        elif fmt == "pdf":
            FigureCanvasPdf(figure).print_pdf(buffer, metadata={"CreationDate": None})
        else:
            FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None})
            # Sizes in pixels, as graphite answers, rather than points (same at 72 dpi).
            text = buffer.getvalue().decode("utf-8").replace('pt"', 'px"', 2)
            return text.encode("utf-8")
        return buffer.getvalue()


def render_image(series_list: Sequence[TimeSeries], options: GraphOptions, fmt: str,
                 start: int, end: int, tz: tzinfo) -> bytes:
    """`GraphRenderer.render` with nothing kept between images."""
    return GraphRenderer().render(series_list, options, fmt, start, end, tz)


class _PooledCanvasAgg(FigureCanvasAgg):
    """An Agg canvas drawing with its `GraphRenderer`'s renderer for this thread."""

    def __init__(self, figure: Figure, graphs: GraphRenderer) -> None:
        super().__init__(figure)
        self._graphs = graphs

    def get_renderer(self) -> RendererAgg:
        width, height = self.figure.bbox.size
        self.renderer = self._graphs.agg_renderer(width, height, self.figure.dpi)
        return self.renderer


# -- drawing surface: pixel coordinates, y downwards, like graphite's cairo context -------

@lru_cache(maxsize=64)
def _font_family(name: str) -> str:
    alias = _FONT_ALIASES.get(name.strip().lower())
    if alias:
        return alias
    known = {font.name.lower(): font.name for font in fontManager.ttflist}
    return known.get(name.strip().lower(), "DejaVu Sans")


# (family, size, bold, italic): what a text's measured width depends on at DPI.
_FontKey = tuple[str, float, bool, bool]
def _properties(key: _FontKey) -> FontProperties:
    family, size, bold, italic = key
    return FontProperties(family=family, size=size, weight="bold" if bold else "normal",
                          style="italic" if italic else "normal")


@dataclass
class _Area:
    xmin: float
    xmax: float
    ymin: float
    ymax: float


class _Canvas:
    """The figure, a pixel transform (y downwards) for text, legend and title drawn
    straight on the figure, and text measuring for laying text out before drawing.
    (Figure-level artists rather than a full-size overlay axes: an axes costs
    milliseconds to build and draws nothing of its own here.)"""

    def __init__(self, figure: Figure, options: GraphOptions,
                 measure: Callable[[str, _FontKey], float] | None = None,
                 glyphs: _GlyphCache | None = None) -> None:
        self.figure = figure
        self.options = options
        self._measure = measure or GraphRenderer().text_width
        self._glyphs = glyphs
        self.width = float(options.width)
        self.height = float(options.height)
        self.pixels: Transform = (Affine2D().scale(1 / self.width, -1 / self.height)
                                  .translate(0, 1) + figure.transFigure)
        self.font_size = float(options.font_size)
        self._fonts: dict[float, FontProperties] = {}

    def _font_key(self, size: float | None) -> _FontKey:
        options = self.options
        return (_font_family(options.font_name), float(size or self.font_size),
                bool(options.font_bold), bool(options.font_italic))

    def font(self, size: float | None = None) -> FontProperties:
        """The font at `size`; one object per size (artists copy what they are given)."""
        key = size or self.font_size
        font = self._fonts.get(key)
        if font is None:
            font = self._fonts[key] = _properties(self._font_key(size))
        return font

    def text_width(self, text: str, size: float | None = None) -> float:
        if not text:
            return 0.0
        return self._measure(text, self._font_key(size))

    def line_height(self, size: float | None = None) -> float:
        return 1.2 * (size or self.font_size)

    def text(self, x: float, y: float, text: str, *, size: float | None = None,
             color: Color | None = None, ha: str = "left", va: str = "top",
             rotation: float = 0.0) -> None:
        """A text at pixel (x, y), turned about its anchor."""
        self.add_text(x, y, text, self.pixels, ha=ha, va=va, size=size, color=color,
                      rotation=rotation, rotation_mode="anchor")

    def add_text(self, x: float, y: float, text: str, transform: Transform, *, ha: str,
                 va: str, size: float | None = None, color: Color | None = None,
                 rotation: float = 0.0, rotation_mode: str = "default") -> None:
        """A figure text at (x, y) of `transform`: a matplotlib Text, or for PNGs the
        same text drawn from cached glyphs (added as an artist so that texts of both
        kinds keep the order they were added in)."""
        kwargs = {"fontproperties": self.font(size), "ha": ha, "va": va,
                  "rotation": rotation, "color": color or self.options.foreground,
                  "rotation_mode": rotation_mode, "clip_on": False,
                  "transform": transform}
        if self._glyphs is None:
            self.figure.text(x, y, text, **kwargs)
        else:
            key = (text, self._font_key(size), ha, va, rotation, rotation_mode)
            self.figure.add_artist(_AggText(self._glyphs, key, (x, y), text, kwargs))

    def no_data(self) -> None:
        size = math.log(self.width * self.height)
        self.text(self.width / 2, self.height / 2, "No Data", size=size, color=_NO_DATA,
                  ha="center", va="center")

    def axes(self, area: _Area) -> Axes:
        """A data axes over `area` (pixels), transparent so the background shows."""
        box = (area.xmin / self.width, 1 - area.ymax / self.height,
               max(1.0, area.xmax - area.xmin) / self.width,
               max(1.0, area.ymax - area.ymin) / self.height)
        axes = self.figure.add_axes(box, axes_class=_BareAxes)
        _bare(axes)
        axes.margins(0)
        return axes

    def title(self, area: _Area, text: str) -> None:
        size = self.font_size + math.floor(math.log(self.font_size))
        y = area.ymin
        for line in text.split("\n"):
            self.text(self.width / 2, y, line, size=size, ha="center")
            y += self.line_height(size)
        area.ymin = y + self.options.margin

    def legend(self, area: _Area, entries: Sequence[tuple[str, Color]]) -> None:
        """Colour boxes and names in as many columns as fit, below the plot; the plot
        area shrinks to make room."""
        if not entries:
            return
        longest = max(self.text_width(name) for name, _ in entries)
        box = self.line_height() - 1
        line_height = self.line_height() + 1
        label_width = longest + 2 * (box + _LEGEND_PADDING)
        columns = max(1, int(self.width // label_width))
        lines = math.ceil(len(entries) / columns)
        area.ymax -= lines * line_height + _LEGEND_PADDING
        x0 = area.xmin
        y = area.ymax + 2 * _LEGEND_PADDING
        for index, (name, color) in enumerate(entries):
            column = index % columns
            if index and column == 0:
                y += line_height
            x = x0 + column * label_width
            self.figure.add_artist(Rectangle((x, y), box, box, facecolor=color,
                                             edgecolor=_BOX_EDGE, linewidth=1.0,
                                             clip_on=False, transform=self.pixels))
            self.text(x + box + _LEGEND_PADDING, y, name)


class _NoTicks:
    """An axis' tick list that is always empty: matplotlib builds a major and a minor
    tick (five artists each) per axis of every new Axes, which costs more than half of
    creating it, and these axes never draw an axis."""

    def __get__(self, instance: Any, owner: type) -> list:
        return []


class _BareXAxis(XAxis):
    majorTicks = minorTicks = _NoTicks()


class _BareYAxis(YAxis):
    majorTicks = minorTicks = _NoTicks()


class _BareAxes(Axes):
    """Axes whose x and y axes keep no ticks (they are hidden: labels and grid are
    drawn as plain artists). Everything else, transforms, scales, limits, spines and
    clipping, is Axes' own; tests compare its drawing with plain Axes'."""

    def _init_axis(self) -> None:
        # Axes._init_axis with the tickless axis classes.
        self.xaxis = _BareXAxis(self, clear=False)
        self.spines.bottom.register_axis(self.xaxis)
        self.spines.top.register_axis(self.xaxis)
        self.yaxis = _BareYAxis(self, clear=False)
        self.spines.left.register_axis(self.yaxis)
        self.spines.right.register_axis(self.yaxis)

    def clear(self) -> None:
        super().clear()
        # Creating ticks is what gives spines their default place (and transform);
        # without ticks, ask for it.
        for spine in self.spines.values():
            spine.get_position()


def _bare(axes: Axes) -> None:
    """No background, spines or axis machinery: labels and grid are drawn as plain
    artists (matplotlib's ticks build several artists each, and cost more than the
    graph)."""
    axes.set_facecolor("none")
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.xaxis.set_visible(False)
    axes.yaxis.set_visible(False)


# -- PNG text from cached glyphs ----------------------------------------------------------
#
# Agg draws a line of text by laying it out (libraqm, hinting: about half a millisecond)
# and rasterising each glyph with FreeType at its exact 1/64-pixel position, then
# blending the glyph's coverage in the text colour. The layout depends only on the text
# and font; a glyph's bitmap only on the glyph, font, size, rotation and the fractional
# part of its position (a whole-pixel shift moves the bitmap and nothing else). Both are
# kept here, and `_AggText` replays RendererAgg.draw_text's own steps from them: same
# positions, same bitmaps, same blending call, so the pixels are the same. It relies on
# matplotlib internals (Text._get_layout, the ft2font glyph calls and
# draw_text_image); tests compare its output with plain Text drawing to pin them.

# (text, font key, ha, va, rotation, rotation_mode)
_TextKey = tuple[str, _FontKey, str, str, float, str]
# (font file, size, glyph index, rotation matrix): with the flags and the position's
# 1/64-pixel fraction, what a glyph's bitmap depends on.
_GlyphFace = tuple[str, float, int, tuple[int, ...]]


@dataclass(frozen=True)
class _TextPlan:
    """A laid-out line of text: its offset from the anchor (as Text computes it), its
    angle, the string Agg draws, and each glyph's face and pen offset (dx, dy up)."""

    offset: tuple[float, float]
    angle: float
    line: str
    matrix: np.ndarray
    glyphs: tuple[tuple[_GlyphFace, float, float], ...]


# A glyph bitmap (coverage, read-only) and its left/top in pixels relative to the pen's
# whole-pixel position; None for glyphs without ink (spaces).
_Bitmap = tuple[np.ndarray, int, int] | None


class _GlyphCache:
    """Text layouts and glyph bitmaps shared by every thread of one GraphRenderer. The
    entries are immutable (no font objects, which are per thread), so readers need no
    lock; writers take one, and a full table is emptied rather than kept in LRU order."""

    def __init__(self, max_texts: int, max_glyphs: int) -> None:
        self._lock = threading.Lock()
        self._plans: dict[_TextKey, _TextPlan | None] = {}
        self._bitmaps: dict[tuple, _Bitmap] = {}
        self._max_plans = max(1, max_texts)
        self._max_bitmaps = max(1, max_glyphs)

    def plan(self, key: _TextKey) -> tuple[bool, _TextPlan | None]:
        """(known, plan): a known key without a plan is drawn by a plain Text."""
        value = self._plans.get(key, self)
        return (False, None) if value is self else (True, value)

    def add_plan(self, key: _TextKey, plan: _TextPlan | None) -> None:
        with self._lock:
            if len(self._plans) >= self._max_plans:
                self._plans.clear()
            self._plans[key] = plan

    def bitmap(self, key: tuple) -> tuple[bool, _Bitmap]:
        """(known, bitmap): a known glyph may have no bitmap (no ink)."""
        value = self._bitmaps.get(key, self)
        return (False, None) if value is self else (True, value)

    def add_bitmap(self, key: tuple, value: _Bitmap) -> None:
        with self._lock:
            if len(self._bitmaps) >= self._max_bitmaps:
                self._bitmaps.clear()
            self._bitmaps[key] = value


def _layout(renderer: RendererAgg, text: Text, line: str) -> list:
    """The glyphs of `line` as RendererAgg.draw_text lays them out (fonts of this
    thread)."""
    font = renderer._prepare_font(text.get_fontproperties())
    return font._layout(line, flags=get_hinting_flag(),
                        features=text.get_fontfeatures(), language=text.get_language())


def _make_plan(renderer: RendererAgg, text: Text) -> tuple[_TextPlan | None, list]:
    """The plan of a single-line, non-math text (else None) and its layout items."""
    _, info, _ = text._get_layout(renderer)
    if len(info) != 1:
        return None, []
    line, _, offset = info[0]
    line, ismath = text._preprocess_math(line)
    if ismath or not line:
        return None, []
    angle = text.get_rotation()
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
    size = text.get_fontproperties().get_size_in_points()
    items = _layout(renderer, text, line)
    glyphs = tuple(((item.ft_object.fname, size, item.glyph_index,
                     tuple(matrix.ravel().tolist())), item.x, item.y) for item in items)
    matrix.setflags(write=False)
    return _TextPlan((float(offset[0]), float(offset[1])), angle, line, matrix, glyphs), items


class _AggText(Artist):
    """A figure text that Agg draws from `_GlyphCache`; it draws as the matplotlib Text
    made from `kwargs` would (which it falls back to for math, several lines or other
    renderers)."""

    zorder = 3                                   # Text's, so the drawing order is kept

    def __init__(self, cache: _GlyphCache, key: _TextKey, xy: tuple[float, float],
                 text: str, kwargs: dict[str, Any]) -> None:
        super().__init__()
        self._cache = cache
        self._key = key
        self._xy = xy
        self._string = text
        self._kwargs = kwargs
        self._color = kwargs["color"]
        self._antialiased = bool(mpl.rcParams["text.antialiased"])   # as Text reads it
        self.set_transform(kwargs["transform"])
        self.set_clip_on(False)

    def as_text(self) -> Text:
        text = Text(*self._xy, self._string, **self._kwargs)
        text.set_figure(self.get_figure(root=False))
        return text

    def draw(self, renderer: Any) -> None:
        if not self.get_visible() or not self._string:
            return
        if not isinstance(renderer, RendererAgg):
            self.as_text().draw(renderer)
            return
        known, plan = self._cache.plan(self._key)
        text, items = None, None
        if not known:
            text = self.as_text()
            plan, items = _make_plan(renderer, text)
            self._cache.add_plan(self._key, plan)
        if plan is None:
            (text or self.as_text()).draw(renderer)
            return
        posx, posy = self.get_transform().transform(self._xy)
        if not (math.isfinite(posx) and math.isfinite(posy)):
            return
        # Text.draw's graphics context for an unclipped text without alpha.
        gc = renderer.new_gc()
        gc.set_foreground(to_rgba(self._color), isRGBA=True)
        gc.set_alpha(None)
        gc.set_antialiased(self._antialiased)
        gc.set_snap(None)
        gc.set_clip_rectangle(None)
        gc.set_clip_path(None)
        self._draw_glyphs(renderer, gc, plan, (posx, posy), items)
        gc.restore()

    def _draw_glyphs(self, renderer: RendererAgg, gc: Any, plan: _TextPlan,
                     position: tuple[float, float], items: list | None) -> None:
        """Text.draw's and RendererAgg's arithmetic, step for step (the same float
        operations give the same 1/64-pixel glyph positions)."""
        x = plan.offset[0] + position[0]
        y = renderer.height - (plan.offset[1] + position[1])    # y downwards
        cos, sin = math.cos(math.radians(plan.angle)), math.sin(math.radians(plan.angle))
        flags = get_hinting_flag()
        antialiased = self._antialiased
        setting = (flags, antialiased, renderer.dpi)
        height, rows = renderer.height, int(renderer.height)
        draw = renderer._renderer.draw_text_image
        for index, (face, dx, dy) in enumerate(plan.glyphs):          # dy is upwards
            px = round(0x40 * (x + dx * cos - dy * sin))
            py = round(0x40 * (height - y + dx * sin + dy * cos))
            key = (face, setting, px & 63, py & 63)
            known, bitmap = self._cache.bitmap(key)
            if not known:
                if items is None:
                    items = _layout(renderer, self.as_text(), plan.line)
                bitmap = _rasterise(items[index].ft_object, face, renderer.dpi, plan.matrix,
                                    (px, py), flags, antialiased)
                self._cache.add_bitmap(key, bitmap)
            if bitmap is None:
                continue
            buffer, left, top = bitmap
            draw(buffer, left + (px >> 6), rows - (top + (py >> 6)) + buffer.shape[0], 0, gc)


def _rasterise(font: Any, face: _GlyphFace, dpi: float, matrix: np.ndarray,
               pen: tuple[int, int], flags: Any, antialiased: bool) -> _Bitmap:
    """One glyph rendered as RendererAgg renders it, positioned relative to the pen's
    whole pixel."""
    font.set_size(face[1], dpi)
    font._set_transform(matrix, list(pen))
    bitmap = font._render_glyph(face[2], flags,
                                RenderMode.NORMAL if antialiased else RenderMode.MONO)
    buffer = np.array(bitmap.buffer, dtype=np.uint8)
    if not buffer.size:
        return None
    if not antialiased:
        buffer *= 0xFF
    return buffer, bitmap.left - (pen[0] >> 6), bitmap.top - (pen[1] >> 6)


# -- y axis: graphite's choice of round limits, steps and unit labels ---------------------

def _steps_from(min_step: float, binary: bool) -> Iterator[float]:
    """Round step sizes >= min_step, increasing: 1, 2, 5 x 10^n (or powers of two)."""
    base, mantissas = (2.0, (1.0,)) if binary else (10.0, (1.0, 2.0, 5.0))
    exponent = math.floor(math.log(min_step, base) - _EPSILON)
    while True:
        for mantissa in mantissas:
            value = mantissa * base ** exponent
            if value >= min_step * (1 - _EPSILON):
                yield value
        exponent += 1


def choose_step(low: float, high: float, divisors: Sequence[int], binary: bool) -> float:
    """The round step whose multiples around [low, high] (with one of `divisors` steps
    in all) waste the least room outside the data."""
    span = high - low
    best_step, best_waste = None, math.inf
    for step in _steps_from(span / max(divisors), binary):
        if best_step is not None and step * min(divisors) >= 2 * best_waste + span:
            break
        bottom = step * math.floor(low / step + _EPSILON)
        for divisor in divisors:
            top = bottom + step * divisor
            if top >= high - _EPSILON * step:
                waste = max(top - high, low - bottom)
                if waste < best_waste:
                    best_step, best_waste = step, waste
    return best_step if best_step is not None else span or 1.0


@dataclass
class YAxis:
    """One y axis: its range, label values and label texts."""

    bottom: float
    top: float
    step: float | None
    values: list[float] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    log_base: float | None = None

    @property
    def limits(self) -> tuple[float, float]:
        if self.values:
            return min(self.values), max(self.values)
        return self.bottom, self.top


def _label(value: float, step: float | None, span: float, system: str) -> str:
    scaled, prefix = format_units(value, step, system)
    span_scaled, span_prefix = format_units(span, step, system)
    suffix = f" {prefix}" if prefix else ""
    if scaled < 0.1:
        text = f"{scaled:g}"
    elif scaled < 1.0:
        text = f"{scaled:.2f}"
    elif span_scaled > 3 or span_prefix != prefix:
        text = f"{scaled:.1f}"
    elif span_scaled > 0.1:
        text = f"{scaled:.2f}"
    else:
        text = f"{scaled:g}"
    return text + suffix


def _settle_limits(low: float, high: float, y_min: float | None, y_max: float | None,
                   y_limit: float | None) -> tuple[float, float, bool, bool, float | None]:
    """Apply the user's bounds; returns (low, high, low_fixed, high_fixed, limit)."""
    low_fixed = y_min is not None
    high_fixed = y_max is not None
    if low_fixed:
        low = float(y_min)
    if high_fixed:
        high = float(y_max)
    limit = None
    if y_limit is not None and not math.isinf(y_limit):
        if y_limit < high:
            high, high_fixed = y_limit, True
        else:
            limit = y_limit
    if low >= high:
        def delta(x: float) -> float:
            return 1.0 if abs(x) < 1e-9 else 0.1 * abs(x)
        if low_fixed and high_fixed:
            raise InputError("yMin must be less than yMax")
        if low_fixed:
            high = low + delta(low)
        elif high_fixed:
            low = high - delta(high)
        else:
            middle, half = (low + high) / 2, delta(max(abs(low), abs(high)))
            low, high = middle - half, middle + half
    return low, high, low_fixed, high_fixed, limit


def y_axis(low: float, high: float, options: GraphOptions, *, y_min: float | None = None,
           y_max: float | None = None, y_limit: float | None = None,
           y_step: float | None = None) -> YAxis:
    """Round limits and labelled values for data in [low, high], as graphite picks them."""
    low, high, low_fixed, high_fixed, limit = _settle_limits(low, high, y_min, y_max, y_limit)
    system = options.y_unit_system
    if options.log_base:
        return _log_axis(low, high, options.log_base, system)
    step = y_step or choose_step(low, high, options.y_divisors, system == "binary")
    bottom = low if low_fixed else step * math.floor(low / step + _EPSILON)
    top = high
    if not high_fixed:
        top = step * math.ceil(high / step - _EPSILON)
        if limit is not None and top > limit + _EPSILON * step:
            top = limit
    if top == bottom:
        top += 1
    if (top - bottom) > 1000 * step:
        step = choose_step(bottom, top, options.y_divisors, system == "binary")
    first = step * math.ceil(bottom / step - _EPSILON)
    count = math.floor((top + _EPSILON * step - first) / step) + 1
    values = [first + i * step for i in range(max(0, count))]
    span = top - bottom
    labels = [_label(v, step, span, system) for v in values]
    return YAxis(bottom, top, step, values, labels)


def _log_axis(low: float, high: float, base: float, system: str) -> YAxis:
    if high <= 0:
        low, high = 1.0, base
    elif low <= 0:
        low = min(high, 1.0) / base
    bottom = base ** math.floor(math.log(low, base))
    top = base ** math.ceil(math.log(high, base))
    if top == bottom:
        top *= base
    values = []
    value = base ** math.ceil(math.log(bottom, base) - _EPSILON)
    while value < top * (1 + _EPSILON):
        values.append(value)
        value *= base
    labels = [_label(v, None, top - bottom, system) for v in values]
    return YAxis(bottom, top, None, values, labels, log_base=base)


# -- x axis: time labels in the request's time zone --------------------------------------

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
_X_STEPS = (1, 5, 10, 15, 30, _MINUTE, 2 * _MINUTE, 5 * _MINUTE, 10 * _MINUTE,
            15 * _MINUTE, 20 * _MINUTE, 30 * _MINUTE, _HOUR, 2 * _HOUR, 3 * _HOUR, 4 * _HOUR,
            6 * _HOUR, 12 * _HOUR, _DAY, 2 * _DAY, 4 * _DAY, 7 * _DAY, 14 * _DAY, 30 * _DAY,
            60 * _DAY, 120 * _DAY, 240 * _DAY)


def _x_format(step: int, span: float) -> str:
    if step < _MINUTE:
        return "%H:%M:%S"
    if step < _DAY:
        if span <= 1.5 * _DAY:
            return "%H:%M"
        return "%a %H:%M" if span <= 7 * _DAY else "%m/%d %H:%M"
    return "%m/%d" if span <= 365 * _DAY else "%m/%d %Y"


def _aligned_start(start: float, step: int, tz: tzinfo) -> datetime:
    """The first local wall-clock multiple of `step` at or after `start`."""
    local = datetime.fromtimestamp(start, tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if step >= _DAY:
        moment = midnight
    else:
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        moment = midnight + timedelta(seconds=seconds - seconds % step)
    while moment.timestamp() < start:
        moment += timedelta(seconds=step)
    return moment


def x_ticks(start: float, end: float, tz: tzinfo, width_px: float, label_width,
            x_format: str | None = None) -> tuple[list[float], list[str], list[float]]:
    """Label positions and texts (and minor grid positions) for [start, end]: the
    smallest round step whose labels do not overlap."""
    span = end - start
    chosen = _X_STEPS[-1]
    for step in _X_STEPS:
        fmt = x_format or _x_format(step, span)
        sample = datetime.fromtimestamp(start, tz).strftime(fmt)
        if (span / step) * (label_width(sample) + 12) <= width_px:
            chosen = step
            break
    fmt = x_format or _x_format(chosen, span)
    positions, labels, minors = [], [], []
    moment = _aligned_start(start, chosen, tz)
    half = timedelta(seconds=chosen / 2)
    while moment.timestamp() <= end:
        positions.append(moment.timestamp())
        labels.append(moment.strftime(fmt))
        minors.append((moment + half).timestamp())
        moment = datetime.fromtimestamp(moment.timestamp(), tz) + timedelta(seconds=chosen)
        if chosen >= _DAY:
            moment = moment.replace(hour=0, minute=0, second=0)
    before = (datetime.fromtimestamp(positions[0], tz) - half).timestamp() if positions else end
    minors = [m for m in [before, *minors] if start <= m <= end]
    return positions, labels, minors


# -- the line graph -----------------------------------------------------------------------

def points_per_pixel(span: float, step: int, pixels: float, min_x_step: float) -> int:
    """How many points of a `step` series are merged into one so that drawn points are
    at least `min_x_step` pixels apart over `pixels` showing `span` seconds."""
    points = span / step
    if points <= 0 or pixels / points >= min_x_step:
        return 1
    drawable = max(1, int(pixels / min_x_step))
    return max(1, math.ceil(points / drawable))


@dataclass
class _Drawn:
    """A series as drawn: possibly consolidated and stacked, with its resolved style."""

    series: TimeSeries
    values: np.ndarray
    color: Color
    width: float
    dash: float | None
    right: bool
    options: dict[str, Any]

    @property
    def name(self) -> str:
        return self.series.name


def _color_of(value: Any, what: str) -> Color:
    if isinstance(value, tuple):
        return value
    return parse_color(str(value), what)


class _LineGraph:
    def __init__(self, canvas: _Canvas, series_list: Sequence[TimeSeries], tz: tzinfo) -> None:
        self.canvas = canvas
        self.options = canvas.options
        self.tz = tz
        self.series = list(series_list)
        self.two_axes = any(s.options.get("secondYAxis") for s in self.series)
        self.line_mode = self.options.line_mode
        if self.line_mode == "slope" and any(len(s) == 1 for s in self.series):
            # A single point has no slope to draw.
            self.line_mode = "staircase"
        margin = 0 if self.options.graph_only else self.options.margin
        self.margin = margin
        self.area = _Area(margin + 10.0, canvas.width - margin, float(margin),
                          canvas.height - margin)
        if self.options.graph_only:
            self.area = _Area(0.0, canvas.width, 0.0, canvas.height)
        self.hide_axes = self.options.hide_axes or self.options.graph_only
        self.hide_grid = self.hide_axes or self.options.hide_grid
        self.styles = self._styles()
        # The last _consolidated result and what it depends on: laying out the y labels
        # asks again after the plot narrows, mostly for the same points per pixel.
        self._last_consolidation: tuple[tuple, list[_Drawn]] | None = None

    # style ------------------------------------------------------------------------------
    def _styles(self) -> list[tuple[Color, float, float | None]]:
        options = self.options
        palette = cycle(options.colors)
        styles = []
        for series in self.series:
            right = bool(series.options.get("secondYAxis"))
            side_color = options.right_color if right else options.left_color
            side_width = options.right_width if right else options.left_width
            side_dash = options.right_dashed if right else options.left_dashed
            if self.two_axes and side_color is not None:
                color = side_color
            elif "color" in series.options:
                color = _color_of(series.options["color"], "color")
            else:
                color = next(palette)
            width = series.options.get("lineWidth", options.line_width)
            dash = series.options.get("dashed")
            if self.two_axes:
                width = side_width if side_width is not None else width
                dash = side_dash if side_dash is not None else dash
            styles.append((color, float(width), float(dash) if dash else None))
        return styles

    # layout -----------------------------------------------------------------------------
    def _titles_and_legend(self) -> None:
        options, canvas = self.options, self.canvas
        if options.graph_only:
            return
        if options.title:
            canvas.title(self.area, options.title)
        if options.vtitle:
            self._vtitle(options.vtitle, right=False)
        if self.two_axes and options.vtitle_right:
            self._vtitle(options.vtitle_right, right=True)
        hide = options.hide_legend
        if hide is None:
            hide = len(self.series) > LEGEND_MAX_ITEMS
        if hide:
            return
        entries, seen = [], set()
        for series, (color, _, _) in zip(self.series, self.styles, strict=True):
            if not series.name:
                continue
            if options.hide_null_from_legend and np.isnan(series.values).all():
                continue
            if options.unique_legend:
                if series.name in seen:
                    continue
                seen.add(series.name)
            entries.append((series.name, color))
        canvas.legend(self.area, entries)

    def _vtitle(self, text: str, right: bool) -> None:
        line = self.canvas.line_height()
        y = self.canvas.height / 2
        if right:
            x = self.area.xmax - line
            for part in text.split("\n"):
                self.canvas.text(x, y, part, ha="center", va="baseline", rotation=-90)
                x -= line
            self.area.xmax = x - self.margin - line
        else:
            x = self.area.xmin + line
            for part in text.split("\n"):
                self.canvas.text(x, y, part, ha="center", va="baseline", rotation=90)
                x += line
            self.area.xmin = x + self.margin + line

    # data -------------------------------------------------------------------------------
    def _time_range(self) -> tuple[int, int]:
        start = min(s.start for s in self.series)
        if self.line_mode == "staircase":
            end = max(s.end for s in self.series)
        else:
            end = max(s.end - s.step for s in self.series)
        return start, max(end, start + 1)

    def _consolidated(self, start: int, end: int) -> list[_Drawn]:
        """Each series merged to at most one point per `minXStep` pixels, by its own
        consolidation function (graphite's pixel consolidation)."""
        pixels = self.area.xmax - self.area.xmin - (self.options.line_width + 1)
        span = end - start
        factors = [points_per_pixel(span, s.step, pixels, self.options.min_x_step)
                   for s in self.series]
        key = (start, end, tuple(factors))
        if self._last_consolidation is not None and self._last_consolidation[0] == key:
            return self._last_consolidation[1]
        drawn = []
        for series, factor, (color, width, dash) in zip(self.series, factors, self.styles,
                                                        strict=True):
            series = series.consolidate(factor)
            values = series.values.copy()
            if self.options.draw_null_as_zero:
                values = np.nan_to_num(values, nan=0.0)
            drawn.append(_Drawn(series, values, color, width, dash,
                                bool(series.options.get("secondYAxis")),
                                dict(series.options)))
        drawn = self._stacked(drawn)
        self._last_consolidation = (key, drawn)
        return drawn

    def _stacked(self, drawn: list[_Drawn]) -> list[_Drawn]:
        """Apply areaMode: stacked series first, then the others on top."""
        if any(d.options.get("stacked") for d in drawn):
            drawn = ([d for d in drawn if d.options.get("stacked")]
                     + [d for d in drawn if not d.options.get("stacked")])
        mode = self.options.area_mode
        if mode == "stacked" and not self.two_axes:
            total = np.zeros(max(len(d.values) for d in drawn))
            for item in drawn:
                if item.options.get("drawAsInfinite") or item.options.get("invisible"):
                    continue
                item.options["stacked"] = True
                present = ~np.isnan(item.values)
                head = total[:len(item.values)]
                head[present] += item.values[present]
                item.values = np.where(present, head, np.nan)
        elif mode == "first" and drawn:
            drawn[0].options["filled"] = True
        elif mode == "all":
            for item in drawn:
                if not item.options.get("drawAsInfinite"):
                    item.options["filled"] = True
        return drawn

    def _axis(self, drawn: list[_Drawn], side: str | None) -> YAxis:
        options = self.options
        finite = [d for d in drawn if not d.options.get("drawAsInfinite")]
        values = np.concatenate([d.values for d in finite]) if finite else np.zeros(0)
        values = values[np.isfinite(values)]
        if options.log_base:
            values = values[values > 0]
        if len(values):
            low, high = float(values.min()), float(values.max())
            missing = any(np.isnan(d.values).any() for d in drawn)
            if options.draw_null_as_zero and missing:
                low, high = min(low, 0.0), max(high, 0.0)
        else:
            low, high = 0.0, 1.0
        if side == "left":
            return y_axis(low, high, options, y_min=options.y_min_left,
                          y_max=options.y_max_left, y_limit=options.y_limit_left,
                          y_step=options.y_step_left)
        if side == "right":
            return y_axis(low, high, options, y_min=options.y_min_right,
                          y_max=options.y_max_right, y_limit=options.y_limit_right,
                          y_step=options.y_step_right)
        return y_axis(low, high, options, y_min=options.y_min, y_max=options.y_max,
                      y_limit=options.y_limit, y_step=options.y_step)

    def _label_width(self, axis: YAxis) -> float:
        return max((self.canvas.text_width(t) for t in axis.labels), default=0.0)

    def _fit_y_labels(self, start: int, end: int) -> tuple[list[_Drawn], YAxis, YAxis | None]:
        """Consolidate, size the y labels, make room for them, and again until the plot
        width settles (fewer pixels can mean different consolidated values)."""
        base_xmin, base_xmax = self.area.xmin, self.area.xmax
        drawn, left, right = [], None, None
        for _ in range(4):
            previous = (self.area.xmin, self.area.xmax)
            drawn = self._consolidated(start, end)
            if self.two_axes:
                left = self._axis([d for d in drawn if not d.right], "left")
                right = self._axis([d for d in drawn if d.right], "right")
            else:
                left, right = self._axis(drawn, None), None
            if self.hide_axes or self.options.hide_y_axis:
                break
            left_room = self.margin + self._label_width(left) * 1.02 + 4
            if right is not None:
                self.area.xmin = max(base_xmin, left_room)
                right_room = self._label_width(right) * 1.02 + 8
                self.area.xmax = min(base_xmax, self.canvas.width - right_room)
            elif self.options.y_axis_side == "right":
                self.area.xmax = min(base_xmax, self.canvas.width - left_room)
            else:
                self.area.xmin = max(base_xmin, left_room)
            if (self.area.xmin, self.area.xmax) == previous:
                break
        return drawn, left, right

    # drawing ----------------------------------------------------------------------------
    def draw(self) -> None:
        self._titles_and_legend()
        if not self.hide_axes and not self.options.hide_x_axis:
            self.area.ymax -= self.canvas.line_height() * 1.6
        start, end = self._time_range()
        drawn, left, right = self._fit_y_labels(start, end)
        axes = self.canvas.axes(self.area)
        axes.set_xlim(start, end)
        self._scale(axes, left)
        right_axes = None
        if right is not None:
            right_axes = axes.twinx(axes_class=_BareAxes)
            _bare(right_axes)
            right_axes.set_xlim(start, end)
            self._scale(right_axes, right)
        if not self.hide_axes:
            self._labels(axes, right_axes, left, right, start, end)
        self._lines(axes, right_axes, drawn)

    def _scale(self, axes: Axes, axis: YAxis) -> None:
        if axis.log_base:
            axes.set_yscale("log", base=axis.log_base)
        low, high = axis.limits
        axes.set_ylim(low, high if high > low else low + 1)

    def _labels(self, axes: Axes, right_axes: Axes | None, left: YAxis, right: YAxis | None,
                start: int, end: int) -> None:
        options, canvas = self.options, self.canvas
        area = self.area
        # x labels first, then y: the order matplotlib's axes drew (and SVGs list) them.
        positions, labels, minors = x_ticks(start, end, self.tz, area.xmax - area.xmin,
                                            canvas.text_width, options.x_format)
        if not options.hide_x_axis:
            labels = self._inside(labels, positions, start, end)
            self._tick_labels(axes, axes.get_xaxis_text1_transform(3), 0.0, positions,
                              labels, vertical=False)
        if not options.hide_y_axis:
            if options.y_axis_side == "right" and right is None:
                self._tick_labels(axes, axes.get_yaxis_text2_transform(3), 1.0,
                                  left.values, left.labels, vertical=True)
            else:
                self._tick_labels(axes, axes.get_yaxis_text1_transform(3), 0.0,
                                  left.values, left.labels, vertical=True)
            if right is not None and right_axes is not None:
                self._tick_labels(right_axes, right_axes.get_yaxis_text2_transform(4), 1.0,
                                  right.values, right.labels, vertical=True)
        if not self.hide_grid:
            self._grid(axes, left, positions, minors)

    def _tick_labels(self, axes: Axes, place: tuple[Transform, str, str], side: float,
                     values: Sequence[float], labels: Sequence[str], *, vertical: bool) -> None:
        """Axis labels as plain texts where matplotlib's ticks would put theirs: `place`
        is the axes' tick-label transform (padded off the axis) and alignment, `side`
        the axis' position across (0 left/bottom, 1 right)."""
        transform, va, ha = place
        for value, label in zip(values, labels, strict=True):
            if not label:
                continue
            x, y = (side, value) if vertical else (value, side)
            # On the figure: an axes text would be given the axes' clip path for nothing.
            self.canvas.add_text(x, y, label, transform, ha=ha, va=va)

    def _inside(self, labels: list[str], positions: list[float], start: int, end: int
                ) -> list[str]:
        """Labels that would stick out of the image are left blank (their grid line
        stays)."""
        scale = (self.area.xmax - self.area.xmin) / (end - start)
        kept = []
        for label, position in zip(labels, positions, strict=True):
            centre = self.area.xmin + (position - start) * scale
            half = self.canvas.text_width(label) / 2
            fits = centre - half >= 0 and centre + half <= self.canvas.width
            kept.append(label if fits else "")
        return kept

    def _grid(self, axes: Axes, axis: YAxis, majors: list[float], minors: list[float]) -> None:
        major, minor = self.options.major_grid, self.options.minor_grid
        minor_y = []
        if self.options.minor_y >= 1 and not axis.log_base:
            for lower, upper in pairwise(axis.values):
                gap = (upper - lower) / (1 + self.options.minor_y)
                minor_y.extend(lower + (i + 1) * gap for i in range(self.options.minor_y))
        # One collection per kind of line; drawn minor first, then major (zorder).
        _grid_lines(axes, axis.values, horizontal=True, color=major, width=0.4, zorder=0.5)
        _grid_lines(axes, minor_y, horizontal=True, color=minor, width=0.3, zorder=0.4)
        _grid_lines(axes, minors, horizontal=False, color=minor, width=0.25, zorder=0.4)
        _grid_lines(axes, majors, horizontal=False, color=major, width=0.33, zorder=0.5)
        for side in ("left", "right"):
            axes.spines[side].set_visible(True)
            axes.spines[side].set_color(major)
            axes.spines[side].set_linewidth(0.5)

    def _xy(self, item: _Drawn, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        series = item.series
        x = series.timestamps().astype(np.float64)
        y = values
        if self.options.log_base:
            y = np.where(y > 0, y, np.nan)
        if self.line_mode == "staircase":
            x = np.append(x, series.end)
            y = np.append(y, y[-1] if len(y) else np.nan)
        elif self.line_mode == "connected":
            x, y = _bridge_gaps(x, y, self.options.connected_limit)
        return x, y

    def _lines(self, axes: Axes, right_axes: Axes | None, drawn: list[_Drawn]) -> None:
        steps = "post" if self.line_mode == "staircase" else None
        drawstyle = "steps-post" if steps else "default"
        area_alpha = self.options.area_alpha
        below: dict[bool, np.ndarray | None] = {False: None, True: None}
        for order, item in enumerate(drawn):
            target = right_axes if (item.right and right_axes is not None) else axes
            zorder = 2 + order * 0.01
            alpha = item.options.get("alpha")
            alpha = 1.0 if alpha is None else float(alpha)
            if item.options.get("drawAsInfinite"):
                stamps = item.series.timestamps()[np.nan_to_num(item.values, nan=0.0) > 0]
                if len(stamps):
                    target.vlines(stamps.astype(np.float64), 0, 1,
                                  transform=target.get_xaxis_transform(), colors=[item.color],
                                  linewidth=item.width, alpha=alpha, zorder=zorder)
                continue
            x, y = self._xy(item, item.values)
            stacked = bool(item.options.get("stacked"))
            if stacked or item.options.get("filled"):
                base = below[item.right] if stacked else None
                base_y = np.zeros_like(y)
                if base is not None:
                    _, base_xy = self._xy(item, _fit(base, len(item.values)))
                    base_y = np.nan_to_num(base_xy, nan=0.0)
                if stacked:
                    below[item.right] = item.values
                if item.options.get("invisible"):
                    continue
                fill_alpha = area_alpha if area_alpha is not None else alpha
                # Fill from earlier stacked series upwards; `all` fills are drawn
                # behind earlier ones, as graphite's clipping keeps them.
                target.fill_between(x, base_y, y, where=~np.isnan(y), step=steps,
                                    color=item.color, alpha=fill_alpha, linewidth=0,
                                    zorder=zorder if stacked else 1.5 - order * 0.01,
                                    interpolate=False)
                if area_alpha is None:
                    continue
            if item.options.get("invisible"):
                continue
            line_style: Any = (0, (item.dash, item.dash)) if item.dash else "solid"
            target.add_line(Line2D(x, y, color=item.color, linewidth=item.width, alpha=alpha,
                                   linestyle=line_style, drawstyle=drawstyle, zorder=zorder,
                                   solid_joinstyle="miter", solid_capstyle="butt"))


def _grid_lines(axes: Axes, values: Sequence[float], *, horizontal: bool, color: Color,
                width: float, zorder: float) -> None:
    """Lines across the whole plot at data `values`, as one collection (what
    axhline/axvline draw, without an artist per line)."""
    if not len(values):
        return
    if horizontal:
        transform = axes.get_yaxis_transform(which="grid")
        segments = [((0.0, v), (1.0, v)) for v in values]
    else:
        transform = axes.get_xaxis_transform(which="grid")
        segments = [((v, 0.0), (v, 1.0)) for v in values]
    axes.add_collection(LineCollection(segments, colors=[color], linewidths=width,
                                       zorder=zorder, transform=transform,
                                       capstyle="projecting"), autolim=False)


def _fit(values: np.ndarray, length: int) -> np.ndarray:
    if len(values) >= length:
        return values[:length]
    return np.concatenate([values, np.full(length - len(values), np.nan)])


def _bridge_gaps(x: np.ndarray, y: np.ndarray, limit: int | None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """connected line mode: drop nulls so the line joins across gaps, except gaps of
    more than `limit` points, which stay broken."""
    missing = np.isnan(y)
    if not missing.any():
        return x, y
    if limit is None:
        return x[~missing], y[~missing]
    # Length of the null run each point belongs to.
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    run = np.zeros(len(y), dtype=np.int64)
    run[missing] = np.repeat(ends - starts, ends - starts)
    keep = ~missing | (run > limit)
    return x[keep], y[keep]


# -- pie ----------------------------------------------------------------------------------

def pie_slices(series_list: Sequence[TimeSeries], mode: str) -> list[tuple[str, float]]:
    """(name, value) per series by graphite's pie functions: average of the non-null
    points, maximum or minimum; a series without any value counts as 0."""
    slices = []
    for series in series_list:
        present = series.values[~np.isnan(series.values)]
        if not len(present):
            value = 0.0
        elif mode == "maximum":
            value = float(present.max())
        elif mode == "minimum":
            value = float(present.min())
        elif mode == "average":
            value = float(present.mean())
        else:
            raise InputError(f"pieMode: {mode!r} is not one of average, maximum, minimum")
        slices.append((series.name, value))
    return slices


def _draw_pie(canvas: _Canvas, slices: Sequence[tuple[str, float]]) -> None:
    options = canvas.options
    slices = [(name, value) for name, value in slices if value > 0 and math.isfinite(value)]
    total = sum(value for _, value in slices)
    if not slices or total <= 0:
        canvas.no_data()
        return
    margin = options.margin
    area = _Area(margin + 10.0, canvas.width - margin, float(margin), canvas.height - margin)
    if options.title:
        canvas.title(area, options.title)
    colors = [c for c, _ in zip(cycle(options.colors), slices, strict=False)]
    if not options.hide_legend:
        canvas.legend(area, [(name, c) for (name, _), c in zip(slices, colors, strict=True)])
    axes = canvas.axes(area)
    axes.set_aspect("equal")
    alpha = options.area_alpha if options.area_alpha is not None else 1.0
    wedges, _ = axes.pie([v for _, v in slices], colors=colors, startangle=90,
                         counterclock=False, radius=0.95,
                         wedgeprops={"alpha": alpha, "linewidth": 0})
    if options.value_labels == "none":
        return
    label_color = options.value_labels_color or parse_color("black")
    for wedge, (_, value) in zip(wedges, slices, strict=True):
        share = 100.0 * value / total
        if options.value_labels == "percent":
            if share < options.value_labels_min:
                continue
            text = f"{share:.2f}%"
        else:
            if value < options.value_labels_min:
                continue
            text = f"{value:.2f}" if value < 10 and value != int(value) else str(int(value))
        middle = math.radians((wedge.theta1 + wedge.theta2) / 2)
        rotation = 0.0
        if options.pie_labels == "rotated":
            rotation = math.degrees(middle)
            if 90 < rotation % 360 <= 270:
                rotation -= 180
        axes.text(0.475 * math.cos(middle), 0.475 * math.sin(middle), text,
                  ha="center", va="center", rotation=rotation, color=label_color,
                  fontproperties=canvas.font())
