// The docs page of proxmox-mcp's REST door: reads openapi.json (same origin), lists every tool
// with its parameters, and tries calls with the API key typed in. No third-party code, no CDN.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const KEY_STORE = "proxmox-mcp.api-key";
  let doc = null;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // Text with `code` spans, built without innerHTML.
  function richText(text) {
    const frag = document.createDocumentFragment();
    String(text || "").split("`").forEach((part, i) => {
      frag.append(i % 2 ? el("code", { text: part }) : document.createTextNode(part));
    });
    return frag;
  }

  function resolve(schema) {
    let s = schema || {};
    for (let i = 0; i < 10 && s && s.$ref; i++) {
      const path = s.$ref.replace(/^#\//, "").split("/");
      s = path.reduce((o, k) => (o ? o[k] : undefined), doc) || {};
    }
    return s;
  }

  function typeText(schema) {
    const s = resolve(schema);
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (s.oneOf || s.anyOf) return (s.oneOf || s.anyOf).map(typeText).join(" | ");
    if (s.const !== undefined) return JSON.stringify(s.const);
    let t = Array.isArray(s.type) ? s.type.join(" | ") : s.type || "any";
    if (t === "array") t = typeText(s.items) + "[]";
    const bounds = [];
    if (s.minimum !== undefined) bounds.push("≥ " + s.minimum);
    if (s.maximum !== undefined) bounds.push("≤ " + s.maximum);
    return bounds.length ? `${t} (${bounds.join(", ")})` : t;
  }

  function example(schema) {
    const s = resolve(schema);
    if (s.default !== undefined) return s.default;
    if (s.const !== undefined) return s.const;
    if (s.enum && s.enum.length) return s.enum[0];
    const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
    switch (t) {
      case "integer":
      case "number":
        return s.minimum !== undefined ? s.minimum : 0;
      case "boolean":
        return false;
      case "array":
        return [];
      case "object":
        return {};
      default:
        return "";
    }
  }

  function prefill(input) {
    const s = resolve(input);
    const out = {};
    for (const name of s.required || []) out[name] = example((s.properties || {})[name]);
    return JSON.stringify(out, null, 2);
  }

  function paramsTable(input) {
    const s = resolve(input);
    const props = Object.entries(s.properties || {});
    if (!props.length) return el("p", { class: "muted", text: "No parameters." });
    const required = new Set(s.required || []);
    props.sort((a, b) => (required.has(b[0]) - required.has(a[0])) || a[0].localeCompare(b[0]));
    const body = el("tbody");
    for (const [name, p] of props) {
      body.append(
        el("tr", {},
          el("td", {}, el("code", { text: name })),
          el("td", { text: typeText(p) }),
          el("td", { class: required.has(name) ? "req" : "", text: required.has(name) ? "required" : "optional" }),
          el("td", {}, richText(resolve(p).description || ""))));
    }
    return el("table", {},
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Parameter" }), el("th", { scope: "col", text: "Type" }),
        el("th", { scope: "col", text: "Required" }), el("th", { scope: "col", text: "Description" }))),
      body);
  }

  function shellQuote(s) {
    return "'" + s.replace(/'/g, "'\\''") + "'";
  }

  async function tryCall(name, op, textarea, out, button) {
    if (op["x-destructive-hint"] && !window.confirm(`${name} is destructive. Call it?`)) return;
    const body = textarea.value;
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const key = $("api-key").value.trim();
    if (key) headers.Authorization = "Bearer " + key;
    button.disabled = true;
    out.replaceChildren(el("p", { class: "result muted", text: "Calling…" }));
    const started = performance.now();
    try {
      const resp = await fetch(name, { method: "POST", headers, body });
      const text = await resp.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON: show as is */ }
      const ms = Math.round(performance.now() - started);
      const url = new URL(name, document.baseURI).href;
      out.replaceChildren(
        el("p", { class: "result" },
          el("span", { class: "code " + (resp.ok ? "ok" : "err"), text: `${resp.status} ${resp.statusText}` }),
          el("span", { class: "muted", text: ` · ${ms} ms` })),
        el("pre", { class: "response", tabindex: "0", "aria-label": `Response of ${name}`, "data-status": String(resp.status), text: shown }),
        el("p", { class: "curl" }, el("code", {
          text: `curl -X POST ${url} -H 'Content-Type: application/json'` +
            (key ? " -H 'Authorization: Bearer …'" : "") + ` -d ${shellQuote(body.replace(/\s+/g, " ").trim() || "{}")}`,
        })));
    } catch (e) {
      out.replaceChildren(el("p", { class: "result err", text: "The request failed: " + e }));
    } finally {
      button.disabled = false;
    }
  }

  function toolEntry(path, item) {
    const op = item.post;
    const name = path.replace(/^\//, "");
    const input = op.requestBody && op.requestBody.content["application/json"].schema;
    const access = op["x-mcp-access"] || "read";
    const areaId = "args-" + name;
    const textarea = el("textarea", { id: areaId, spellcheck: "false", rows: "5" });
    textarea.value = prefill(input);
    const out = el("div", { class: "output", "aria-live": "polite" });
    const button = el("button", { type: "submit", "data-tool": name, text: access === "destructive" ? "Try it (destructive)" : "Try it" });
    const reset = el("button", { type: "button", class: "secondary", text: "Reset" });
    reset.addEventListener("click", () => { textarea.value = prefill(input); out.replaceChildren(); });
    const form = el("form", { class: "try", "aria-label": `Try ${name}` },
      el("label", { for: areaId, text: "Arguments (JSON body of POST /" + name + ")" }),
      textarea,
      el("div", { class: "actions" }, button, reset),
      out);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); tryCall(name, op, textarea, out, button); });
    const methods = [el("span", { class: "method post", text: "POST" })];
    if (item.get) methods.push(el("span", { class: "method get", text: "GET" }));
    const details = el("details", { class: "tool", id: "tool-" + name, "data-search": [name, op["x-mcp-title"], op.description].join(" ").toLowerCase() },
      el("summary", {},
        ...methods,
        el("span", { class: "name", text: name }),
        el("span", { class: "title", text: op["x-mcp-title"] || op.summary }),
        el("span", { class: "badge access-" + access, title: "Access: " + access, text: access })),
      el("div", { class: "body" },
        el("p", {}, richText(op.description)),
        paramsTable(input),
        item.get ? el("p", { class: "muted" }, richText("Also `GET /" + name + "?param=value` (query string).")) : null,
        form));
    return details;
  }

  function render() {
    const groups = new Map();
    const order = (e) => e[1].post["x-mcp-order"] ?? Infinity;
    const paths = Object.entries(doc.paths || {}).filter(([, item]) => item.post);
    paths.sort((a, b) => order(a) - order(b));
    for (const [path, item] of paths) {
      const tag = (item.post.tags || ["tools"])[0];
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push([path, item]);
    }
    const tagText = new Map((doc.tags || []).map((t) => [t.name, t.description]));
    const list = $("list");
    list.replaceChildren();
    for (const [tag, entries] of groups) {
      const section = el("section", { "aria-labelledby": "toolset-" + tag },
        el("h2", { class: "toolset", id: "toolset-" + tag }, `${tag} `, el("span", { text: "· " + (tagText.get(tag) || "") })));
      for (const [path, item] of entries) section.append(toolEntry(path, item));
      list.append(section);
    }
    const count = Object.values(doc.paths || {}).filter((i) => i.post).length;
    $("version").textContent = `${doc.info.title} ${doc.info.version} · ${count} tools · OpenAPI ${doc.openapi}`;
    document.title = `${doc.info.title} ${doc.info.version} — REST API`;
    if (location.hash) {
      const target = document.getElementById(location.hash.slice(1));
      if (target && target.tagName === "DETAILS") { target.open = true; target.scrollIntoView(); }
    }
  }

  function applyFilter() {
    const q = $("filter").value.trim().toLowerCase();
    for (const d of document.querySelectorAll("details.tool")) d.hidden = q !== "" && !d.dataset.search.includes(q);
  }

  async function load() {
    const key = $("api-key");
    key.value = sessionStorage.getItem(KEY_STORE) || "";
    key.addEventListener("input", () => sessionStorage.setItem(KEY_STORE, key.value));
    $("filter").addEventListener("input", applyFilter);
    $("settings").addEventListener("submit", (ev) => ev.preventDefault());
    try {
      const resp = await fetch("openapi.json", { headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
      doc = await resp.json();
      render();
    } catch (e) {
      $("status").textContent = "Cannot load openapi.json: " + e;
    }
  }

  document.addEventListener("DOMContentLoaded", load);
})();
