"""The HTML pages through Flask's test client: each answers, a missing saved object is a
404 page, every user string is escaped, and every path honours the URL prefix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import whisper

from render_web.app import create_app
from render_web.settings import WebSettings

NOW = 1_700_000_000 - 1_700_000_000 % 3600
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_TARGET = 'alias(servers.web1.cpu,"<script>alert(2)</script>")'
STATIC = Path(__file__).resolve().parents[2] / "render_web" / "static"


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    root = tmp_path / "whisper"
    path = root / "servers" / "web1" / "cpu.wsp"
    path.parent.mkdir(parents=True)
    whisper.create(str(path), [(60, 1440)])
    whisper.update_many(str(path), [(NOW - 60 * i, float(i)) for i in range(10)], now=NOW)
    return root


def make_client(storage: Path, tmp_path: Path, prefix: str = ""):
    settings = WebSettings(storage=str(storage), db=str(tmp_path / "graphs.db"),
                           url_prefix=prefix)
    return create_app(settings, clock=lambda: NOW).test_client()


@pytest.fixture
def client(storage, tmp_path):
    return make_client(storage, tmp_path)


def put(client, kind: str, name: str, body: dict, prefix: str = "") -> None:
    from urllib.parse import quote

    response = client.put(f"{prefix}/api/{kind}/{quote(name, safe='')}", json=body)
    assert response.status_code in (200, 201), response.get_json()


def graph_body(title: str = "CPU", targets: list[str] | None = None) -> dict:
    return {"title": title, "targets": targets or ["servers.web1.cpu"],
            "params": {"from": "-2h", "areaMode": "stacked"}}


def embedded(html: str, element_id: str):
    """The JSON a page hands its script in `<script type="application/json">`."""
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>',
                      html, re.S)
    assert match, f"no #{element_id} in the page"
    return json.loads(match.group(1))


# -- the composer ---------------------------------------------------------------------------

def test_composer_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-prefix=""' in html
    assert 'src="/static/composer.js"' in html and 'href="/static/style.css"' in html
    assert embedded(html, "initial-graph") is None
    # Every time preset of the issue, 5 minutes to 30 days.
    presets = re.findall(r'class="preset" data-from="([^"]+)"', html)
    assert presets == ["-5min", "-15min", "-1h", "-3h", "-6h", "-12h", "-1d", "-2d", "-7d",
                       "-30d"]


def test_composer_opens_a_saved_graph(client):
    put(client, "graphs", "web cpu", graph_body())
    response = client.get("/?graph=web%20cpu")
    assert response.status_code == 200
    graph = embedded(response.get_data(as_text=True), "initial-graph")
    assert (graph["name"], graph["targets"], graph["params"]["areaMode"]) == (
        "web cpu", ["servers.web1.cpu"], "stacked")


def test_composer_with_a_missing_graph_is_a_404_that_says_so(client):
    response = client.get("/", query_string={"graph": HOSTILE})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert HOSTILE not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert embedded(html, "initial-graph") is None


def test_hostile_strings_in_the_embedded_graph_stay_inside_the_script(client):
    put(client, "graphs", HOSTILE, graph_body(title="</script><b>t</b>",
                                              targets=[HOSTILE_TARGET]))
    response = client.get("/", query_string={"graph": HOSTILE})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert HOSTILE not in html and "</script><b>" not in html and "<script>alert" not in html
    graph = embedded(html, "initial-graph")
    assert (graph["name"], graph["title"], graph["targets"]) == (
        HOSTILE, "</script><b>t</b>", [HOSTILE_TARGET])


# -- a saved graph's permalink ---------------------------------------------------------------

def test_permalink_page(client):
    put(client, "graphs", "web cpu", graph_body())
    response = client.get("/graphs/web%20cpu")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 id="graph-name">CPU</h1>' in html
    assert "<li><code>servers.web1.cpu</code></li>" in html
    assert 'src="/graphs/web%20cpu.png?width=800&amp;height=400"' in html
    assert 'href="/?graph=web+cpu"' in html
    assert "http://localhost/graphs/web%20cpu.png" in html
    assert "<dt>areaMode</dt><dd>stacked</dd>" in html


def test_permalink_image_url_is_the_png_not_the_page(client):
    put(client, "graphs", "web cpu", graph_body())
    response = client.get("/graphs/web%20cpu.png", query_string={"width": 300, "height": 200})
    assert response.status_code == 200
    assert response.mimetype == "image/png"


def test_permalink_of_a_missing_graph_is_a_404_page(client):
    response = client.get("/graphs/nothing%20here")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "No such graph" in html and "nothing here" in html


def test_permalink_escapes_a_hostile_name_title_and_target(client):
    put(client, "graphs", HOSTILE, graph_body(title=HOSTILE, targets=[HOSTILE_TARGET]))
    response = client.get("/graphs/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert HOSTILE not in html and "<script>alert(2)" not in html
    assert '<h1 id="graph-name">&lt;img src=x onerror=alert(1)&gt;</h1>' in html
    assert ("<code>alias(servers.web1.cpu,&#34;&lt;script&gt;alert(2)&lt;/script&gt;&#34;)"
            "</code>") in html
    # In URLs the name is one percent-encoded path segment.
    assert 'src="/graphs/%3Cimg%20src=x%20onerror=alert(1)%3E.png?' in html


def test_missing_permalink_escapes_the_name(client):
    response = client.get("/graphs/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# -- dashboards ------------------------------------------------------------------------------

def test_dashboards_list_empty(client):
    response = client.get("/dashboards")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="no-dashboards"' in html and 'id="create-dashboard"' in html
    assert 'src="/static/dashboard.js"' in html


def test_dashboards_list_escapes_names(client):
    put(client, "dashboards", HOSTILE, {"panels": []})
    put(client, "dashboards", "ops", {"title": "Operations", "panels": [{"graph": "x"}]})
    html = client.get("/dashboards").get_data(as_text=True)
    assert HOSTILE not in html
    assert 'data-name="&lt;img src=x onerror=alert(1)&gt;"' in html
    assert 'href="/dashboards/ops">Operations</a>' in html
    assert "1 panel<" in html
    assert html.index("&lt;img") < html.index("Operations")


def test_dashboard_page(client):
    panels = [{"graph": "missing graph"},
              {"title": "adhoc", "targets": ["servers.web1.cpu"], "params": {}}]
    put(client, "dashboards", "ops", {"title": "Ops", "from": "-6h", "until": "now",
                                      "refresh": 60, "panels": panels})
    response = client.get("/dashboards/ops")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 id="dashboard-title">Ops</h1>' in html
    board = embedded(html, "initial-dashboard")
    assert (board["from"], board["refresh"], board["panels"]) == ("-6h", 60, panels)


def test_dashboard_page_escapes_a_hostile_name(client):
    put(client, "dashboards", HOSTILE, {"panels": [{"graph": HOSTILE}]})
    response = client.get("/dashboards/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert HOSTILE not in html
    assert embedded(html, "initial-dashboard")["name"] == HOSTILE


def test_missing_dashboard_is_a_404_page(client):
    response = client.get("/dashboards/nope")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "No such dashboard" in response.get_data(as_text=True)


# -- the URL prefix and the static files -----------------------------------------------------

def test_every_page_path_honours_the_url_prefix(storage, tmp_path):
    client = make_client(storage, tmp_path, "/graphite")
    put(client, "graphs", "g", graph_body(), prefix="/graphite")
    put(client, "dashboards", "d", {"panels": [{"graph": "g"}]}, prefix="/graphite")
    assert client.get("/").status_code == 404
    for path in ("/graphite/", "/graphite/graphs/g", "/graphite/dashboards",
                 "/graphite/dashboards/d"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert 'data-prefix="/graphite"' in html
        links = re.findall(r'(?:href|src)="(/[^"]*)"', html)
        assert links and all(link.startswith("/graphite/") for link in links), links
        for link in links:
            if "/static/" in link:
                assert client.get(link).status_code == 200, link


def test_static_files_are_served(client):
    for name in ("common.js", "composer.js", "dashboard.js", "style.css"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        response.close()


@pytest.mark.parametrize("name", ["common.js", "composer.js", "dashboard.js", "style.css"])
def test_static_files_fetch_nothing_from_outside_and_never_parse_html(name):
    text = (STATIC / name).read_text()
    assert not re.search(r"https?://|//cdn|@import", text)
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                   "eval(", "new Function", "alert(", "confirm(", "prompt("):
        assert unsafe not in text, unsafe
