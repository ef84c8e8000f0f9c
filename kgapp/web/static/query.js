// The query page at /sparql: run the editor's query against the endpoint and show the answer as a sortable
// table, and as a bar chart when the answer is a label and a number. All settings (endpoint, formats,
// prefixes, the ontology's terms) come from the page's data-settings. The SPARQL editor
// (vendor/sparql-editor.min.js, built by tools/editor) enhances the textarea when it loaded; without it,
// or without JavaScript at all, the textarea and the form's GET to /sparql still work.
"use strict";

(function () {
  const page = document.getElementById("sparql-page");
  if (!page) return;
  const settings = JSON.parse(page.dataset.settings);
  const textarea = document.getElementById("query-text");
  const form = document.getElementById("query-form");
  const runButton = document.getElementById("run");
  const examples = document.getElementById("examples");
  const statusLine = document.getElementById("status");
  const errorBox = document.getElementById("query-error-box");
  const errorText = document.getElementById("query-error");
  const errorPosition = document.getElementById("error-position");
  const chart = document.getElementById("chart");
  const chartCaption = document.getElementById("chart-caption");
  const downloads = document.getElementById("downloads");
  const downloadLinks = document.getElementById("download-links");
  const permalink = document.getElementById("permalink");
  const table = document.getElementById("results");
  const MAX_SHOWN = 5000; // rows drawn; downloads carry everything
  const MAX_LABELLED = 300; // IRIs sent to the label query, keeping it small
  const RDFS = "http://www.w3.org/2000/01/rdf-schema#";
  const SKOS = "http://www.w3.org/2004/02/skos/core#";
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const NUMERIC = new Set(["integer", "decimal", "double", "float", "int", "long", "short", "byte",
    "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt",
    "unsignedLong", "unsignedShort", "unsignedByte"].map((n) => XSD + n));
  const MAX_BARS = 60; // a longer answer is a table, not a chart
  const SVG = "http://www.w3.org/2000/svg";

  // The editor: CodeMirror when its bundle loaded, else the plain textarea (same interface).
  const editor = window.KgappEditor ? window.KgappEditor.create({
    textarea: textarea, prefixes: settings.prefixes, vocabulary: settings.vocabulary || [],
    stylesheet: page.dataset.editorCss, label: "SPARQL query", onRun: function () { run(); },
  }) : {
    getValue: () => textarea.value,
    setValue: (text) => { textarea.value = text; },
    focus: () => textarea.focus(),
    markError: () => null,
    clearError: () => null,
  };

  // The completion list scrolls when long; it is driven from the editor with the arrow keys (a listbox
  // with aria-activedescendant); tabindex="0" also lets a keyboard user reach a scrolled list directly.
  const host = document.querySelector(".sparql-editor-host");
  if (host && host.shadowRoot && window.MutationObserver) {
    new MutationObserver(function () {
      host.shadowRoot.querySelectorAll('[role="listbox"]:not([tabindex])').forEach(function (list) {
        list.setAttribute("tabindex", "0");
      });
    }).observe(host.shadowRoot, { childList: true, subtree: true });
  }

  // -- terms -------------------------------------------------------------------------------------

  function compact(iri) {
    // For reading only: a "/" in a local name would need escaping in SPARQL, but reads well here.
    let best = null;
    for (const [prefix, ns] of Object.entries(settings.prefixes)) {
      if (iri.startsWith(ns) && /^[\w./-]*$/.test(iri.slice(ns.length)) && (!best || ns.length > best[1].length)) {
        best = [prefix, ns];
      }
    }
    return best ? best[0] + ":" + iri.slice(best[1].length) : iri;
  }

  function pageFor(iri) {
    // Our own IRIs are served at the same path on this host; anything else by the generic resource page.
    if (iri.startsWith(settings.idBase)) return settings.idPath + iri.slice(settings.idBase.length);
    return settings.resourcePath + "?iri=" + encodeURIComponent(iri);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function termCell(term) {
    const td = document.createElement("td");
    if (!term) {
      td.className = "unbound";
      return td;
    }
    if (term.type === "uri") {
      const a = el("a", "iri", compact(term.value));
      a.href = pageFor(term.value);
      a.title = term.value;
      a.dataset.iri = term.value;
      td.append(a);
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.append(document.createTextNode(term.value));
      if (term["xml:lang"]) td.append(el("span", "lang", "@" + term["xml:lang"]));
      else if (term.datatype && term.datatype !== XSD + "string") td.append(el("span", "datatype", compact(term.datatype)));
    }
    return td;
  }

  // -- N-Triples (the page asks for it for CONSTRUCT and DESCRIBE) into SPARQL-JSON-like rows ---------

  const NT_TERM = /<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?/y;

  function unescapeNt(s) {
    return s.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, function (_, e) {
      if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
      return { t: "\t", b: "\b", n: "\n", r: "\r", f: "\f" }[e] || e;
    });
  }

  function parseNTriples(text) {
    const rows = [];
    for (const line of text.split("\n")) {
      const row = {};
      let at = 0;
      for (const name of ["subject", "predicate", "object"]) {
        while (line[at] === " " || line[at] === "\t") at++;
        NT_TERM.lastIndex = at;
        const m = NT_TERM.exec(line);
        if (!m) break;
        at = NT_TERM.lastIndex;
        if (m[1] !== undefined) row[name] = { type: "uri", value: unescapeNt(m[1]) };
        else if (m[2] !== undefined) row[name] = { type: "bnode", value: m[2] };
        else row[name] = { type: "literal", value: unescapeNt(m[3]), "xml:lang": m[4], datatype: m[5] };
      }
      if (row.object) rows.push(row);
    }
    return { head: { vars: ["subject", "predicate", "object"] }, results: { bindings: rows } };
  }

  // -- running ---------------------------------------------------------------------------------------

  async function post(query, accept) {
    return fetch(settings.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: accept },
      body: new URLSearchParams({ query: query }),
    });
  }

  function showError(message) {
    errorText.textContent = message;
    errorPosition.hidden = true;
    errorBox.hidden = false;
    // The endpoint's syntax errors say where: "error at LINE:COLUMN". Mark that place in the editor.
    const at = /error at (\d+):(\d+)/.exec(message);
    if (!at) return;
    const line = Number(at[1]), column = Number(at[2]);
    const firstLine = message.split("\n")[0].replace(/^.*?error at \d+:\d+:\s*/, "");
    if (editor.markError(line, column, firstLine) === null) return;
    errorPosition.textContent = "Go to line " + line + ", column " + column;
    errorPosition.dataset.line = line;
    errorPosition.dataset.column = column;
    errorPosition.hidden = false;
  }

  function reset() {
    errorBox.hidden = true;
    editor.clearError();
    chart.hidden = true;
    chart.querySelector("svg")?.remove();
    downloads.hidden = true;
    table.hidden = true;
    table.tHead.replaceChildren();
    table.tBodies[0].replaceChildren();
  }

  function updatePermalink(query) {
    const url = location.pathname + "?qtext=" + encodeURIComponent(query);
    permalink.href = url;
    history.replaceState(null, "", url);
  }

  function showDownloads(query, kind) {
    const names = kind === "ask" ? settings.askFormats : null;
    const group = kind === "graph" ? settings.formats.graph : settings.formats.results;
    downloadLinks.replaceChildren();
    for (const f of group) {
      if (names && !names.includes(f.name)) continue;
      const a = el("a", "download", f.name);
      a.href = settings.endpoint + "?query=" + encodeURIComponent(query) + "&format=" + f.name;
      a.download = "result." + f.extension;
      downloadLinks.append(a);
    }
    downloads.hidden = false;
  }

  // -- sortable table: each header is a button; aria-sort tells which column orders the rows ----------

  function isNumeric(term) {
    return term && term.type === "literal" && NUMERIC.has(term.datatype) && !isNaN(Number(term.value));
  }

  function sortHeader(text, column, className) {
    const th = el("th", className);
    th.scope = "col";
    const button = el("button", "sort", text);
    button.type = "button";
    button.dataset.column = column;
    button.append(el("span", "sort-mark"));
    button.setAttribute("aria-label", "Sort by " + text);
    button.addEventListener("click", function () { sortBy(th, column); });
    th.append(button);
    return th;
  }

  function sortKey(tr, column) {
    const td = tr.cells[column];
    if (td.dataset.number !== undefined) return Number(td.dataset.number);
    const first = td.firstChild;
    return first ? first.textContent : null; // the shown name, without the IRI note under it
  }

  function compareKeys(a, b) {
    if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1; // unbound last
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(th, column) {
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).map((tr) => [sortKey(tr, column), tr]);
    rows.sort(function (a, b) {
      const order = compareKeys(a[0], b[0]);
      return ascending || a[0] === null || b[0] === null ? order : -order;
    });
    body.append(...rows.map((r) => r[1]));
  }

  function drawTable(data) {
    const vars = data.head.vars;
    const headRow = document.createElement("tr");
    headRow.append(sortHeader("#", 0, "row-number"));
    vars.forEach(function (v, i) { headRow.append(sortHeader(v, i + 1)); });
    table.tHead.append(headRow);
    const rows = data.results.bindings.slice(0, MAX_SHOWN).map(function (binding, i) {
      const tr = document.createElement("tr");
      const number = el("td", "row-number", String(i + 1));
      number.dataset.number = i + 1;
      tr.append(number);
      for (const v of vars) {
        const td = termCell(binding[v]);
        if (isNumeric(binding[v])) td.dataset.number = Number(binding[v].value);
        tr.append(td);
      }
      return tr;
    });
    table.tBodies[0].append(...rows);
    table.hidden = false;
  }

  // -- bar chart: an answer whose rows are a label and a number, drawn as inline SVG -----------------

  function chartColumns(data) {
    const rows = data.results.bindings;
    if (rows.length < 1 || rows.length > MAX_BARS) return null;
    const vars = data.head.vars;
    const value = vars.find((v) => rows.every((b) => isNumeric(b[v])));
    const label = value && vars.find((v) => v !== value && rows.every((b) => b[v] && b[v].type !== "bnode"));
    return label ? { label: label, value: value } : null;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawChart(data, names) {
    const columns = chartColumns(data);
    if (!columns) return;
    const rows = data.results.bindings.map(function (b) {
      const term = b[columns.label];
      const name = term.type === "uri" ? (names.get(term.value) || compact(term.value)) : term.value;
      return { name: name, value: Number(b[columns.value].value) };
    });
    const max = Math.max(...rows.map((r) => r.value), 0);
    const step = 44; // one row: the label and value on a line, the bar under it
    const caption = columns.value + " by " + columns.label;
    const picture = svg("svg", { width: "100%", height: String(rows.length * step), role: "img",
                                 "aria-labelledby": "chart-title chart-desc", class: "bar-chart" });
    picture.append(svg("title", { id: "chart-title" }, "Bar chart: " + caption));
    picture.append(svg("desc", { id: "chart-desc" }, rows.map((r) => r.name + ": " + r.value).join("; ")));
    rows.forEach(function (r, i) {
      const y = i * step;
      const g = svg("g", { class: "bar-row" });
      g.append(svg("text", { x: "0", y: String(y + 15), class: "bar-label" }, r.name));
      g.append(svg("text", { x: "100%", y: String(y + 15), "text-anchor": "end", class: "bar-value" },
                   String(r.value)));
      const width = max > 0 ? Math.max(0, r.value) / max * 100 : 0;
      const bar = svg("rect", { x: "0", y: String(y + 21), height: "14", rx: "2",
                                width: width.toFixed(2) + "%", class: "bar" });
      bar.append(svg("title", {}, r.name + ": " + r.value));
      g.append(bar);
      picture.append(g);
    });
    chartCaption.textContent = "Chart: " + caption + " (" + rows.length + (rows.length === 1 ? " bar" : " bars") + ")";
    chart.append(picture);
    chart.hidden = false;
  }

  async function addLabels() {
    // A second, small query for the labels of the IRIs shown; readable names instead of bare IRIs.
    const links = Array.from(table.querySelectorAll("a.iri"));
    const names = new Map();
    const iris = [...new Set(links.map((a) => a.dataset.iri))]
      .filter((iri) => !/[\s<>"{}|^`\\]/.test(iri)).slice(0, MAX_LABELLED);
    if (!iris.length) return names;
    const query = "SELECT ?iri (SAMPLE(COALESCE(?pref, ?label)) AS ?name) WHERE {\n" +
      "  VALUES ?iri { " + iris.map((i) => "<" + i + ">").join(" ") + " }\n" +
      "  OPTIONAL { ?iri <" + SKOS + "prefLabel> ?pref }\n  OPTIONAL { ?iri <" + RDFS + "label> ?label }\n" +
      "  FILTER(BOUND(?pref) || BOUND(?label))\n} GROUP BY ?iri";
    const response = await post(query, settings.accept);
    if (!response.ok) return names;
    for (const b of (await response.json()).results.bindings) if (b.name) names.set(b.iri.value, b.name.value);
    for (const a of links) {
      const name = names.get(a.dataset.iri);
      if (!name) continue;
      a.textContent = name;
      a.after(el("span", "term-note", compact(a.dataset.iri)));
    }
    return names;
  }

  async function run() {
    const query = editor.getValue();
    reset();
    updatePermalink(query);
    runButton.disabled = true;
    statusLine.textContent = "Running…";
    const started = performance.now();
    try {
      const response = await post(query, settings.accept);
      const body = await response.text();
      const ms = Math.round(performance.now() - started);
      if (!response.ok) {
        statusLine.textContent = "The endpoint answered " + response.status + " after " + ms + " ms.";
        showError(body);
        return;
      }
      const isJson = (response.headers.get("Content-Type") || "").includes("json");
      const data = isJson ? JSON.parse(body) : parseNTriples(body);
      if (typeof data.boolean === "boolean") {
        statusLine.textContent = "Answer: " + (data.boolean ? "yes" : "no") + " (" + ms + " ms)";
        showDownloads(query, "ask");
        return;
      }
      const count = data.results.bindings.length;
      statusLine.textContent = count + (count === 1 ? " row" : " rows") + " in " + ms + " ms" +
        (count > MAX_SHOWN ? " (showing the first " + MAX_SHOWN + "; download for all)" : "");
      showDownloads(query, isJson ? "results" : "graph");
      drawTable(data);
      const names = await addLabels();
      if (isJson) drawChart(data, names);
    } catch (err) {
      statusLine.textContent = "";
      showError("Could not run the query: " + err.message);
    } finally {
      runButton.disabled = false;
    }
  }

  // -- wiring ----------------------------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run();
  });
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  examples.addEventListener("change", function () {
    const option = examples.selectedOptions[0];
    if (option && option.dataset.query) {
      editor.setValue(option.dataset.query);
      editor.focus();
    }
  });
  document.getElementById("query-label").addEventListener("click", function (event) {
    if (!window.KgappEditor) return; // the label's own target, the textarea, is there
    event.preventDefault();
    editor.focus();
  });
  errorPosition.addEventListener("click", function () {
    editor.markError(Number(errorPosition.dataset.line), Number(errorPosition.dataset.column),
                     errorText.textContent.split("\n")[0]);
    editor.focus();
  });
  permalink.href = location.pathname + "?qtext=" + encodeURIComponent(editor.getValue());
  if (textarea.dataset.autorun) run();
})();
