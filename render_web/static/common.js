/* Shared helpers of the pages: API calls, safe DOM building and the in-page dialog.
 * Every user string reaches the DOM through textContent or attributes, never as HTML. */
"use strict";

const SG = (() => {
  const prefix = document.body.dataset.prefix || "";
  const NAME_MAX = 200;
  // Names are path segments: no "/" and no control characters.
  const BAD_NAME = /[\/\u0000-\u001f\u007f]/;

  function url(path, pairs) {
    const query = pairs && pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
    return prefix + path + query;
  }

  function segment(name) {
    return encodeURIComponent(name);
  }

  /* The server's rules for a name, checked before asking it (it checks again). */
  function nameProblem(name, isGraph) {
    if (!name || !name.trim()) return "A name is needed.";
    if (name.length > NAME_MAX) return `A name has at most ${NAME_MAX} characters.`;
    if (BAD_NAME.test(name)) return "A name cannot contain “/” or control characters.";
    if (name === "." || name === "..") return "“.” and “..” cannot be names.";
    if (isGraph && name.toLowerCase().endsWith(".png")) return "A graph name cannot end in “.png”.";
    return "";
  }

  /* JSON in and out; a non-2xx answer throws an Error carrying the server's message.
   * State-changing calls always send a JSON content type (the server's CSRF check). */
  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      if (body !== undefined) init.body = JSON.stringify(body);
    }
    const response = await fetch(prefix + path, init);
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (_) { data = null; }
    }
    if (!response.ok) {
      const why = data && data.error ? data.error : `${response.status} ${response.statusText}`;
      const error = new Error(why);
      error.status = response.status;
      throw error;
    }
    return { status: response.status, data };
  }

  /* el("li", {class: "x", dataset: {name}}, "text", child) with text children as text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  /* The page's own dialog (window.prompt/confirm are never used): resolves to the typed
   * text (input mode), true (confirm mode) or null when cancelled. `check(value)` may
   * return a message that keeps the dialog open. */
  function ask({ title, message = "", label = "", value = null, ok = "OK", danger = false,
                 check = null }) {
    const dialog = document.getElementById("modal");
    const input = document.getElementById("modal-input");
    const error = document.getElementById("modal-error");
    const okButton = document.getElementById("modal-ok");
    const cancel = document.getElementById("modal-cancel");
    const form = document.getElementById("modal-form");
    document.getElementById("modal-title").textContent = title;
    document.getElementById("modal-message").textContent = message;
    document.getElementById("modal-label").hidden = value === null;
    document.getElementById("modal-label-text").textContent = label;
    input.value = value === null ? "" : value;
    error.hidden = true;
    okButton.textContent = ok;
    okButton.className = danger ? "danger" : "primary";
    return new Promise((resolve) => {
      const finish = (result) => {
        form.removeEventListener("submit", onSubmit);
        cancel.removeEventListener("click", onCancel);
        dialog.removeEventListener("cancel", onCancel);
        if (dialog.open) dialog.close();
        resolve(result);
      };
      const onSubmit = (event) => {
        event.preventDefault();
        const text = value === null ? true : input.value.trim();
        const problem = check && value !== null ? check(text) : "";
        if (problem) {
          error.textContent = problem;
          error.hidden = false;
          return;
        }
        finish(text);
      };
      const onCancel = (event) => { event.preventDefault(); finish(null); };
      form.addEventListener("submit", onSubmit);
      cancel.addEventListener("click", onCancel);
      dialog.addEventListener("cancel", onCancel);
      dialog.showModal();
      if (value !== null) { input.focus(); input.select(); } else okButton.focus();
    });
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  /* A repeating timer that can be re-armed with another period (0 stops it). */
  function repeater(fn) {
    let timer = null;
    return (seconds) => {
      clearInterval(timer);
      timer = seconds > 0 ? setInterval(fn, seconds * 1000) : null;
    };
  }

  /* A /render image that shows the server's JSON error instead of a broken icon. */
  function watchImage(img, errorBox, onState) {
    img.addEventListener("load", () => {
      errorBox.hidden = true;
      img.hidden = false;
      if (onState) onState("loaded");
    });
    img.addEventListener("error", async () => {
      img.hidden = true;
      let why = "the graph could not be drawn";
      try {
        const response = await fetch(img.src);
        const data = await response.json();
        if (data && data.error) why = data.error;
      } catch (_) { /* keep the generic message */ }
      errorBox.textContent = "Error: " + why;
      errorBox.hidden = false;
      if (onState) onState("error");
    });
  }

  return { prefix, url, segment, nameProblem, api, el, ask, debounce, repeater, watchImage };
})();
