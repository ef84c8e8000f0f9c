// kgapp's SPARQL editor: CodeMirror 6 with the legacy-modes SPARQL tokenizer, bundled by build.mjs into
// kgapp/web/static/vendor/sparql-editor.min.js. It exposes window.KgappEditor.create(); the page's own
// query.js calls it to enhance the plain <textarea>, which stays the form field (kept in sync), so the page
// works with JavaScript off. Styles: CodeMirror's own go through constructable stylesheets adopted by a
// shadow root (no <style> element, so the Content-Security-Policy needs no 'unsafe-inline'); the token
// colours are a static stylesheet linked inside that shadow root.
import { EditorState, EditorSelection } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
  highlightSpecialChars, placeholder,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { StreamLanguage, bracketMatching, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import {
  autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap, startCompletion,
} from "@codemirror/autocomplete";
import { setDiagnostics, lintGutter, lintKeymap } from "@codemirror/lint";
import { tagHighlighter, tags as t } from "@lezer/highlight";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";

// Stable, readable class names for tokens (styled by query-editor.css, asserted by the browser tests).
const highlighter = tagHighlighter([
  { tag: t.keyword, class: "tok-keyword" },
  { tag: t.standard(t.variableName), class: "tok-builtin" },
  { tag: t.local(t.variableName), class: "tok-variable" },
  { tag: t.variableName, class: "tok-word" },
  { tag: t.atom, class: "tok-iri" },
  { tag: t.string, class: "tok-string" },
  { tag: t.comment, class: "tok-comment" },
  { tag: t.meta, class: "tok-meta" },
  { tag: t.operator, class: "tok-operator" },
  { tag: t.bracket, class: "tok-bracket" },
]);

const KEYWORDS = ("SELECT DISTINCT REDUCED CONSTRUCT DESCRIBE ASK WHERE FROM NAMED PREFIX BASE OPTIONAL FILTER " +
  "UNION MINUS GRAPH BIND VALUES GROUP BY HAVING ORDER ASC DESC LIMIT OFFSET AS NOT EXISTS IN UNDEF " +
  "COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES DATATYPE BOUND IRI BNODE " +
  "COALESCE IF REGEX CONTAINS STRSTARTS STRENDS LCASE UCASE CONCAT STRLEN isIRI isLiteral isBlank").split(" ");

function declaredPrefixes(doc) {
  const found = new Set();
  for (const m of doc.matchAll(/PREFIX\s+([A-Za-z][\w.-]*)?:/gi)) found.add(m[1] || "");
  return found;
}

function makeCompletion(prefixes, vocabulary) {
  const names = Object.keys(prefixes);
  // A term's compact name, if one of the page's prefixes covers it.
  function compact(iri) {
    let best = null;
    for (const p of names) {
      const ns = prefixes[p];
      if (iri.startsWith(ns) && /^[\w-]+$/.test(iri.slice(ns.length)) && (!best || ns.length > prefixes[best].length)) best = p;
    }
    return best === null ? null : { prefix: best, name: best + ":" + iri.slice(prefixes[best].length) };
  }
  const terms = [];
  for (const term of vocabulary) {
    const c = compact(term.iri);
    if (c) terms.push({ ...term, ...c });
  }

  // Choosing a term whose prefix the query does not declare also adds the PREFIX line at the top.
  function applyTerm(term) {
    return function (view, completion, from, to) {
      const changes = [{ from, to, insert: term.name }];
      let shift = 0;
      if (!declaredPrefixes(view.state.doc.toString()).has(term.prefix)) {
        const line = "PREFIX " + term.prefix + ": <" + prefixes[term.prefix] + ">\n";
        changes.push({ from: 0, insert: line });
        shift = line.length;
      }
      view.dispatch({ changes, selection: { anchor: from + term.name.length + shift }, userEvent: "input.complete" });
    };
  }

  const termOptions = terms.map((term) => ({
    label: term.name,
    detail: term.label ? term.label + " · " + term.kind : term.kind,
    info: term.iri,
    type: term.kind === "class" ? "class" : "property",
    apply: applyTerm(term),
    boost: term.prefix === "kg" ? 1 : 0,
  }));
  const prefixOptions = names.map((p) => ({
    label: p + ":", detail: prefixes[p], type: "namespace",
  }));
  const keywordOptions = KEYWORDS.map((k) => ({ label: k, type: "keyword", boost: -1 }));

  return function complete(context) {
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    // In a PREFIX declaration: offer whole declarations.
    const decl = /PREFIX\s+([\w.-]*:?)$/i.exec(before);
    if (decl) {
      return {
        from: context.pos - decl[1].length,
        options: names.map((p) => ({ label: p + ": <" + prefixes[p] + ">", type: "namespace" })),
      };
    }
    const variable = context.matchBefore(/[?$][\w]*/);
    if (variable) {
      const seen = new Set();
      for (const m of context.state.doc.toString().matchAll(/[?$]([A-Za-z_]\w*)/g)) seen.add("?" + m[1]);
      seen.delete(variable.text);
      return { from: variable.from, options: [...seen].map((v) => ({ label: v, type: "variable" })) };
    }
    const word = context.matchBefore(/[A-Za-z_][\w.-]*:?[\w-]*|:[\w-]*/);
    if (!word && !context.explicit) return null;
    const text = word ? word.text : "";
    if (text.includes(":")) {
      const prefix = text.slice(0, text.indexOf(":"));
      return {
        from: word.from,
        options: termOptions.filter((o) => o.label.startsWith(prefix + ":")),
        validFor: /^[\w.-]*:[\w-]*$/,
      };
    }
    if (!word || text.length < 1) {
      return { from: context.pos, options: prefixOptions.concat(termOptions, keywordOptions) };
    }
    return { from: word.from, options: prefixOptions.concat(termOptions, keywordOptions), validFor: /^[\w-]*$/ };
  };
}

// Typing over a selection that spans lines: Chromium's own editing would merge the lines' elements and
// copy their computed colours into style="" attributes, which the Content-Security-Policy (rightly)
// refuses, logging a violation. The editor applies such input itself (through the input handlers, so
// closeBrackets still wraps a selection in brackets) and the browser never edits the DOM.
const typeOverSelection = EditorView.domEventHandlers({
  beforeinput(event, view) {
    if (event.inputType !== "insertText" || typeof event.data !== "string") return false;
    // The range the browser is about to replace: the DOM's selection, which may be ahead of the state's.
    let range = event.getTargetRanges ? event.getTargetRanges()[0] : null;
    if (!range) {
      const selection = view.root.getSelection ? view.root.getSelection() : document.getSelection();
      range = selection && selection.rangeCount ? selection.getRangeAt(0) : null;
    }
    if (!range || !view.contentDOM.contains(range.startContainer) || !view.contentDOM.contains(range.endContainer)) {
      return false;
    }
    let from, to;
    try {
      from = view.posAtDOM(range.startContainer, range.startOffset);
      to = view.posAtDOM(range.endContainer, range.endOffset);
    } catch (e) {
      return false;
    }
    if (from === to) return false; // plain typing: the browser's own input path is fine
    event.preventDefault();
    const sel = view.state.selection.main;
    if (sel.from !== from || sel.to !== to) view.dispatch({ selection: { anchor: from, head: to } });
    const text = event.data;
    const insert = () => view.state.update({
      changes: { from, to, insert: text }, selection: { anchor: from + text.length },
      userEvent: "input.type", scrollIntoView: true,
    });
    for (const handler of view.state.facet(EditorView.inputHandler)) {
      if (handler(view, from, to, text, insert)) return true;
    }
    view.dispatch(insert());
    return true;
  },
});

// Convert the endpoint's 1-based line:column (columns count code points, as Oxigraph does) into an
// offset in the document (UTF-16 units), clamped to the text.
function offsetAt(state, line, column) {
  const l = state.doc.line(Math.max(1, Math.min(line, state.doc.lines)));
  let units = 0, point = 1;
  for (const ch of l.text) {
    if (point >= column) break;
    units += ch.length;
    point++;
  }
  return l.from + units;
}

function create(options) {
  const textarea = options.textarea;
  const host = document.createElement("div");
  host.className = "sparql-editor-host";
  textarea.after(host);
  const root = host.attachShadow({ mode: "open" });
  if (options.stylesheet) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = options.stylesheet;
    root.append(link);
  }
  const parent = document.createElement("div");
  parent.className = "sparql-editor";
  root.append(parent);

  let hasDiagnostics = false;
  const run = () => { options.onRun && options.onRun(); return true; };
  const view = new EditorView({
    root,
    parent,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(), drawSelection(),
        indentOnInput(), bracketMatching(), closeBrackets(), highlightActiveLine(), lintGutter(),
        StreamLanguage.define(sparql), syntaxHighlighting(highlighter),
        autocompletion({ override: [makeCompletion(options.prefixes || {}, options.vocabulary || [])],
                         icons: false }),
        placeholder("SELECT * WHERE { ?s ?p ?o } LIMIT 10"),
        EditorView.lineWrapping,
        keymap.of([
          { key: "Mod-Enter", run, preventDefault: true },
          { key: "Ctrl-Space", run: startCompletion },
          ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap,
        ]),
        typeOverSelection,
        EditorView.contentAttributes.of({ "aria-label": options.label || "SPARQL query", spellcheck: "false",
                                          autocapitalize: "off", autocorrect: "off" }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          if (hasDiagnostics) {
            hasDiagnostics = false;
            update.view.dispatch(setDiagnostics(update.state, []));
          }
        }),
      ],
    }),
  });
  textarea.hidden = true;

  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text },
                      selection: EditorSelection.cursor(0) });
    },
    focus: () => view.focus(),
    // Mark the endpoint's error position: a lint marker (underline + gutter) and the cursor there.
    markError(line, column, message) {
      const from = offsetAt(view.state, line, column);
      const lineEnd = view.state.doc.lineAt(from).to;
      const to = from < lineEnd ? from + 1 : from;
      view.dispatch(setDiagnostics(view.state, [{ from, to, severity: "error", message }]));
      view.dispatch({ selection: EditorSelection.cursor(from), scrollIntoView: true });
      hasDiagnostics = true;
      return from;
    },
    clearError() {
      if (hasDiagnostics) view.dispatch(setDiagnostics(view.state, []));
      hasDiagnostics = false;
    },
  };
}

window.KgappEditor = { create };
