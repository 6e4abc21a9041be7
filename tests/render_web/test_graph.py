from __future__ import annotations

import io
import itertools
import math
import struct
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.image import imread

from render_web.functions.registry import InputError
from render_web.graph import (
    GraphRenderer,
    YAxis,
    _AggText,
    _bare,
    _BareAxes,
    _bridge_gaps,
    _Canvas,
    _GlyphCache,
    _LineGraph,
    _properties,
    choose_step,
    pie_slices,
    points_per_pixel,
    render_image,
    x_ticks,
    y_axis,
)
from render_web.graphoptions import parse_graph_options
from render_web.series import TimeSeries

UTC = ZoneInfo("UTC")
START = 1_700_000_000          # 2023-11-14 22:13:20 UTC
DAY = 86400
BLUE = (100, 100, 255)         # graphite's first two default line colours
GREEN = (0, 200, 0)
RED = (200, 0, 50)


def wave(name: str, phase: float = 0.0, points: int = 1440, step: int = 60,
         **kwargs) -> TimeSeries:
    values = np.sin(np.arange(points) / 100 + phase) * 50 + 50
    return TimeSeries(name, START, step, values, **kwargs)


def render(series, fmt="png", **params) -> bytes:
    options = parse_graph_options({k: str(v) for k, v in params.items()})
    return render_image(series, options, fmt, START, START + DAY, UTC)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def pixels(data: bytes) -> np.ndarray:
    """RGB 0..255 integers of a PNG."""
    image = imread(io.BytesIO(data), format="png")
    return np.rint(image[:, :, :3] * 255).astype(int)


def has_color(image: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 3) -> bool:
    return bool((np.abs(image - np.array(rgb)).max(axis=2) <= tolerance).any())


