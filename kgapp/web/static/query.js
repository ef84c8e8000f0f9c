// The query page at /sparql: run the editor's query against the endpoint and show the answer as a table.
// Dependency-free; all settings (endpoint, formats, prefixes) come from the page's data-settings.
"use strict";

(function () {
  const page = document.getElementById("sparql-page");
  if (!page) return;
  const settings = JSON.parse(page.dataset.settings);
  const editor = document.getElementById("query-text");
  const form = document.getElementById("query-form");
  const runButton = document.getElementById("run");
  const examples = document.getElementById("examples");
  const statusLine = document.getElementById("status");
  const errorBox = document.getElementById("query-error");
  const downloads = document.getElementById("downloads");
  const downloadLinks = document.getElementById("download-links");
  const permalink = document.getElementById("permalink");
  const table = document.getElementById("results");
  const MAX_SHOWN = 5000; // rows drawn; downloads carry everything
  const MAX_LABELLED = 300; // IRIs sent to the label query, keeping it small
  const RDFS = "http://www.w3.org/2000/01/rdf-schema#";
  const SKOS = "http://www.w3.org/2004/02/skos/core#";
  const XSD = "http://www.w3.org/2001/XMLSchema#";

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
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function reset() {
    errorBox.hidden = true;
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

  function drawTable(data) {
    const vars = data.head.vars;
    const headRow = document.createElement("tr");
    headRow.append(el("th", "row-number", "#"));
    for (const v of vars) headRow.append(el("th", null, v));
    table.tHead.append(headRow);
    const rows = data.results.bindings.slice(0, MAX_SHOWN).map(function (binding, i) {
      const tr = document.createElement("tr");
      tr.append(el("td", "row-number", String(i + 1)));
      for (const v of vars) tr.append(termCell(binding[v]));
      return tr;
    });
    table.tBodies[0].append(...rows);
    table.hidden = false;
  }

  async function addLabels() {
    // A second, small query for the labels of the IRIs shown; readable names instead of bare IRIs.
    const links = Array.from(table.querySelectorAll("a.iri"));
    const iris = [...new Set(links.map((a) => a.dataset.iri))]
      .filter((iri) => !/[\s<>"{}|^`\\]/.test(iri)).slice(0, MAX_LABELLED);
    if (!iris.length) return;
    const query = "SELECT ?iri (SAMPLE(COALESCE(?pref, ?label)) AS ?name) WHERE {\n" +
      "  VALUES ?iri { " + iris.map((i) => "<" + i + ">").join(" ") + " }\n" +
      "  OPTIONAL { ?iri <" + SKOS + "prefLabel> ?pref }\n  OPTIONAL { ?iri <" + RDFS + "label> ?label }\n" +
      "  FILTER(BOUND(?pref) || BOUND(?label))\n} GROUP BY ?iri";
    const response = await post(query, settings.accept);
    if (!response.ok) return;
    const names = new Map();
    for (const b of (await response.json()).results.bindings) if (b.name) names.set(b.iri.value, b.name.value);
    for (const a of links) {
      const name = names.get(a.dataset.iri);
      if (!name) continue;
      a.textContent = name;
      a.after(el("span", "term-note", compact(a.dataset.iri)));
    }
  }

  async function run() {
    const query = editor.value;
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
      await addLabels();
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
  editor.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  examples.addEventListener("change", function () {
    const option = examples.selectedOptions[0];
    if (option && option.dataset.query) {
      editor.value = option.dataset.query;
      editor.focus();
    }
  });
  permalink.href = location.pathname + "?qtext=" + encodeURIComponent(editor.value);
  if (editor.dataset.autorun) run();
})();
