/* The composer: metric tree, targets, graph options and saved graphs. The page's state
 * is the /render query string, mirrored into the address bar so a copied link reopens
 * the same graph. */
"use strict";

(() => {
  const { el, api, url, segment, ask } = SG;
  const $ = (id) => document.getElementById(id);
  const OPTION_KEYS = ["title", "vtitle", "areaMode", "logBase", "yMin", "yMax", "hideLegend"];
  const TREE_REFRESH_SECONDS = 5;
  // Characters that end a metric path in a target; a backslash makes them literal.
  const PATH_STOP = /[()'"\\|, \t\r\n]/g;
  const SERIES_TYPES = new Set(["seriesList", "seriesLists", "series"]);

  const state = { targets: [], params: {}, saved: null, autoRefresh: 0 };
  let functions = null;       // name -> metadata, loaded when first needed
  let savedGraphs = [];
  let wrapIndex = null;

  /* ---------- state <-> address bar ---------- */

  function stateFromQuery(search) {
    const query = new URLSearchParams(search);
    const params = {};
    for (const [key, value] of query) {
      if (key === "target" || key === "graph" || key === "width" || key === "height") continue;
      if (value !== "") params[key] = value;
    }
    return { targets: query.getAll("target").filter((t) => t.trim()), params };
  }

  function loadGraph(graph) {
    state.targets = [...graph.targets];
    state.params = { ...graph.params };
    state.saved = graph.name;
    changed();
  }

  function queryPairs() {
    const pairs = state.targets.map((t) => ["target", t]);
    for (const [key, value] of Object.entries(state.params)) {
      if (value !== "" && value !== undefined) pairs.push([key, value]);
    }
    return pairs;
  }

  function syncAddress() {
    const query = new URLSearchParams(queryPairs()).toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  }

  function changed() {
    renderTargets();
    renderOptions();
    syncAddress();
    drawGraph();
  }

  /* ---------- graph ---------- */

  const graphBox = $("graph-box");
  const graphImg = $("graph");
  const graphError = $("graph-error");
  SG.watchImage(graphImg, graphError, (how) => { graphBox.dataset.state = how; });

  function graphSize() {
    const width = Math.max(200, Math.floor(graphBox.clientWidth));
    const height = Math.max(220, Math.min(600, Math.round(width * 0.45)));
    return [width, height];
  }

  function drawGraph(bust) {
    const empty = state.targets.length === 0;
    $("graph-placeholder").hidden = !empty;
    if (empty) {
      graphImg.hidden = true;
      graphImg.removeAttribute("src");
      graphError.hidden = true;
      graphBox.dataset.state = "empty";
      return;
    }
    const [width, height] = graphSize();
    const pairs = queryPairs();
    pairs.push(["width", String(width)], ["height", String(height)]);
    if (bust) pairs.push(["_t", String(Date.now())]);
    graphBox.dataset.state = "loading";
    graphImg.src = url("/render", pairs);
  }

  window.addEventListener("resize", SG.debounce(() => drawGraph(), 250));
  const autoRefresh = SG.repeater(() => drawGraph(true));
  $("auto-refresh").addEventListener("change", (event) => {
    state.autoRefresh = Number(event.target.value);
    autoRefresh(state.autoRefresh);
  });

  /* ---------- time range ---------- */

  function setRange(from, until) {
    state.params.from = from || "-1h";
    if (until && until !== "now") state.params.until = until;
    else delete state.params.until;
    changed();
  }

  for (const button of document.querySelectorAll(".preset")) {
    button.addEventListener("click", () => setRange(button.dataset.from, "now"));
  }
  $("custom-range").addEventListener("submit", (event) => {
    event.preventDefault();
    setRange($("from").value.trim(), $("until").value.trim());
  });

  function renderRange() {
    const from = state.params.from || "-1h";
    $("from").value = from;
    $("until").value = state.params.until || "now";
    for (const button of document.querySelectorAll(".preset")) {
      const active = button.dataset.from === from && !state.params.until;
      button.classList.toggle("active", active);
      button.setAttribute("aria-pressed", active ? "true" : "false");
    }
  }

  /* ---------- graph options ---------- */

  const optionsForm = $("options");
  function renderOptions() {
    renderRange();
    for (const key of OPTION_KEYS) {
      const field = optionsForm.elements[key];
      if (field && document.activeElement !== field) field.value = state.params[key] || "";
    }
  }
  const optionChanged = (event) => {
    const field = event.target;
    if (!OPTION_KEYS.includes(field.name)) return;
    const value = field.value.trim();
    if (value) state.params[field.name] = value;
    else delete state.params[field.name];
    syncAddress();
    drawGraph();
  };
  optionsForm.addEventListener("change", optionChanged);
  optionsForm.addEventListener("input", SG.debounce(optionChanged, 600));
  optionsForm.addEventListener("submit", (event) => event.preventDefault());

  /* ---------- targets ---------- */

  function metricTarget(path) {
    return path.replace(PATH_STOP, (char) => "\\" + char);
  }

  function addTarget(target) {
    state.targets.push(target);
    changed();
  }

  function moveTarget(index, by) {
    const to = index + by;
    if (to < 0 || to >= state.targets.length) return;
    const [target] = state.targets.splice(index, 1);
    state.targets.splice(to, 0, target);
    changed();
  }

  function renderTargets() {
    const list = $("targets");
    list.replaceChildren(...state.targets.map((target, index) => {
      const input = el("input", { class: "target-text", "aria-label": `Target ${index + 1}`,
                                  spellcheck: "false" });
      input.value = target;
      input.addEventListener("change", () => {
        const text = input.value.trim();
        if (text) state.targets[index] = text;
        else state.targets.splice(index, 1);
        changed();
      });
      return el("li", { class: "target", dataset: { index: String(index) } },
        input,
        el("span", { class: "actions" },
          el("button", { type: "button", class: "small wrap", title: "Apply a function",
                         onclick: () => openWrap(index) }, "ƒ"),
          el("button", { type: "button", class: "small up", title: "Move up",
                         "aria-label": "Move up", disabled: index === 0,
                         onclick: () => moveTarget(index, -1) }, "↑"),
          el("button", { type: "button", class: "small down", title: "Move down",
                         "aria-label": "Move down", disabled: index === state.targets.length - 1,
                         onclick: () => moveTarget(index, 1) }, "↓"),
          el("button", { type: "button", class: "small danger remove", title: "Remove",
                         "aria-label": "Remove", onclick: () => {
                           state.targets.splice(index, 1);
                           changed();
                         } }, "✕")));
    }));
    if (wrapIndex !== null && wrapIndex >= state.targets.length) closeWrap();
  }

  $("add-target").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("new-target").value.trim();
    if (!text) return;
    $("new-target").value = "";
    addTarget(text);
  });

  /* ---------- wrapping a target in a function ---------- */

  async function loadFunctions() {
    if (functions) return functions;
    const { data } = await api("GET", "/functions?grouped=1");
    const select = $("wrap-function");
    functions = {};
    const groups = Object.keys(data).sort();
    select.replaceChildren(el("option", { value: "" }, "Choose a function…"));
    for (const group of groups) {
      const optgroup = el("optgroup", { label: group });
      for (const name of Object.keys(data[group]).sort()) {
        const meta = data[group][name];
        const first = meta.params[0];
        if (!first || !SERIES_TYPES.has(first.type)) continue;  // generators wrap nothing
        functions[name] = meta;
        optgroup.append(el("option", { value: name }, name));
      }
      if (optgroup.children.length) select.append(optgroup);
    }
    return functions;
  }

  async function openWrap(index) {
    wrapIndex = index;
    $("wrap-target").textContent = state.targets[index];
    $("wrap-panel").hidden = false;
    try {
      await loadFunctions();
    } catch (error) {
      $("wrap-description").textContent = "Could not load the functions: " + error.message;
      return;
    }
    showParams();
    $("wrap-function").focus();
  }

  function closeWrap() {
    wrapIndex = null;
    $("wrap-panel").hidden = true;
  }

  function defaultText(param) {
    if (!("default" in param) || param.default === null) return "";
    const value = param.default;
    if (value === Infinity) return "inf";
    if (value === -Infinity) return "-inf";
    return String(value);
  }

  function paramField(param) {
    const id = "wrap-param-" + param.name;
    const label = param.name + (param.required ? " *" : "") + ` (${param.type})`;
    let field;
    const choices = param.options || (param.type === "boolean" ? [true, false] : null);
    if (choices) {
      field = el("select", { id });
      if (!param.required) field.append(el("option", { value: "" }, "—"));
      for (const choice of choices) field.append(el("option", { value: String(choice) },
                                                     String(choice)));
      field.value = defaultText(param);
    } else {
      field = el("input", { id, autocomplete: "off", spellcheck: "false" });
      field.value = defaultText(param);
      if (param.suggestions && param.suggestions.length) {
        field.placeholder = param.suggestions.slice(0, 4).map(String).join(", ");
      } else if (param.multiple) {
        field.placeholder = "comma-separated";
      }
    }
    field.dataset.name = param.name;
    return el("label", { class: "param" }, el("span", {}, label), field);
  }

  function showParams() {
    const name = $("wrap-function").value;
    const box = $("wrap-params");
    box.replaceChildren();
    $("wrap-description").textContent = "";
    if (!name || !functions[name]) return;
    const meta = functions[name];
    $("wrap-description").textContent = meta.description ? meta.description.split("\n\n")[0]
                                                          : meta.function;
    const [first, ...rest] = meta.params;
    for (const param of rest) box.append(paramField(param));
    if (first.multiple && state.targets.length > 1) {
      box.append(el("label", { class: "param check" },
        el("input", { type: "checkbox", id: "wrap-all" }),
        el("span", {}, `combine all ${state.targets.length} targets into one`)));
    }
  }
  $("wrap-function").addEventListener("change", showParams);

  function quote(text) {
    if (!text.includes('"')) return `"${text}"`;
    if (!text.includes("'")) return `'${text}'`;
    return `"${text.replaceAll('"', '""')}"`;
  }

  const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

  /* One argument as target text, by the parameter's type. */
  function argument(param, text) {
    const type = param.type;
    if (SERIES_TYPES.has(type)) return text;                       // an expression
    if (type === "boolean") return text.toLowerCase() === "true" ? "true" : "false";
    if (["integer", "float", "node"].includes(type)) {
      if (!NUMBER.test(text)) throw new Error(`${param.name} must be a number`);
      return text;
    }
    if (type === "intOrInf" && /^-?inf$/i.test(text)) return text.toLowerCase();
    if (["intOrInf", "intOrInterval", "nodeOrTag", "any"].includes(type) && NUMBER.test(text)) {
      return text;
    }
    if (type === "any" && /^(true|false|none|-?inf)$/i.test(text)) return text.toLowerCase();
    return quote(text);
  }

  function wrapText(meta, series) {
    const args = [series];
    let keywords = false;
    for (const param of meta.params.slice(1)) {
      const field = document.getElementById("wrap-param-" + param.name);
      const text = field ? field.value.trim() : "";
      if (!text) {
        if (param.required) throw new Error(`${param.name} is required`);
        keywords = true;   // later arguments must say which parameter they are
        continue;
      }
      const values = param.multiple ? text.split(",").map((v) => v.trim()).filter(Boolean)
                                    : [text];
      for (const value of values) {
        const arg = argument(param, value);
        args.push(keywords && !param.multiple ? `${param.name}=${arg}` : arg);
      }
    }
    return `${meta.name}(${args.join(",")})`;
  }

  $("wrap-apply").addEventListener("click", () => {
    const name = $("wrap-function").value;
    if (!name || wrapIndex === null) return;
    const all = $("wrap-all") && $("wrap-all").checked;
    try {
      if (all) {
        state.targets = [wrapText(functions[name], state.targets.join(","))];
      } else {
        state.targets[wrapIndex] = wrapText(functions[name], state.targets[wrapIndex]);
      }
    } catch (error) {
      $("wrap-description").textContent = "Cannot apply: " + error.message;
      return;
    }
    closeWrap();
    changed();
  });
  $("wrap-cancel").addEventListener("click", closeWrap);

  /* ---------- metric tree ---------- */

  const tree = $("tree");
  const filterBox = $("tree-filter");
  const WILDCARD = /[*?[\]{}]/;

  async function find(query) {
    const { data } = await api("GET", "/metrics/find?" +
      new URLSearchParams({ query, format: "json" }).toString());
    return data;
  }

  function entryKey(entry) {
    return (entry.is_leaf ? "leaf:" : "branch:") + entry.path;
  }

  function treeNode(entry) {
    const label = entry.path.slice(entry.path.lastIndexOf(".") + 1);
    const li = el("li", { class: entry.is_leaf ? "node leaf" : "node branch", role: "treeitem",
                          dataset: { key: entryKey(entry), path: entry.path } });
    if (entry.is_leaf) {
      li.append(el("button", { type: "button", class: "node-label", title: entry.path,
                               onclick: () => addTarget(metricTarget(entry.path)) },
                   el("span", { class: "icon", "aria-hidden": "true" }, "•"), label));
    } else {
      li.setAttribute("aria-expanded", "false");
      const children = el("ul", { class: "children", role: "group", hidden: true });
      li.append(el("button", { type: "button", class: "node-label", title: entry.path,
                               onclick: () => toggleBranch(li, children) },
                   el("span", { class: "icon twisty", "aria-hidden": "true" }, "▸"), label),
                children);
    }
    return li;
  }

  /* Replace `list`'s items by `entries`, keeping the nodes (and their open subtrees)
   * that are still there, so a refresh does not collapse what the user opened. */
  function syncList(list, entries, label) {
    const existing = new Map([...list.children].map((li) => [li.dataset.key, li]));
    const items = entries.map((entry) => existing.get(entryKey(entry)) || treeNode(entry));
    list.replaceChildren(...items);
    if (!entries.length && label) list.append(el("li", { class: "muted empty" }, label));
  }

  async function loadChildren(li, list) {
    const entries = await find(li.dataset.path + ".*");
    syncList(list, entries, "(empty)");
  }

  async function toggleBranch(li, list) {
    const open = li.getAttribute("aria-expanded") === "true";
    li.setAttribute("aria-expanded", open ? "false" : "true");
    li.querySelector(".twisty").textContent = open ? "▸" : "▾";
    list.hidden = open;
    if (!open) {
      try { await loadChildren(li, list); } catch (error) { treeStatus(error.message); }
    }
  }

  function treeStatus(text) {
    $("tree-status").textContent = text;
  }

  function filterQuery() {
    const text = filterBox.value.trim();
    if (!text) return "*";
    return WILDCARD.test(text) ? text : text + "*";
  }

  let rootRequest = 0;   // only the latest answer is shown (the filter may change meanwhile)
  async function loadRoot() {
    const ticket = ++rootRequest;
    try {
      const entries = await find(filterQuery());
      if (ticket !== rootRequest) return;
      syncList(tree, entries, filterBox.value.trim() ? "No metric matches." : "No metrics yet.");
      treeStatus("");
    } catch (error) {
      treeStatus(error.message);
    }
  }

  /* New namespaces appear by themselves: the root and every open branch are read again. */
  async function refreshTree() {
    await loadRoot();
    for (const li of tree.querySelectorAll('li.branch[aria-expanded="true"]')) {
      try { await loadChildren(li, li.querySelector(":scope > ul")); } catch (_) { /* next */ }
    }
  }

  filterBox.addEventListener("input", SG.debounce(() => {
    tree.replaceChildren();
    loadRoot();
  }, 300));
  setInterval(refreshTree, TREE_REFRESH_SECONDS * 1000);

  $("tree-toggle").addEventListener("click", () => {
    const body = $("tree-body");
    body.hidden = !body.hidden;
    $("tree-toggle").textContent = body.hidden ? "Show" : "Hide";
    $("tree-toggle").setAttribute("aria-expanded", body.hidden ? "false" : "true");
  });

  /* ---------- saved graphs ---------- */

  function saveStatus(text, isError) {
    const status = $("save-status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  async function loadSaved() {
    try {
      const { data } = await api("GET", "/api/graphs");
      savedGraphs = data;
    } catch (error) {
      saveStatus("Could not list the saved graphs: " + error.message, true);
      return;
    }
    $("saved").replaceChildren(...savedGraphs.map(savedItem));
    if (!savedGraphs.length) $("saved").append(el("li", { class: "muted" }, "None yet."));
  }

  function savedItem(graph) {
    return el("li", { class: "saved-graph", dataset: { name: graph.name } },
      el("button", { type: "button", class: "link name", title: "Open in the composer",
                     onclick: () => { loadGraph(graph); saveStatus(`Opened “${graph.name}”.`); } },
         graph.name),
      el("span", { class: "actions" },
        el("a", { class: "small button permalink", href: SG.prefix + "/graphs/" + segment(graph.name) },
           "Link"),
        el("button", { type: "button", class: "small rename", onclick: () => renameGraph(graph) },
           "Rename"),
        el("button", { type: "button", class: "small overwrite",
                       onclick: () => overwriteGraph(graph) }, "Overwrite"),
        el("button", { type: "button", class: "small danger delete",
                       onclick: () => deleteGraph(graph) }, "Delete")));
  }

  function graphBody(name) {
    const params = {};
    for (const [key, value] of Object.entries(state.params)) if (value !== "") params[key] = value;
    return { title: state.params.title || name, targets: state.targets, params };
  }

  async function putGraph(name) {
    const { status } = await api("PUT", "/api/graphs/" + segment(name), graphBody(name));
    state.saved = name;
    saveStatus(`${status === 201 ? "Saved" : "Replaced"} “${name}”.`);
    await loadSaved();
  }

  $("save").addEventListener("click", async () => {
    if (!state.targets.length) {
      saveStatus("Add a target before saving.", true);
      return;
    }
    const name = await ask({ title: "Save graph", label: "Name", ok: "Save",
                             value: state.saved || state.params.title || "",
                             check: (name) => SG.nameProblem(name, true) });
    if (name === null) return;
    if (name !== state.saved && savedGraphs.some((g) => g.name === name)) {
      const sure = await ask({ title: "Replace graph?", ok: "Replace", danger: true,
                               message: `A graph named “${name}” exists. Replace it?` });
      if (!sure) return;
    }
    try { await putGraph(name); } catch (error) { saveStatus("Not saved: " + error.message, true); }
  });

  async function renameGraph(graph) {
    const name = await ask({ title: "Rename graph", label: "New name", ok: "Rename",
                             value: graph.name, check: (name) => SG.nameProblem(name, true) });
    if (name === null || name === graph.name) return;
    try {
      await api("POST", `/api/graphs/${segment(graph.name)}/rename`, { name });
      if (state.saved === graph.name) state.saved = name;
      saveStatus(`Renamed “${graph.name}” to “${name}”.`);
    } catch (error) {
      saveStatus("Not renamed: " + error.message, true);
    }
    await loadSaved();
  }

  async function overwriteGraph(graph) {
    if (!state.targets.length) {
      saveStatus("Add a target before saving.", true);
      return;
    }
    const sure = await ask({ title: "Overwrite graph?", ok: "Overwrite", danger: true,
                             message: `Replace “${graph.name}” with the graph shown here?` });
    if (!sure) return;
    try { await putGraph(graph.name); } catch (error) {
      saveStatus("Not saved: " + error.message, true);
    }
  }

  async function deleteGraph(graph) {
    const sure = await ask({ title: "Delete graph?", ok: "Delete", danger: true,
                             message: `Delete the saved graph “${graph.name}”?` });
    if (!sure) return;
    try {
      await api("DELETE", "/api/graphs/" + segment(graph.name));
      if (state.saved === graph.name) state.saved = null;
      saveStatus(`Deleted “${graph.name}”.`);
    } catch (error) {
      saveStatus("Not deleted: " + error.message, true);
    }
    await loadSaved();
  }

  $("clear").addEventListener("click", () => {
    state.targets = [];
    state.params = { from: state.params.from || "-1h" };
    state.saved = null;
    closeWrap();
    changed();
  });

  /* ---------- start ---------- */

  const initial = JSON.parse($("initial-graph").textContent);
  if (initial) {
    loadGraph(initial);
  } else {
    const fromQuery = stateFromQuery(location.search);
    state.targets = fromQuery.targets;
    state.params = fromQuery.params;
    if (!state.params.from) state.params.from = "-1h";
    changed();
  }
  loadRoot();
  loadSaved();
})();