def svg_texts(data: bytes) -> list[str]:
    """The texts of an SVG: matplotlib draws text as paths and names each in a comment."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.fromstring(data, parser=parser)
    return [c.text.strip() for c in root.iter(ET.Comment) if c.text]


# -- formats and size -----------------------------------------------------------------------

@pytest.mark.parametrize(("width", "height"), [(330, 250), (800, 600), (331, 97), (1200, 40)])
def test_png_has_the_requested_size(width, height):
    data = render([wave("a.b")], width=width, height=height)
    assert png_size(data) == (width, height)
    assert pixels(data).shape == (height, width, 3)


def test_png_is_a_drawing_with_the_series_colours_in_the_legend():
    data = render([wave("servers.web1.cpu"), wave("servers.web2.cpu", phase=1.0)])
    image = pixels(data)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 10   # not one flat colour
    legend = image[-30:, :, :]      # the legend is under the plot
    assert has_color(legend, BLUE)
    assert has_color(legend, GREEN)
    assert not has_color(legend, RED)


def test_svg_has_size_title_and_legend_texts():
    data = render([wave("servers.web1.cpu"), wave("servers.web2.cpu")], fmt="svg",
                  title="CPU usage", vtitle="percent")
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    assert (root.attrib["width"], root.attrib["height"]) == ("330px", "250px")
    texts = svg_texts(data)
    for text in ("CPU usage", "percent", "servers.web1.cpu", "servers.web2.cpu"):
        assert text in texts


def test_pdf_header():
    data = render([wave("a.b")], fmt="pdf")
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")


def test_unknown_format_is_refused():
    with pytest.raises(InputError, match="format"):
        render([wave("a.b")], fmt="gif")


# -- no data ------------------------------------------------------------------------------

@pytest.mark.parametrize("series", [
    [],
    [TimeSeries("empty", START, 60, np.zeros(0))],
])
def test_no_data_image(series):
    data = render(series)
    assert png_size(data) == (330, 250)
    image = pixels(data)
    assert has_color(image, RED, tolerance=40)        # "No Data" is written in red
    assert not has_color(image, BLUE)
    svg = render(series, fmt="svg")
    assert "No Data" in svg_texts(svg)


def test_all_null_series_still_draws_axes_like_graphite():
    series = TimeSeries("a.nulls", START, 60, np.full(10, np.nan))
    texts = svg_texts(render([series], fmt="svg"))
    assert "No Data" not in texts
    assert "a.nulls" in texts
    # graphite's y axis for no values: 0 to 1
    assert "0" in texts and "1.00" in texts


# -- legend ---------------------------------------------------------------------------------

def flat(name: str, value: float, points: int = 100) -> TimeSeries:
    return TimeSeries(name, START, 60, np.full(points, value))


def test_hide_legend_and_the_automatic_limit():
    assert "a" not in svg_texts(render([flat("a", 1)], fmt="svg", hideLegend="true"))
    eleven = [flat(f"s{i}", i) for i in range(11)]
    assert "s0" not in svg_texts(render(eleven, fmt="svg"))           # > 10: hidden
    assert "s0" in svg_texts(render(eleven, fmt="svg", hideLegend="false"))
    ten = eleven[:10]
    assert "s9" in svg_texts(render(ten, fmt="svg"))


def test_unique_legend_and_hide_null_from_legend():
    nulls = TimeSeries("gone", START, 60, np.full(100, np.nan))
    texts = svg_texts(render([flat("a", 1), flat("a", 2), nulls], fmt="svg",
                             uniqueLegend="true", hideNullFromLegend="true"))
    assert texts.count("a") == 1
    assert "gone" not in texts
    texts = svg_texts(render([flat("a", 1), flat("a", 2), nulls], fmt="svg"))
    assert texts.count("a") == 2
    assert "gone" in texts


def test_color_list_and_series_color_option():
    data = render([flat("a", 1), flat("b", 2)], colorList="ff0000,0000ff")
    legend = pixels(data)[-30:]
    assert has_color(legend, (255, 0, 0)) and has_color(legend, (0, 0, 255))
    # color() wins for its series, the others take the list in turn
    colored = flat("b", 2).copy(options={"color": "00ff00"})
    legend = pixels(render([flat("a", 1), colored]))[-30:]
    assert has_color(legend, BLUE) and has_color(legend, (0, 255, 0))
    assert not has_color(legend, GREEN)


def test_bad_series_color_is_an_input_error():
    with pytest.raises(InputError, match="color"):
        render([flat("a", 1).copy(options={"color": "notacolor"})])


# -- options that change the drawing --------------------------------------------------------

def test_graph_only_fills_the_image_with_the_plot():
    texts = svg_texts(render([wave("a.b")], fmt="svg", graphOnly="true", title="T"))
    assert texts == []          # no title, legend or axis labels
    image = pixels(render([flat("a.b", 5)], graphOnly="true", yMin=0, yMax=10))
    # the line is at half height across the whole width
    row = image[image.shape[0] // 2 - 2: image.shape[0] // 2 + 3]
    assert has_color(row[:, :5], BLUE) and has_color(row[:, -5:], BLUE)


def test_hide_axes_and_grid():
    texts = svg_texts(render([wave("a.b")], fmt="svg", hideAxes="true"))
    assert texts == ["a.b"]
    plain = pixels(render([flat("a", 5)], hideGrid="true", hideLegend="true"))
    rose = (200, 150, 200)
    assert not has_color(plain, rose)
    assert has_color(pixels(render([flat("a", 5)], hideLegend="true")), rose, tolerance=30)


def test_hide_x_and_y_axis():
    both = svg_texts(render([flat("a", 5)], fmt="svg", yMin=0, yMax=10))
    assert "10.0" in both and "22:30" in both
    no_y = svg_texts(render([flat("a", 5)], fmt="svg", yMin=0, yMax=10, hideYAxis="true"))
    assert "10.0" not in no_y and "22:30" in no_y
    no_x = svg_texts(render([flat("a", 5)], fmt="svg", yMin=0, yMax=10, hideXAxis="true"))
    assert "10.0" in no_x and "22:30" not in no_x


def test_y_bounds_and_unit_systems_show_in_labels():
    # 0..6000 in six steps of 1000: the step reaches "k", so the labels use it
    texts = svg_texts(render([flat("a", 6000)], fmt="svg", yMin=0, yMax=6000))
    assert "6.0 k" in texts
    # 0..3000 has steps of 500, below 1 k: no prefix (graphite's rule)
    texts = svg_texts(render([flat("a", 3000)], fmt="svg", yMin=0, yMax=3000))
    assert "3000.0" in texts
    texts = svg_texts(render([flat("a", 6 * 1024**2)], fmt="svg", yMin=0,
                             yMax=6 * 1024**2, yUnitSystem="binary"))
    assert "6.0 Mi" in texts
    texts = svg_texts(render([flat("a", 6 * 3600)], fmt="svg", yMin=0, yMax=6 * 3600,
                             yUnitSystem="sec"))
    assert any(t.endswith(" H") for t in texts)


def test_x_format_and_time_zone():
    texts = svg_texts(render([wave("a.b")], fmt="svg", xFormat="%d/%m"))
    assert "15/11" in texts
    options = parse_graph_options({})
    ny = svg_texts(render_image([wave("a.b")], options, "svg", START, START + DAY,
                                ZoneInfo("America/New_York")))
    utc = svg_texts(render([wave("a.b")], fmt="svg"))
    # the first UTC mark is midnight; New York (UTC-5) starts at 20:00 local
    assert utc[1] == "00:00" and ny[1] == "20:00"


@pytest.mark.parametrize("params", [
    {"lineMode": "staircase"},
    {"lineMode": "connected"},
    {"lineMode": "connected", "connectedLimit": "2"},
    {"areaMode": "first"},
    {"areaMode": "all", "areaAlpha": "0.4"},
    {"areaMode": "stacked"},
    {"areaMode": "stacked", "areaAlpha": "0.5"},
    {"drawNullAsZero": "true"},
    {"logBase": "10"},
    {"logBase": "e"},
    {"yAxisSide": "right"},
    {"yStep": "7", "yDivisors": "2,3"},
    {"yLimit": "60"},
    {"minorY": "3"},
    {"minXStep": "5"},
    {"template": "solarized-dark", "fontBold": "true", "fontItalic": "true",
     "fontName": "Serif", "fontSize": "12"},
    {"bgcolor": "black", "fgcolor": "white", "majorGridLineColor": "white",
     "minorGridLineColor": "333333"},
    {"title": "line one\nline two", "vtitle": "v"},
])
def test_options_render(params):
    gappy = wave("b.gappy", phase=2.0)
    gappy.values[100:300] = np.nan
    data = render([wave("a.b"), gappy], **params)
    assert png_size(data) == (330, 250)
    assert len(np.unique(pixels(data).reshape(-1, 3), axis=0)) > 10


def test_per_series_options_render():
    series = [
        wave("plain"),
        wave("wide").copy(options={"lineWidth": 4.0}),
        wave("dash", 1.0).copy(options={"dashed": 5}),
        wave("faint", 2.0).copy(options={"alpha": 0.3}),
        TimeSeries("events", START, 3600, np.array([0, 1, 0, 0, 2, np.nan] * 4),
                   options={"drawAsInfinite": True}),
        wave("st1", 3.0).copy(options={"stacked": True}),
        wave("right", 4.0).copy(options={"secondYAxis": True}),
    ]
    data = render(series, vtitleRight="right side", leftColor="red", rightWidth=3)
    assert png_size(data) == (330, 250)
    texts = svg_texts(render(series, fmt="svg", vtitleRight="right side"))
    assert "right side" in texts and "events" in texts


def test_area_between_band():
    lower = flat("band", 2).copy(options={"stacked": True, "invisible": True})
    upper = flat("band", 8).copy(options={"stacked": True})
    image = pixels(render([lower, upper], yMin=0, yMax=10, hideLegend="true",
                          hideAxes="true"))
    column = image[:, image.shape[1] // 2]
    # the invisible lower series takes the first colour, the band the second
    rows = np.flatnonzero(np.abs(column - np.array(GREEN)).max(axis=1) <= 3)
    assert not has_color(image, BLUE)
    # filled between 2 and 8 of 0..10: about the middle 60% of the height, not below
    height = image.shape[0]
    assert 0.5 * height < len(rows) < 0.7 * height
    assert rows.max() < 0.85 * height


def test_draw_as_infinite_is_a_full_height_line():
    events = TimeSeries("deploys", START, 60, np.array([0.0] * 50 + [1.0] + [0.0] * 49),
                        options={"drawAsInfinite": True, "color": "red"})
    image = pixels(render([flat("a", 5), events], hideLegend="true", hideAxes="true",
                          lineWidth=3))
    red_columns = np.flatnonzero([has_color(image[:, [x]], RED, 10)
                                  for x in range(image.shape[1])])
    assert len(red_columns) > 0
    x = red_columns[len(red_columns) // 2]
    red_rows = (np.abs(image[:, x] - np.array(RED)).max(axis=1) <= 10).sum()
    assert red_rows > 0.8 * image.shape[0]


def test_inputs_are_not_modified():
    a = wave("a")
    b = wave("b").copy(options={"stacked": True})
    before = (a.values.copy(), b.values.copy(), dict(b.options))
    render([a, b], areaMode="stacked", drawNullAsZero="true")
    assert np.array_equal(a.values, before[0]) and np.array_equal(b.values, before[1])
    assert b.options == before[2]


def test_pie_chart():
    series = [flat("big", 3), flat("small", 1)]
    data = render(series, graphType="pie")
    assert png_size(data) == (330, 250)
    legend = pixels(data)[-30:]
    assert has_color(legend, BLUE) and has_color(legend, GREEN)
    texts = svg_texts(render(series, fmt="svg", graphType="pie"))
    # average pie mode: 3 of 4 is 75 %, 1 of 4 is 25 %
    assert {"big", "small", "75.00%", "25.00%"} <= set(texts)
    numbers = svg_texts(render(series, fmt="svg", graphType="pie", valueLabels="number",
                               valueLabelsMin=0))
    assert {"3", "1"} <= set(numbers)
    assert "No Data" in svg_texts(render([], fmt="svg", graphType="pie"))


# -- pure helpers -----------------------------------------------------------------------------

def test_pie_slices_by_mode():
    series = [TimeSeries("a", START, 60, np.array([1.0, np.nan, 3.0, 2.0])),
              TimeSeries("none", START, 60, np.full(3, np.nan))]
    # average of the non-null points: (1+3+2)/3 = 2; a series without values counts 0
    assert pie_slices(series, "average") == [("a", 2.0), ("none", 0.0)]
    assert pie_slices(series, "maximum") == [("a", 3.0), ("none", 0.0)]
    assert pie_slices(series, "minimum") == [("a", 1.0), ("none", 0.0)]
    with pytest.raises(InputError):
        pie_slices(series, "median")


def test_points_per_pixel():
    # one day of minutes is 1440 points over 300 pixels: 1440/300 = 4.8 -> 5 per pixel
    assert points_per_pixel(86400, 60, 300, 1.0) == 5
    # minXStep=2 leaves 150 drawable points: 1440/150 = 9.6 -> 10
    assert points_per_pixel(86400, 60, 300, 2.0) == 10
    # 100 points get 3 pixels each: nothing to merge
    assert points_per_pixel(6000, 60, 300, 1.0) == 1


def test_pixel_consolidation_uses_each_series_function():
    options = parse_graph_options({"hideLegend": "true", "hideAxes": "true"})
    canvas = _Canvas(Figure(figsize=(330 / 72, 250 / 72), dpi=72), options)
    spike = np.zeros(1440)
    spike[7] = 100.0
    averaged = TimeSeries("avg", START, 60, spike)
    maxed = TimeSeries("max", START, 60, spike, consolidation="max")
    graph = _LineGraph(canvas, [averaged, maxed], UTC)
    start, end = graph._time_range()
    drawn = graph._consolidated(start, end)
    per_pixel = drawn[0].series.values_per_point
    assert per_pixel > 1
    assert drawn[0].values.max() == pytest.approx(100.0 / per_pixel)
    assert drawn[1].values.max() == 100.0


def test_bridge_gaps():
    x = np.arange(7, dtype=float)
    y = np.array([1, np.nan, 3, np.nan, np.nan, np.nan, 7])
    bx, by = _bridge_gaps(x, y, None)
    assert bx.tolist() == [0, 2, 6] and by.tolist() == [1, 3, 7]
    # limit 2: the one-point gap is bridged, the three-point gap stays broken
    bx, by = _bridge_gaps(x, y, 2)
    assert bx.tolist() == [0, 2, 3, 4, 5, 6]
    assert np.isnan(by[2:5]).all()


@pytest.mark.parametrize(("low", "high", "divisors", "binary", "step"), [
    # span 100: at least 100/6 = 16.7 -> 20, five steps 0..100 fit exactly
    (0, 100, (4, 5, 6), False, 20),
    # span 1500: at least 250 -> 500, four steps to 2000 waste 500; 1000 can't do better
    (0, 1500, (4, 5, 6), False, 500),
    (0, 3000, (4, 5, 6), False, 500),       # six steps of 500 fit exactly
    (0, 3 * 1024**2, (4, 5, 6), True, 2**19),
    (0.5, 0.9, (4, 5, 6), False, 0.1),
])
def test_choose_step(low, high, divisors, binary, step):
    assert choose_step(low, high, divisors, binary) == pytest.approx(step)


def test_y_axis_labels():
    options = parse_graph_options({})
    axis = y_axis(0, 100, options)
    assert axis.values == [0, 20, 40, 60, 80, 100]
    assert axis.labels == ["0", "20.0", "40.0", "60.0", "80.0", "100.0"]
    axis = y_axis(0, 5e6, options)
    assert axis.labels == ["0", "1.0 M", "2.0 M", "3.0 M", "4.0 M", "5.0 M"]
    axis = y_axis(0, 3 * 1024**2, parse_graph_options({"yUnitSystem": "binary"}))
    assert axis.labels[1] == "512.0 Ki"
    axis = y_axis(0, 1, options)
    # span 1 with step 0.2: 0.2 < 1 -> two decimals
    assert axis.labels == ["0", "0.20", "0.40", "0.60", "0.80", "1.00"]


def test_y_axis_user_bounds_and_limit():
    options = parse_graph_options({})
    axis = y_axis(0, 100, options, y_min=10, y_max=50)
    assert (axis.bottom, axis.top) == (10, 50)
    assert axis.values == [10, 20, 30, 40, 50]
    axis = y_axis(0, 95, options, y_limit=90)
    assert axis.top == 90
    axis = y_axis(5, 5, options)            # one value: graphite widens by 10% around it
    assert axis.bottom <= 4.5 and axis.top >= 5.5
    axis = y_axis(0, 0, options)
    assert (axis.bottom, axis.top) == (-1, 1)
    with pytest.raises(InputError):
        y_axis(0, 10, options, y_min=5, y_max=5)
    axis = y_axis(0, 100, options, y_step=25)
    assert axis.values == [0, 25, 50, 75, 100]


def test_log_axis():
    axis = y_axis(0.5, 300, parse_graph_options({"logBase": "10"}))
    assert isinstance(axis, YAxis)
    assert axis.log_base == 10
    assert axis.values == pytest.approx([0.1, 1, 10, 100, 1000])


def test_x_ticks_in_utc_and_new_york():
    def width(text: str) -> float:
        return 6.0 * len(text)

    # "%H:%M" is 30 px + 12 px gap; a day over 300 px needs steps of >= 86400*42/300
    # = 12096 s: 4 hours. From 22:13:20 UTC the first 4-hour mark is 00:00.
    positions, labels, minors = x_ticks(START, START + DAY, UTC, 300, width)
    assert labels == ["00:00", "04:00", "08:00", "12:00", "16:00", "20:00"]
    assert positions[0] == 1_700_006_400      # 2023-11-15 00:00 UTC
    assert all(b - a == 4 * 3600 for a, b in itertools.pairwise(positions))
    assert all(START <= m <= START + DAY for m in minors)
    # New York is UTC-5 in November: 17:13:20 local, first mark 20:00 local = 01:00 UTC
    positions, labels, _ = x_ticks(START, START + DAY, ZoneInfo("America/New_York"), 300,
                                   width)
    assert labels[:2] == ["20:00", "00:00"]
    assert positions[0] == 1_700_010_000


def test_x_ticks_long_ranges_use_dates():
    positions, labels, _ = x_ticks(START, START + 30 * DAY, UTC, 300, lambda t: 6.0 * len(t))
    assert all(len(label) == 5 and label[2] == "/" for label in labels)   # %m/%d
    assert all(math.isclose((b - a) % DAY, 0) for a, b in itertools.pairwise(positions))


def test_x_labels_that_would_leave_the_image_are_dropped():
    midnight = 1_700_006_400           # 2023-11-15 00:00 UTC
    day = TimeSeries("a.b", midnight, 60, np.arange(1440.0))
    options = parse_graph_options({"lineMode": "staircase"})
    texts = svg_texts(render_image([day], options, "svg", midnight, midnight + DAY, UTC))
    # staircase spans exactly one day: the 00:00 mark at the right edge would be cut
    assert texts.count("00:00") == 1
    assert "20:00" in texts


@pytest.mark.parametrize("start", [1_699_160_400, 1_710_046_800])   # NY fall-back, spring
def test_x_ticks_across_a_dst_change_move_forward(start):
    ny = ZoneInfo("America/New_York")
    for width in (200, 800, 3000):
        positions, labels, _ = x_ticks(start, start + DAY, ny, width, lambda t: 6.0 * len(t))
        assert positions == sorted(set(positions))
        assert len(positions) == len(labels) > 0
        assert start <= positions[0] and positions[-1] <= start + DAY


# -- layout drawn without matplotlib's tick machinery ----------------------------------------

def laid_out(series, **params) -> tuple[Figure, _LineGraph]:
    """A line graph built on a figure (not yet drawn), for looking at its artists."""
    options = parse_graph_options({k: str(v) for k, v in params.items()})
    figure = Figure(figsize=(options.width / 72, options.height / 72), dpi=72)
    graph = _LineGraph(_Canvas(figure, options), series, UTC)
    graph.draw()
    return figure, graph


def text_boxes(figure: Figure) -> dict[str, list]:
    """Window extents (pixels, y upwards) of the figure's texts by their string."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    boxes: dict[str, list] = {}
    for text in figure.texts:
        boxes.setdefault(text.get_text(), []).append(text.get_window_extent(renderer))
    return boxes


