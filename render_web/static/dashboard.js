/* Dashboards: the list page (create, rename, delete) and a dashboard page (a grid of
 * saved or ad-hoc graphs over one time range, with auto-refresh and an edit mode). */
"use strict";

(() => {
  const { el, api, segment, ask } = SG;
  const $ = (id) => document.getElementById(id);

  /* ---------- the list page ---------- */

  function listPage() {
    $("create-dashboard").addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = $("dashboard-name").value.trim();
      const problem = SG.nameProblem(name);
      const error = $("create-error");
      error.hidden = true;
      if (problem) {
        error.textContent = problem;
        error.hidden = false;
        return;
      }
      try {
        await api("GET", "/api/dashboards/" + segment(name));
        error.textContent = `A dashboard named “${name}” exists already.`;
        error.hidden = false;
        return;
      } catch (lookup) {
        if (lookup.status !== 404) {
          error.textContent = lookup.message;
          error.hidden = false;
          return;
        }
      }
      try {
        await api("PUT", "/api/dashboards/" + segment(name),
                  { title: name, from: "-1h", until: "now", refresh: 0, panels: [] });
        location.href = SG.prefix + "/dashboards/" + segment(name) + "?edit=1";
      } catch (failure) {
        error.textContent = "Not created: " + failure.message;
        error.hidden = false;
      }
    });
    for (const li of document.querySelectorAll("#dashboards li")) {
      const name = li.dataset.name;
      li.querySelector(".rename").addEventListener("click", async () => {
        const next = await ask({ title: "Rename dashboard", label: "New name", ok: "Rename",
                                 value: name, check: SG.nameProblem });
        if (next === null || next === name) return;
        try {
          await api("POST", `/api/dashboards/${segment(name)}/rename`, { name: next });
          location.reload();
        } catch (error) {
          await ask({ title: "Not renamed", message: error.message });
        }
      });
      li.querySelector(".delete").addEventListener("click", async () => {
        const sure = await ask({ title: "Delete dashboard?", ok: "Delete", danger: true,
                                 message: `Delete the dashboard “${name}”?` });
        if (!sure) return;
        try {
          await api("DELETE", "/api/dashboards/" + segment(name));
          li.remove();
        } catch (error) {
          await ask({ title: "Not deleted", message: error.message });
        }
      });
    }
  }

  /* ---------- one dashboard ---------- */

  function dashboardPage() {
    const saved = JSON.parse($("initial-dashboard").textContent);
    const query = new URLSearchParams(location.search);
    const board = {
      panels: saved.panels.map((p) => ({ ...p })),
      from: query.get("from") || saved.from || "-1h",
      until: query.get("until") || saved.until || "now",
      refresh: Number(query.get("refresh") || saved.refresh || 0),
    };
    let editing = query.get("edit") === "1";
    let graphs = new Map();     // saved graph name -> graph
    let dirty = false;

    function status(text, isError) {
      $("dashboard-status").textContent = text;
      $("dashboard-status").classList.toggle("error", Boolean(isError));
    }

    function syncAddress() {
      const pairs = [];
      if (board.from !== (saved.from || "-1h")) pairs.push(["from", board.from]);
      if (board.until !== (saved.until || "now")) pairs.push(["until", board.until]);
      if (editing) pairs.push(["edit", "1"]);
      const text = new URLSearchParams(pairs).toString();
      history.replaceState(null, "", location.pathname + (text ? "?" + text : ""));
    }

    function imageSize(box) {
      const width = Math.max(200, Math.floor(box.clientWidth));
      return [width, Math.max(180, Math.round(width * 0.5))];
    }

    function panelImage(panel, width, height, bust) {
      const common = [["from", board.from], ["until", board.until],
                      ["width", String(width)], ["height", String(height)]];
      if (bust) common.push(["_t", String(Date.now())]);
      if (panel.graph !== undefined) {
        return SG.url("/graphs/" + segment(panel.graph) + ".png", common);
      }
      const pairs = panel.targets.map((t) => ["target", t]);
      for (const [key, value] of Object.entries(panel.params || {})) {
        if (!["from", "until", "width", "height", "target", "format"].includes(key)) {
          pairs.push([key, value]);
        }
      }
      if (panel.title && !(panel.params && panel.params.title)) pairs.push(["title", panel.title]);
      return SG.url("/render", pairs.concat(common));
    }

    function panelTitle(panel) {
      if (panel.graph !== undefined) {
        const graph = graphs.get(panel.graph);
        return graph ? graph.title || graph.name : panel.graph;
      }
      return panel.title || panel.targets.join(", ");
    }

    function move(index, by) {
      const to = index + by;
      if (to < 0 || to >= board.panels.length) return;
      const [panel] = board.panels.splice(index, 1);
      board.panels.splice(to, 0, panel);
      markDirty();
      render();
    }

    function markDirty() {
      dirty = true;
      status("Unsaved changes.");
    }

    function panelNode(panel, index) {
      const missing = panel.graph !== undefined && !graphs.has(panel.graph);
      const heading = panel.graph !== undefined && !missing
        ? el("a", { href: SG.prefix + "/graphs/" + segment(panel.graph) }, panelTitle(panel))
        : el("span", {}, panelTitle(panel));
      const head = el("div", { class: "panel-head" }, el("h2", {}, heading));
      if (editing) {
        head.append(el("span", { class: "actions" },
          el("button", { type: "button", class: "small up", "aria-label": "Move earlier",
                         disabled: index === 0, onclick: () => move(index, -1) }, "↑"),
          el("button", { type: "button", class: "small down", "aria-label": "Move later",
                         disabled: index === board.panels.length - 1,
                         onclick: () => move(index, 1) }, "↓"),
          el("button", { type: "button", class: "small danger remove", "aria-label": "Remove",
                         onclick: () => {
                           board.panels.splice(index, 1);
                           markDirty();
                           render();
                         } }, "✕")));
      }
      const box = el("div", { class: "graph-box" });
      const node = el("section", { class: "card panel" + (missing ? " missing" : ""),
                                   dataset: { index: String(index) } }, head, box);
      if (missing) {
        box.append(el("p", { class: "placeholder" },
                      `Missing: no saved graph named “${panel.graph}”.`));
      } else {
        const img = el("img", { alt: panelTitle(panel), hidden: true });
        const error = el("p", { class: "error", hidden: true });
        SG.watchImage(img, error, (how) => { box.dataset.state = how; });
        box.append(img, error);
      }
      return node;
    }

    function draw(bust) {
      for (const node of $("panels").children) {
        const img = node.querySelector("img");
        if (!img) continue;
        const box = node.querySelector(".graph-box");
        const [width, height] = imageSize(box);
        box.dataset.state = "loading";
        img.src = panelImage(board.panels[Number(node.dataset.index)], width, height, bust);
      }
    }

    function renderRange() {
      $("from").value = board.from;
      $("until").value = board.until;
      for (const button of document.querySelectorAll(".preset")) {
        const active = button.dataset.from === board.from && board.until === "now";
        button.classList.toggle("active", active);
        button.setAttribute("aria-pressed", active ? "true" : "false");
      }
      $("auto-refresh").value = String(board.refresh);
    }

    function render() {
      $("panels").replaceChildren(...board.panels.map(panelNode));
      $("no-panels").hidden = board.panels.length > 0;
      $("add-panel").hidden = !editing;
      $("dashboard-save").hidden = !editing;
      $("edit-toggle").textContent = editing ? "Done" : "Edit";
      document.body.classList.toggle("editing", editing);
      renderRange();
      draw();
    }

    function setRange(from, until) {
      board.from = from || "-1h";
      board.until = until || "now";
      syncAddress();
      renderRange();
      draw();
      if (editing) markDirty();
    }
    for (const button of document.querySelectorAll(".preset")) {
      button.addEventListener("click", () => setRange(button.dataset.from, "now"));
    }
    $("custom-range").addEventListener("submit", (event) => {
      event.preventDefault();
      setRange($("from").value.trim(), $("until").value.trim());
    });

    const autoRefresh = SG.repeater(() => draw(true));
    $("auto-refresh").addEventListener("change", (event) => {
      board.refresh = Number(event.target.value);
      autoRefresh(board.refresh);
      if (editing) markDirty();
    });

    $("edit-toggle").addEventListener("click", () => {
      editing = !editing;
      syncAddress();
      render();
    });

    $("add-panel").addEventListener("submit", (event) => {
      event.preventDefault();
      const name = $("add-graph").value;
      const target = $("add-target").value.trim();
      const title = $("add-title").value.trim();
      if (name) {
        board.panels.push({ graph: name });
      } else if (target) {
        board.panels.push({ title: title || target, targets: [target], params: {} });
      } else {
        status("Choose a saved graph or type a target.", true);
        return;
      }
      $("add-graph").value = "";
      $("add-target").value = "";
      $("add-title").value = "";
      markDirty();
      render();
    });

    $("dashboard-save").addEventListener("click", async () => {
      const body = { title: saved.title || saved.name, from: board.from, until: board.until,
                     refresh: board.refresh, panels: board.panels };
      try {
        await api("PUT", "/api/dashboards/" + segment(saved.name), body);
        dirty = false;
        status("Saved.");
      } catch (error) {
        status("Not saved: " + error.message, true);
      }
    });

    window.addEventListener("beforeunload", (event) => {
      if (dirty) event.preventDefault();
    });
    window.addEventListener("resize", SG.debounce(() => draw(), 250));

    async function loadGraphs() {
      try {
        const { data } = await api("GET", "/api/graphs");
        graphs = new Map(data.map((g) => [g.name, g]));
      } catch (error) {
        status("Could not list the saved graphs: " + error.message, true);
      }
      const select = $("add-graph");
      select.replaceChildren(el("option", { value: "" }, "—"),
        ...[...graphs.keys()].map((name) => el("option", { value: name }, name)));
    }

    autoRefresh(board.refresh);
    loadGraphs().then(render);
  }

  if ($("initial-dashboard")) dashboardPage();
  else if ($("create-dashboard")) listPage();
})();
