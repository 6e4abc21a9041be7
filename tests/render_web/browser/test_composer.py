"""The composer in a real browser: Debian's Chromium, headless, driven by Playwright,
against a real `statsgraph web` subprocess (under a URL prefix, so every path the pages
build must honour it) reading whisper files made here.

The scenario is the issue's: expand the tree, click two metrics, see a graph, apply a
function, change the time range, save, reload and find it listed, open the permalink,
build a dashboard of two graphs, delete a graph; a hostile graph name and a metric with
quotes in its name show as text and run nothing (no dialog may ever open). Screenshots
of the main states go to the test's tmp dir and to test-artifacts/screenshots/.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import matplotlib.image
import numpy as np
import pytest
import whisper

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not installed (/usr/bin/chromium); "
                                       "the README's test command installs it")

PREFIX = "/graphite"
HOSTILE = "<img src=x onerror=alert(1)>"
QUOTED = "it's \"quoted\""          # a metric node with both quote characters
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
ARCHIVES = [(60, 2 * 1440), (3600, 40 * 24)]    # 1min for 2 days, 1h for 40 days


def make_metric(storage: Path, name: str, now: int, level: float) -> None:
    """A whisper file with a point a minute over the last two days: a slow wave."""
    path = storage.joinpath(*name.split(".")).with_suffix(".wsp")
    path.parent.mkdir(parents=True, exist_ok=True)
    whisper.create(str(path), ARCHIVES)
    stamps = np.arange(now - 2 * 86400 + 60, now + 1, 60)
    values = level + 10 * np.sin(stamps / 3600.0)
    whisper.update_many(str(path), list(zip(stamps.tolist(), values.tolist(), strict=True)))


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    root = tmp_path / "whisper"
    now = int(time.time())
    make_metric(root, "servers.web1.cpu", now, 40)
    make_metric(root, "servers.web2.cpu", now, 70)
    make_metric(root, "servers.web1.mem", now, 20)
    make_metric(root, f"apps.{QUOTED}.count", now, 5)
    return root


@pytest.fixture
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--headless", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


class Shots:
    """Screenshots kept under the test's tmp dir and copied to test-artifacts/."""

    def __init__(self, tmp: Path, prefix: str) -> None:
        self.dir = tmp / "screenshots"
        self.dir.mkdir(exist_ok=True)
        self.prefix = prefix
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(self, page, name: str) -> Path:
        path = self.dir / f"{self.prefix}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shutil.copy(path, ARTIFACTS / path.name)
        return path


def watch_dialogs(page) -> list[str]:
    """Every dialog the page opens (alert, confirm, prompt, beforeunload), dismissed."""
    seen: list[str] = []

    def record(dialog) -> None:
        seen.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    return seen


def colored_pixels(png: bytes) -> int:
    """Pixels of a saturated colour: the series lines (axes, grid and text are grey)."""
    rgb = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]
    return int(((rgb.max(axis=2) - rgb.min(axis=2)) > 0.3).sum())


def wait_graph(page, box: str = "#graph-box") -> None:
    page.wait_for_selector(f'{box}[data-state="loaded"]', timeout=20_000)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def tree_node(page, path: str):
    # A JSON string is a valid CSS string, quotes escaped.
    return page.locator(f"#tree li[data-path={json.dumps(path)}] > .node-label").first