def test_y_labels_sit_beside_the_plot_centred_on_their_values():
    figure, _ = laid_out([flat("a", 5)], yMin=0, yMax=10, width=400, height=300)
    plot = figure.axes[0].get_window_extent()
    boxes = text_boxes(figure)
    # 0..10 in steps of 2: six labels, each 3 px left of the plot, centred on its line
    for value, label in [(0, "0"), (2, "2.0"), (10, "10.0")]:
        (box,) = boxes[label]
        assert box.x1 == pytest.approx(plot.x0 - 3, abs=0.5)
        y = plot.y0 + plot.height * value / 10
        assert abs((box.y0 + box.y1) / 2 - y) < 3
    # yAxisSide=right: the labels move to 3 px right of the plot
    figure, _ = laid_out([flat("a", 5)], yMin=0, yMax=10, width=400, height=300,
                         yAxisSide="right")
    plot = figure.axes[0].get_window_extent()
    (box,) = text_boxes(figure)["10.0"]
    assert box.x0 == pytest.approx(plot.x1 + 3, abs=0.5)


def test_second_y_axis_labels_are_right_of_the_plot():
    right = flat("r", 500).copy(options={"secondYAxis": True})
    figure, _ = laid_out([flat("a", 5), right], yMinLeft=0, yMaxLeft=10, yMinRight=0,
                         yMaxRight=1000, width=400, height=300)
    plot = figure.axes[0].get_window_extent()
    boxes = text_boxes(figure)
    (left_top,) = boxes["10.0"]
    assert left_top.x1 < plot.x0
    # 0..1000 in steps of 200: "1000.0" (no k below a step of 1 k), 4 px right of the plot
    (right_top,) = boxes["1000.0"]
    assert right_top.x0 == pytest.approx(plot.x1 + 4, abs=0.5)


