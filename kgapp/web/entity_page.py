"""The body of an entity page (header, summary, diagrams, statement tables, incoming links, sources) built in
Python: the same HTML the Jinja version of entity.html wrote, at about a tenth of its rendering cost."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from markupsafe import Markup

from kgapp.read.describe import Description, Statement
from kgapp.read.summary import Fact, Summary, Value
from kgapp.web.fragments import READING_BADGE, Fragments, e, formats

LEGEND = ('<div class="statements-intro">\n  <p class="legend muted">Each statement cites its sources in brackets; '
          'rows marked <span class="badge">inferred</span> follow by reasoning from the ontology and are stated by '
          f"no source; rows marked {READING_BADGE} are kgapp's mapping of the report's words, not what the report "
          'states; <span class="conflict-tag">conflict</span> notes show where a report and a code set disagree.'
          "</p>\n</div>\n")
THEAD = ('<thead><tr><th scope="col">Property</th><th scope="col">Value</th><th scope="col">Source</th></tr>'
         "</thead>\n<tbody>\n")


@dataclass
class EntityPage:
    d: Description
    alternates: list
    check_code: str | None
    summary: Summary | None
    compare_url: str | None
    downloads: list
    code_title: str | None
    diagrams: list

    @property
    def heading(self) -> str:
        heading = self.summary.label if self.summary else self.d.label
        number = self.code_title.split(" ", 1)[1] if self.code_title and " " in self.code_title else None
        if number is not None and heading.startswith(number):
            heading = heading[len(number):].strip()
        return heading

    @property
    def title(self) -> str:
        return f"{self.code_title} {self.heading}" if self.code_title else self.d.label

    def body(self, f: Fragments) -> Markup:
        d, out = self.d, ['\n<article class="entity">\n<header>\n  ']
        kinds = [s for title, rows in d.sections if title == "About" for s in rows
                 if s.predicate.value.endswith("#type")]
        if kinds:
            out.append('<p class="kinds">' + "".join(f'<span class="kind{" inferred" if s.inferred else ""}">'
                                                     f"{f.term(s.other, False)}</span>" for s in kinds) + "</p>")
        out.append(f'\n  <h1><span class="scheme-code">{e(self.code_title)}</span> {e(self.heading)}</h1>'
                   if self.code_title else f"\n  <h1>{e(d.label)}</h1>")
        out.append(f'\n  <p class="iri"><code>{e(d.iri)}</code>')
        if f.external(d.iri):
            out.append(f' <a class="ext" href="{e(d.iri)}" rel="external noopener">open original ↗</a>')
        out.append(f"</p>\n  {formats(self.alternates)}\n  ")
        if self.downloads:
            links = " · ".join(f'<a href="{e(url)}" type="{e(fmt.media_type)}" download>{e(fmt.extension)}</a>'
                               for fmt, url in self.downloads)
            out.append(f'<p class="formats graph-download">This is a named graph. Download its statements: {links}</p>')
        out.append("\n  ")
        if self.check_code:
            compare = f' · <a href="{e(self.compare_url)}">Compare side by side</a>' if self.compare_url else ""
            out.append(f'<p class="actions"><a class="button" href="/check?code={e(quote(self.check_code, safe="/"))}">'
                       f"Check a claim line for {e(self.check_code)}</a>{compare}</p>")
        out.append("\n</header>\n")
        if self.summary:
            out.append(summary_section(f, self.summary, self.compare_url))
        out.append("\n")
        if self.diagrams:
            heading = "Nerves and procedure type" if self.summary else "Codes that act on this nerve"
            out.append(f'<section id="picture" class="picture" aria-labelledby="picture-h"><h2 id="picture-h">'
                       f'{heading}</h2>\n<div class="diagrams">{"".join(f.diagram(x) for x in self.diagrams)}'
                       "</div></section>")
        out.append("\n" + LEGEND)
        if d.empty:
            out.append("<p>The graph uses this IRI but says nothing more about it.</p>")
        out.append("\n")
        if d.conflicts:
            out.append('<section id="conflicts" aria-labelledby="conflicts-h"><h2 id="conflicts-h">Conflicts between '
                       f"sources</h2>{f.conflict_notes(d.conflicts, True)}</section>")
        out.append("\n")
        if len(d.sections) > 2:
            toc = "".join(f'<li><a href="#{e(anchor(t))}">{e(t)}</a></li>' for t, _ in d.sections)
            out.append(f'\n<nav class="toc" aria-label="sections"><ul>\n{toc}\n'
                       + ('<li><a href="#incoming">What refers to this</a></li>' if d.incoming else "") + "\n"
                       + ('<li><a href="#sources">Sources</a></li>' if d.sources else "") + "\n</ul></nav>\n")
        out.append("\n")
        for title, rows in d.sections:
            out.append(f'\n<section id="{e(anchor(title))}">\n<h2>{e(title)}</h2>\n<div class="table-wrap">'
                       f'<table class="statements">\n{THEAD}' + "".join(row(f, s) for s in rows)
                       + "\n</tbody></table></div>\n</section>\n")
        out.append("\n")
        if d.incoming:
            out.append(incoming(f, d))
        out.append("\n")
        if d.sources:
            out.append(sources(f, d))
        return Markup("".join(out) + "\n</article>\n")


def anchor(title: str) -> str:
    return title.lower().replace(" ", "-")


def row(f: Fragments, s: Statement) -> str:
    classes = " ".join((["inferred"] if s.inferred else []) + (["reading"] if s.reading or s.from_reading else [])
                       + (["conflicted"] if s.conflicts else []))
    if s.inferred:
        badge = ' <span class="badge" title="derived by reasoning, not stated by a source">inferred</span>'
    elif s.reading or s.from_reading:
        badge = " " + READING_BADGE
    else:
        badge = ' <span class="visually-hidden">asserted</span>'
    note = f'<p class="note">{e(s.note)}</p>' if s.note else ""
    attr = f' class="{e(classes)}"' if classes else ""
    reading = f.reading_note(s.reading) if s.reading else ""
    return (f'\n\n<tr{attr}>\n  <th scope="row">{f.term(s.predicate, False)}</th>\n  <td>{f.term(s.other)}{badge}'
            f"\n    {reading}\n    {note}\n    {f.details(s.details)}\n    {f.conflict_notes(s.conflicts)}</td>"
            f'\n  <td class="refs">{f.refs(s.graphs)}</td>\n</tr>\n')


def incoming(f: Fragments, d: Description) -> str:
    rows = "".join(('\n<tr class="inferred">' if s.inferred else "\n<tr>") + f"<td>{f.term(s.other)}</td><td>"
                   + f.term(s.predicate, False) + (' <span class="badge">inferred</span>' if s.inferred else "")
                   + f'</td><td class="refs">{f.refs(s.graphs)}</td></tr>\n' for s in d.incoming)
    out = ('\n<section id="incoming">\n<h2>What refers to this</h2>\n<div class="table-wrap"><table class="statements '
           'incoming">\n<thead><tr><th scope="col">Subject</th><th scope="col">Property</th><th scope="col">Source'
           f"</th></tr></thead>\n<tbody>\n{rows}\n</tbody></table></div>\n")
    if d.incoming_total > d.incoming_size:
        first, number = (d.incoming_page - 1) * d.incoming_size, d.incoming_page
        prev = f'<a href="?incoming={number - 1}#incoming" rel="prev">Previous</a>' if number > 1 else ""
        after = f'<a href="?incoming={number + 1}#incoming" rel="next">Next</a>' if d.incoming_truncated else ""
        out += (f'\n<nav class="pager" aria-label="What refers to this, by page"><p class="muted">Links {first + 1}–'
                f"{first + len(d.incoming)} of {d.incoming_total}.\n{prev}\n{after}</p></nav>")
    return out + "\n</section>\n"


def sources(f: Fragments, d: Description) -> str:
    items = []
    for s in sorted(d.sources.values(), key=lambda s: s["n"]):
        title = f'<a href="{f.url(s["source"])}">{e(s["title"])}</a>' if s["source"] else e(s["title"])
        file = f'<span class="muted">· file <code>{e(s["file"])}</code></span>' if s["file"] else ""
        items.append(f'\n<li id="src-{e(s["n"])}" value="{e(s["n"])}">\n  {title}\n  {file}\n  <span class="muted">'
                     f'· graph <a href="{f.url(s["graph"])}">{e(s["graph"].rsplit("/", 1)[-1])}</a></span>\n</li>\n')
    return f'\n<section id="sources">\n<h2>Sources</h2>\n<ol class="sources">\n{"".join(items)}\n</ol>\n</section>\n'


def summary_section(f: Fragments, summary: Summary, compare_url: str | None) -> str:
    facts = "".join(_fact_head(x.key, x.label)
                    + (f'<ul class="values">{"".join(value_item(f, x, v) for v in x.values)}</ul>' if x.values
                       else '<span class="none">none in the graph</span>') + "</dd>\n</div>" for x in summary.facts)
    compare = f' · <a href="{e(compare_url)}">compare with similar codes</a>' if compare_url else ""
    return (f'<section id="summary" class="summary" aria-labelledby="summary-h">\n<h2 id="summary-h">'
            f'{e(summary.title)} at a glance</h2>\n<dl class="facts">{facts}\n</dl>\n<p class="summary-foot muted">'
            '[n] = <a href="#sources">source</a>; <span class="badge reading-badge">kgapp\'s reading</span> = '
            "kgapp's mapping of the report's words, not what the report states. Every statement, with its source, "
            f"is in the tables below{compare}.</p>\n</section>")


@lru_cache(maxsize=256)
def _fact_head(key: str, label: str) -> str:
    """The opening of a fact's row (the same few keys and labels on every code page)."""
    return f'\n<div class="fact fact-{e(key)}" id="fact-{e(key)}">\n<dt>{e(label)}</dt>\n<dd>'