def test_composer_scenario(web_daemon, storage, browser, tmp_path):
    web = web_daemon("--url-prefix", PREFIX, "--index-refresh", "0.5", storage=storage)
    base = web.url(PREFIX)
    shots = Shots(tmp_path, "desktop")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs = watch_dialogs(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Open the page; the tree shows the top level.
    page.goto(base + "/")
    tree_node(page, "servers").wait_for()
    shots.take(page, "01-empty")

    # Expand the tree and click two metrics: each becomes a target and the graph redraws.
    tree_node(page, "servers").click()
    tree_node(page, "servers.web1").click()
    tree_node(page, "servers.web2").click()
    tree_node(page, "servers.web1.cpu").click()
    tree_node(page, "servers.web2.cpu").click()
    assert page.locator("#targets .target-text").evaluate_all(
        "nodes => nodes.map(n => n.value)") == ["servers.web1.cpu", "servers.web2.cpu"]
    wait_graph(page)
    src = page.locator("#graph").get_attribute("src")
    assert src.startswith(PREFIX + "/render?")
    assert query_of(src)["target"] == ["servers.web1.cpu", "servers.web2.cpu"]
    assert colored_pixels(page.locator("#graph").screenshot()) > 200
    assert query_of(page.url)["target"] == ["servers.web1.cpu", "servers.web2.cpu"]
    shots.take(page, "02-two-metrics")

    # Apply a function from the menu: its defaults are pre-filled.
    page.locator("#targets .target").nth(0).locator(".wrap").click()
    page.locator("#wrap-function").select_option("summarize")
    assert page.locator("#wrap-param-func").input_value() == "sum"
    assert page.locator("#wrap-param-alignToFrom").input_value() == "false"
    page.locator("#wrap-param-intervalString").fill("10min")
    shots.take(page, "03-function-menu")
    page.locator("#wrap-apply").click()
    first = 'summarize(servers.web1.cpu,"10min","sum",false)'
    assert page.locator("#targets .target-text").first.input_value() == first
    wait_graph(page)
    assert query_of(page.url)["target"][0] == first

    # Move, edit as text, remove: the list and the address follow.
    page.locator("#targets .target").nth(1).locator(".up").click()
    assert query_of(page.url)["target"] == ["servers.web2.cpu", first]
    page.locator("#targets .target").nth(1).locator(".down").is_disabled()
    page.locator("#targets .target").nth(0).locator(".down").click()
    assert query_of(page.url)["target"] == [first, "servers.web2.cpu"]

    # Change the time range with a preset, then the graph options.
    page.locator('.preset[data-from="-6h"]').click()
    wait_graph(page)
    assert query_of(page.url)["from"] == ["-6h"]
    assert query_of(page.locator("#graph").get_attribute("src"))["from"] == ["-6h"]
    page.locator('#options [name="title"]').fill("Web CPU")
    page.locator('#options [name="areaMode"]').select_option("stacked")
    page.locator('#options [name="yMin"]').fill("0")
    page.locator('#options [name="yMin"]').press("Tab")
    page.wait_for_function("() => new URLSearchParams(location.search).get('yMin') === '0'")
    wait_graph(page)
    query = query_of(page.url)
    assert (query["title"], query["areaMode"], query["yMin"]) == (["Web CPU"], ["stacked"],
                                                                 ["0"])
    shots.take(page, "04-function-range-options")

    # A copied link reopens the same graph.
    copied = page.url
    other = context.new_page()
    watch_dialogs(other)
    other.goto(copied)
    assert other.locator("#targets .target-text").evaluate_all(
        "nodes => nodes.map(n => n.value)") == [first, "servers.web2.cpu"]
    assert other.locator('#options [name="areaMode"]').input_value() == "stacked"
    other.close()

    # Save under a name (the page's own dialog, not window.prompt).
    page.locator("#save").click()
    page.locator("#modal-input").fill("web cpu")
    shots.take(page, "05-save-dialog")
    page.locator("#modal-ok").click()
    page.locator('#saved li[data-name="web cpu"]').wait_for()
    assert "Saved" in page.locator("#save-status").text_content()

    # A second graph, saved under a hostile name.
    page.locator("#clear").click()
    tree_node(page, "servers.web1.mem").click()
    wait_graph(page)
    page.locator("#save").click()
    page.locator("#modal-input").fill(HOSTILE)
    page.locator("#modal-ok").click()
    page.locator("#saved li.saved-graph").nth(1).wait_for()

    # Reload: both are listed, the hostile name as plain text.
    page.reload()
    page.locator("#saved li.saved-graph").nth(1).wait_for()
    names = page.locator("#saved li.saved-graph .name").all_text_contents()
    assert sorted(names) == sorted(["web cpu", HOSTILE])
    assert page.locator('img[src="x"]').count() == 0
    shots.take(page, "06-saved-list")

    # Open a saved graph in the composer from the list.
    page.locator('#saved li[data-name="web cpu"] .name').click()
    assert page.locator("#targets .target-text").first.input_value() == first
    wait_graph(page)

    # Its permalink page: title, image, targets as text, links.
    page.locator('#saved li[data-name="web cpu"] .permalink').click()
    page.wait_for_url(re.compile(r".*/graphite/graphs/web%20cpu$"))
    assert page.locator("#graph-name").text_content() == "Web CPU"
    assert page.locator("#graph-targets code").all_text_contents() == [first,
                                                                       "servers.web2.cpu"]
    page.wait_for_function("() => document.getElementById('graph').naturalWidth > 0")
    assert colored_pixels(page.locator("#graph").screenshot()) > 200
    assert page.locator("#png-link").get_attribute("href").startswith(
        PREFIX + "/graphs/web%20cpu.png")
    shots.take(page, "07-permalink")
    page.locator("#open-composer").click()
    page.locator("#targets .target").nth(1).wait_for()
    assert page.locator("#targets .target-text").first.input_value() == first

    # The hostile name's permalink shows it as text.
    page.goto(base + "/graphs/" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert page.locator("#graph-name").text_content() == HOSTILE
    assert page.locator('img[src="x"]').count() == 0
    shots.take(page, "08-hostile-permalink")

    # A dashboard of two graphs: create, add, reorder, save, reload.
    page.goto(base + "/dashboards")
    page.locator("#dashboard-name").fill("ops")
    page.locator("#create-dashboard button").click()
    page.wait_for_url(re.compile(r".*/graphite/dashboards/ops\?edit=1$"))
    page.locator("#add-graph option").nth(2).wait_for(state="attached")
    page.locator("#add-graph").select_option("web cpu")
    page.locator("#add-panel button[type=submit]").click()
    page.locator("#add-graph").select_option(HOSTILE)
    page.locator("#add-panel button[type=submit]").click()
    page.locator("#panels .panel").nth(1).wait_for()
    page.locator("#panels .panel").nth(1).locator(".up").click()
    assert page.locator("#panels .panel h2").all_text_contents() == [HOSTILE, "Web CPU"]
    page.locator('.preset[data-from="-1d"]').click()
    page.locator("#auto-refresh").select_option("60")
    page.locator("#dashboard-save").click()
    page.wait_for_function(
        "() => document.getElementById('dashboard-status').textContent === 'Saved.'")
    page.goto(base + "/dashboards/ops")
    page.locator("#panels .panel").nth(1).wait_for()
    assert page.locator("#panels .panel h2").all_text_contents() == [HOSTILE, "Web CPU"]
    for i in range(2):
        wait_graph(page, f'#panels .panel[data-index="{i}"] .graph-box')
        src = page.locator("#panels .panel img").nth(i).get_attribute("src")
        assert query_of(src)["from"] == ["-1d"]
    assert page.locator("#auto-refresh").input_value() == "60"
    assert page.locator('img[src="x"]').count() == 0
    shots.take(page, "09-dashboard")

    # Delete a graph from the composer's list: the dashboard shows its panel as missing.
    page.goto(base + "/")
    page.locator('#saved li[data-name="web cpu"] .delete').click()
    page.locator("#modal-ok").click()
    page.locator('#saved li[data-name="web cpu"]').wait_for(state="detached")
    assert page.locator("#saved li.saved-graph .name").all_text_contents() == [HOSTILE]
    page.goto(base + "/dashboards/ops")
    page.locator("#panels .panel.missing").wait_for()
    assert "web cpu" in page.locator("#panels .panel.missing").text_content()
    wait_graph(page, '#panels .panel[data-index="0"] .graph-box')
    shots.take(page, "10-dashboard-missing")

    assert dialogs == []
    assert errors == []
    context.close()


def test_quoted_metric_and_new_namespaces(web_daemon, storage, browser, tmp_path):
    """A metric with both quote characters is shown as text and graphs (its target
    escapes them); a namespace created while the page is open appears in the tree."""
    web = web_daemon("--url-prefix", PREFIX, "--index-refresh", "0.5", storage=storage)
    shots = Shots(tmp_path, "quotes")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs = watch_dialogs(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(web.url(PREFIX + "/"))

    tree_node(page, "apps").click()
    tree_node(page, f"apps.{QUOTED}").click()
    label = tree_node(page, f"apps.{QUOTED}.count")
    assert label.text_content().endswith("count")
    assert page.locator("#tree").text_content().count(QUOTED) == 1
    label.click()
    target = "apps.it\\'s\\ \\\"quoted\\\".count"
    assert page.locator("#targets .target-text").first.input_value() == target
    wait_graph(page)
    assert colored_pixels(page.locator("#graph").screenshot()) > 200
    shots.take(page, "01-quoted-metric")

    # The filter takes wildcards; without one it matches names starting with the text.
    page.locator("#tree-filter").fill("servers.*.cpu")
    page.wait_for_function("""() => [...document.querySelectorAll('#tree > li')]
        .map(li => li.dataset.path).join() === 'servers.web1.cpu,servers.web2.cpu'""")
    page.locator("#tree-filter").fill("serv")
    tree_node(page, "servers").wait_for()
    page.locator("#tree-filter").fill("")
    tree_node(page, "apps").wait_for()

    make_metric(storage, "fresh.namespace.metric", int(time.time()), 1)
    tree_node(page, "fresh").wait_for(timeout=20_000)
    assert dialogs == []
    assert errors == []
    context.close()


def test_phone_layout(web_daemon, storage, browser, tmp_path):
    """On a phone the tree folds above the graph and the graph fits the screen."""
    web = web_daemon("--url-prefix", PREFIX, storage=storage)
    shots = Shots(tmp_path, "phone")
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    dialogs = watch_dialogs(page)
    page.goto(web.url(PREFIX + "/?target=servers.web1.cpu&target=servers.web2.cpu&from=-3h"))
    wait_graph(page)
    tree = page.locator("#sidebar").bounding_box()
    graph = page.locator("#graph").bounding_box()
    assert tree["y"] + tree["height"] <= graph["y"]
    assert graph["x"] >= 0
    assert graph["x"] + graph["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shots.take(page, "01-composer")
    page.locator("#tree-toggle").click()
    assert page.locator("#tree-body").is_hidden()
    shots.take(page, "02-tree-folded")
    assert dialogs == []
    context.close()


def test_rename_overwrite_custom_range_and_adhoc_panels(web_daemon, storage, browser, tmp_path):
    """The rest of the saved-graph list (rename, overwrite) and of a dashboard's editing
    (an ad-hoc panel, removing a panel, a custom range)."""
    web = web_daemon("--url-prefix", PREFIX, storage=storage)
    base = web.url(PREFIX)
    shots = Shots(tmp_path, "manage")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs = watch_dialogs(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(base + "/?target=servers.web1.cpu")
    wait_graph(page)
    page.locator("#from").fill("-90min")
    page.locator("#until").fill("-30min")
    page.locator("#custom-range button").click()
    wait_graph(page)
    query = query_of(page.url)
    assert (query["from"], query["until"]) == (["-90min"], ["-30min"])
    assert page.locator(".preset.active").count() == 0

    # A name the server refuses is explained in the dialog, which stays open.
    page.locator("#save").click()
    page.locator("#modal-input").fill("a/b")
    page.locator("#modal-ok").click()
    assert "/" in page.locator("#modal-error").text_content()
    page.locator("#modal-input").fill("first")
    page.locator("#modal-ok").click()
    page.locator('#saved li[data-name="first"]').wait_for()

    # Rename it.
    page.locator('#saved li[data-name="first"] .rename').click()
    page.locator("#modal-input").fill("second")
    page.locator("#modal-ok").click()
    page.locator('#saved li[data-name="second"]').wait_for()
    assert page.locator("#saved li.saved-graph").count() == 1

    # Overwrite it with another graph.
    page.locator("#targets .remove").click()
    page.locator("#new-target").fill("sumSeries(servers.*.cpu)")
    page.locator("#add-target button").click()
    wait_graph(page)
    page.locator('#saved li[data-name="second"] .overwrite').click()
    page.locator("#modal-ok").click()
    page.wait_for_function(
        "() => document.getElementById('save-status').textContent.startsWith('Replaced')")
    saved = page.evaluate(f"fetch('{PREFIX}/api/graphs/second').then(r => r.json())")
    assert saved["targets"] == ["sumSeries(servers.*.cpu)"]
    assert saved["params"]["until"] == "-30min"

    # A dashboard with an ad-hoc panel and a saved one; remove the saved one.
    page.goto(base + "/dashboards")
    page.locator("#dashboard-name").fill("mixed")
    page.locator("#create-dashboard button").click()
    page.wait_for_url(re.compile(r".*/dashboards/mixed\?edit=1$"))
    page.locator("#add-graph option").nth(1).wait_for(state="attached")
    page.locator("#add-target").fill("servers.web1.mem")
    page.locator("#add-title").fill("Memory")
    page.locator("#add-panel button[type=submit]").click()
    page.locator("#add-graph").select_option("second")
    page.locator("#add-panel button[type=submit]").click()
    page.locator("#from").fill("-2h")
    page.locator("#custom-range button").click()
    wait_graph(page, '#panels .panel[data-index="0"] .graph-box')
    assert query_of(page.locator("#panels .panel img").first.get_attribute("src"))[
        "target"] == ["servers.web1.mem"]
    page.locator('#panels .panel[data-index="1"] .remove').click()
    page.locator("#dashboard-save").click()
    page.wait_for_function(
        "() => document.getElementById('dashboard-status').textContent === 'Saved.'")
    board = page.evaluate(f"fetch('{PREFIX}/api/dashboards/mixed').then(r => r.json())")
    assert board["panels"] == [{"title": "Memory", "targets": ["servers.web1.mem"],
                                "params": {}}]
    assert board["from"] == "-2h"
    wait_graph(page, '#panels .panel[data-index="0"] .graph-box')
    shots.take(page, "01-adhoc-dashboard")

    # The list page: rename and delete dashboards.
    page.goto(base + "/dashboards")
    page.locator('#dashboards li[data-name="mixed"] .rename').click()
    page.locator("#modal-input").fill("renamed")
    page.locator("#modal-ok").click()
    page.locator('#dashboards li[data-name="renamed"]').wait_for()
    page.locator('#dashboards li[data-name="renamed"] .delete').click()
    page.locator("#modal-ok").click()
    page.locator('#dashboards li[data-name="renamed"]').wait_for(state="detached")
    assert page.evaluate(f"fetch('{PREFIX}/api/dashboards').then(r => r.json())") == []

    assert dialogs == []
    assert errors == []
    context.close()