def test_x_labels_sit_under_their_grid_lines():
    figure, _ = laid_out([wave("a.b")], width=400, height=300)
    axes = figure.axes[0]
    plot = axes.get_window_extent()
    boxes = text_boxes(figure)
    (box,) = boxes["00:00"]
    midnight = 1_700_006_400          # 2023-11-15 00:00 UTC, the first 4-hour mark
    x = axes.transData.transform((midnight, 0))[0]
    assert (box.x0 + box.x1) / 2 == pytest.approx(x, abs=0.5)
    assert box.y1 == pytest.approx(plot.y0 - 3, abs=0.5)


def test_grid_is_one_collection_per_kind_of_line():
    figure, _ = laid_out([flat("a", 5)], yMin=0, yMax=10, minorY=1, width=400, height=300)
    axes = figure.axes[0]
    grids = [c for c in axes.collections if isinstance(c, LineCollection)]
    by_width = {float(c.get_linewidth()[0]): c for c in grids}
    assert sorted(by_width) == [0.25, 0.3, 0.33, 0.4]
    # six major values 0..10; one minor line between each pair: five
    assert len(by_width[0.4].get_segments()) == 6
    assert len(by_width[0.3].get_segments()) == 5
    # no line artists besides the series itself
    assert len(axes.lines) == 1
    # minor grid lines below the major ones
    assert by_width[0.3].get_zorder() < by_width[0.4].get_zorder()