def value_item(f: Fragments, fact: Fact, v: Value) -> str:
    reading = v.reading or v.from_reading
    out = [f'<li data-p="{e(v.predicate)}" data-o="{e(v.value)}"' + (' class="reading">' if reading else ">")]
    if fact.key == "conflicts":
        out.append(f'<a class="conflict-link" href="/validation#{e(v.anchor)}">{e(v.text)}</a>')
    elif v.iri and f.url(v.iri):
        out.append(f'<a href="{f.url(v.iri)}">{e(v.text)}</a>')
    else:
        out.append(f'<span class="text">{e(v.text)}</span>')
    out.append(" " + f.refs(v.graphs))
    if v.conflicts:
        c = v.conflicts[0]
        out.append(f' <a class="conflict-tag" href="/validation#{e(c.anchor)}" title="{e(c.message)}">conflict'
                   f'<span class="visually-hidden">: {e(c.message)}</span></a>')
    if reading:
        out.append(' <span class="badge reading-badge">kgapp\'s reading</span>')
        if v.reading:
            out.append(f' <span class="wording">of “{e(v.reading.wording)}”, confidence {e(v.reading.confidence)}</span>')
    if v.note:
        out.append(f' <span class="vnote">— {e(v.note)}</span>')
    return "".join(out) + "\n</li>"