def test_hidden_axes_have_no_labels_and_no_grid():
    figure, _ = laid_out([flat("a", 5)], hideAxes="true", width=400, height=300)
    assert [t.get_text() for t in figure.texts] == ["a"]        # the legend alone
    assert not figure.axes[0].collections
    figure, _ = laid_out([flat("a", 5)], hideGrid="true", yMin=0, yMax=10, width=400,
                         height=300)
    assert not figure.axes[0].collections
    assert "0" in {t.get_text() for t in figure.texts}


def test_text_width_is_measured_once_and_grows_with_size():
    options = parse_graph_options({})
    graphs = GraphRenderer()
    canvas = _Canvas(Figure(figsize=(330 / 72, 250 / 72), dpi=72), options, graphs.text_width)
    assert canvas.text_width("") == 0.0
    small = canvas.text_width("servers.web1.cpu")
    hits = graphs.text_width.cache_info().hits
    assert canvas.text_width("servers.web1.cpu") == small
    assert graphs.text_width.cache_info().hits == hits + 1
    assert canvas.text_width("servers.web1.cpu", size=20) > small
    assert canvas.font() is canvas.font()     # one FontProperties per size


def shared(graphs: GraphRenderer, series, **params) -> bytes:
    options = parse_graph_options({k: str(v) for k, v in params.items()})
    return graphs.render(series, options, "png", START, START + DAY, UTC)


def test_reused_renderer_leaves_nothing_of_the_previous_image():
    # renders of one size share this thread's renderer: B after A must equal B after B
    graphs = GraphRenderer()
    a = shared(graphs, [flat("a", 5)], bgcolor="black")
    b_after_a = shared(graphs, [wave("b")])
    b_after_b = shared(graphs, [wave("b")])
    assert a != b_after_a
    assert b_after_a == b_after_b


def test_threads_draw_the_same_image():
    graphs = GraphRenderer()
    expected = render([wave("a.b"), wave("c.d", 1.0)])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(
            lambda _: shared(graphs, [wave("a.b"), wave("c.d", 1.0)]), range(8)))
    assert all(result == expected for result in results)


def test_consolidation_is_redone_only_when_points_per_pixel_change():
    options = parse_graph_options({"hideLegend": "true", "hideAxes": "true"})
    canvas = _Canvas(Figure(figsize=(330 / 72, 250 / 72), dpi=72), options)
    graph = _LineGraph(canvas, [wave("a")], UTC)
    start, end = graph._time_range()
    first = graph._consolidated(start, end)
    # the plot spans 20..320 px, less lineWidth + 1: 298 px for 1440 points, so
    # ceil(1440 / 298) = 5 per pixel; one pixel less (297) still needs 5: reused
    graph.area.xmax -= 1
    assert graph._consolidated(start, end) is first
    # 200 px: ceil(1440 / 200) = ceil(7.2) = 8 per pixel, consolidated again
    graph.area.xmax = graph.area.xmin + 200 + 2
    again = graph._consolidated(start, end)
    assert again is not first
    assert again[0].series.values_per_point == 8


# -- PNG texts from cached glyphs, tickless axes: the same pixels as plain matplotlib ----
# These pin the matplotlib internals graph.py replays (Text._get_layout, the ft2font
# glyph calls, draw_text_image, Axes._init_axis): a matplotlib change that moves a pixel
# fails here.

def _agg_pixels(figure: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


TEXTS = ["12:00", "100.0", "servers.web1.cpu", "Wgy  AV fi ff", "ünï ©∑", "0", "x\\$y"]
PLACES = [  # ha, va, rotation, rotation_mode (those graph.py uses, and more)
    ("left", "top", 0.0, "anchor"), ("center", "top", 0.0, "default"),
    ("right", "center_baseline", 0.0, "default"), ("center", "baseline", 90.0, "anchor"),
    ("center", "baseline", -90.0, "anchor"), ("left", "bottom", 33.0, "default"),
    ("right", "center", 200.0, "anchor"),
]


@pytest.mark.parametrize(("size", "bold", "italic", "family"), [
    (10.0, False, False, "DejaVu Sans"), (13.0, True, True, "DejaVu Serif"),
    (7.5, False, True, "DejaVu Sans Mono"),
])
def test_cached_glyph_texts_draw_as_matplotlib_texts(size, bold, italic, family):
    key = (family, size, bold, italic)
    color = (0.8, 0.2, 0.4, 0.7)
    cache = _GlyphCache(64, 64)          # small: entries are dropped and made again
    rng = np.random.default_rng(7)
    spots = [(20 + 37.3 * i + rng.random(), 15 + 23.1 * j + rng.random())
             for i in range(len(TEXTS)) for j in range(len(PLACES))]

    def figure(cached: bool) -> Figure:
        fig = Figure(figsize=(300 / 72, 200 / 72), dpi=72, facecolor="white")
        for (x, y), (text, (ha, va, rotation, mode)) in zip(
                spots, itertools.product(TEXTS, PLACES), strict=True):
            kwargs = {"fontproperties": _properties(key), "ha": ha, "va": va,
                      "rotation": rotation, "color": color, "rotation_mode": mode,
                      "clip_on": False, "transform": fig.dpi_scale_trans}
            if cached:
                fig.add_artist(_AggText(cache, (text, key, ha, va, rotation, mode),
                                        (x / 72, y / 72), text, kwargs))
            else:
                fig.text(x / 72, y / 72, text, **kwargs)
        return fig

    expected = _agg_pixels(figure(cached=False))
    assert _agg_pixels(figure(cached=True)).tobytes() == expected.tobytes()    # cold
    assert _agg_pixels(figure(cached=True)).tobytes() == expected.tobytes()    # warm


def test_glyph_bitmaps_move_by_whole_pixels_unchanged():
    # What makes caching a glyph by its 1/64-pixel fraction exact: the same text one
    # and a half pixels further draws the same pixels one pixel further (plus a half).
    cache = _GlyphCache(16, 4096)

    def drawn(dx: float) -> np.ndarray:
        fig = Figure(figsize=(200 / 72, 40 / 72), dpi=72, facecolor="white")
        kwargs = {"fontproperties": _properties(("DejaVu Sans", 11.0, False, False)),
                  "ha": "left", "va": "top", "rotation": 0.0, "color": (0, 0, 0, 1),
                  "rotation_mode": "anchor", "clip_on": False,
                  "transform": fig.dpi_scale_trans}
        fig.add_artist(_AggText(cache, ("Wave 12:00", "k", dx), (
            (10.3 + dx) / 72, 30.6 / 72), "Wave 12:00", kwargs))
        return _agg_pixels(fig)

    base, moved = drawn(0.0), drawn(3.0)
    assert base.tobytes() != moved.tobytes()
    assert np.array_equal(base[:, 5:150], moved[:, 8:153])


GRAPHS = [
    ([wave("servers.web1.cpu"), wave("servers.web2.cpu", 1.0)], {}),
    ([wave("a.b")], {"width": 800, "height": 600, "title": "CPU usage\nper host",
                     "vtitle": "percent"}),
    ([wave("a.b").copy(options={"secondYAxis": True}), wave("c")],
     {"vtitle": "left", "vtitleRight": "right\nside", "fontBold": "true"}),
    ([wave("a.b")], {"template": "solarized-dark", "fontName": "Serif", "fontSize": 12,
                     "fontItalic": "true", "yAxisSide": "right", "logBase": 10}),
    ([flat(f"s{i}", i) for i in range(11)], {"hideLegend": "false"}),
    ([flat("cost $x^2$", 1), flat("two\nlines", 2), flat("x\\$y", 3)], {"title": "$a$"}),
    ([flat("big", 3), flat("small", 1)], {"graphType": "pie", "valueLabels": "number",
                                         "pieLabels": "rotated", "title": "Pie"}),
    ([], {"width": 800, "height": 600}),
    ([wave("a.b")], {"bgcolor": "00000000", "fgcolor": "ff000080"}),
]


@pytest.mark.parametrize(("series", "params"), GRAPHS)
def test_png_is_the_same_with_and_without_the_glyph_cache(series, params):
    plain = shared(GraphRenderer(glyph_cache=0), series, **params)
    graphs = GraphRenderer(glyph_cache=50)       # small enough to be emptied on the way
    assert shared(graphs, series, **params) == plain
    assert shared(graphs, series, **params) == plain      # warm
    assert render(series, **params) == plain


def test_bare_axes_draw_as_axes():
    def figure(axes_class: type) -> np.ndarray:
        fig = Figure(figsize=(300 / 72, 200 / 72), dpi=72, facecolor="white")
        axes = fig.add_axes((0.1, 0.15, 0.8, 0.7), axes_class=axes_class)
        _bare(axes)
        axes.margins(0)
        axes.set_xlim(0, 100)
        axes.set_yscale("log", base=10)
        axes.set_ylim(1, 1000)
        x = np.linspace(0, 100, 3000)
        axes.plot(x, 10 ** (1 + np.sin(x / 7) + x / 60), color="blue", linewidth=1.3)
        axes.fill_between(x, 1, 5 + x, alpha=0.3)
        axes.add_collection(LineCollection(
            [((0.0, 30.0), (1.0, 30.0))], transform=axes.get_yaxis_transform(which="grid"),
            colors=["red"], linewidths=0.4))
        axes.vlines([25.0, 75.0], 0, 1, transform=axes.get_xaxis_transform(), colors="g")
        for side in ("left", "right", "top", "bottom"):
            axes.spines[side].set_visible(True)
            axes.spines[side].set_linewidth(0.5)
        right = axes.twinx(axes_class=axes_class)
        _bare(right)
        right.set_ylim(-5, 5)
        right.plot([10, 90], [-4, 4], color="black")
        right.spines["right"].set_visible(True)
        fig.text(1.0, 2.0, "label", transform=axes.get_yaxis_text2_transform(3)[0])
        fig.text(50.0, 0.0, "12:00", transform=axes.get_xaxis_text1_transform(3)[0])
        return _agg_pixels(fig)

    assert figure(_BareAxes).tobytes() == figure(Axes).tobytes()
