"""HTML fragments of entity pages built in Python (a term, source markers, nested details, a diagram), escaped
with markupsafe exactly as the Jinja macros in _macros.html escape them, at a fraction of their cost."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import escape

from kgapp.read.describe import Statement, Term
from kgapp.read.diagram import Diagram

READING_BADGE = ('<span class="badge reading-badge" title="kgapp mapped the report\'s words to this value; the '
                 'report does not state it in these terms">kgapp\'s reading of the report</span>')

MAX_IRIS = 20_000  # IRI fragments kept per build (the shared ones come back at once after a clear)


def e(value: object) -> str:
    """``value`` as HTML text (what ``{{ value }}`` prints under autoescaping): markupsafe's five entities,
    replaced directly for a plain string or number (a third of markupsafe's cost; pages escape ~600 values)."""
    if type(value) is str:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") \
            .replace("'", "&#39;")
    if type(value) is int:
        return str(value)
    return str(escape(value))


class Fragments:
    """Fragment builders for one page: ``page_url`` maps an IRI to this host's page (None: no link)."""

    def __init__(self, page_url: Callable[[str], str | None], external: Callable[[str], bool],
                 sources: dict[str, dict], iris: dict[tuple, str] | None = None):
        self._page_url, self.external, self.sources = page_url, external, sources
        self._urls: dict[str, str | None] = {}
        self._refs: dict[str, str] = {}
        self._terms: dict[tuple, str] = {}  # a predicate or a shared object recurs on many rows
        # An IRI's HTML depends only on the IRI, its label and ``outbound`` (``page_url`` and ``external``
        # being the app's): pages of one build can share it (kgapp.web.pages passes a dict per build).
        self._iris: dict[tuple, str] = {} if iris is None else iris

    def url(self, iri: str) -> str | None:
        """The escaped href of ``iri``'s page (computed once per page and IRI), or None."""
        if iri not in self._urls:
            href = self._page_url(iri)
            self._urls[iri] = e(href) if href else None
        return self._urls[iri]

    def term(self, t: Term, outbound: bool = True) -> str:
        if t.kind == "iri":
            key: tuple = (t.value, t.label, outbound)
            html = self._iris.get(key)
            if html is None:
                if len(self._iris) >= MAX_IRIS:
                    self._iris.clear()
                html = self._iris[key] = self._term(t, outbound)
            return html
        key = (t.kind, t.value, t.label, t.language, t.datatype, outbound)
        html = self._terms.get(key)
        if html is None:
            html = self._terms[key] = self._term(t, outbound)
        return html

    def _term(self, t: Term, outbound: bool) -> str:
        if t.kind == "iri":
            href, value = self.url(t.value), e(t.value)
            out = f'<a href="{href}" title="{value}">{e(t.label)}</a>' if href else f'<span class="iri">{value}</span>'
            if outbound and self.external(t.value):
                out += (f' <a class="ext" href="{value}" rel="external noopener" title="{value}">↗'
                        f'<span class="visually-hidden"> {value}</span></a>')
            return out
        if t.kind == "bnode":
            return f'<span class="bnode">{e(t.label)}</span>'
        lang = f' lang="{e(t.language)}"' if t.language else ""
        out = f'<span class="literal"{lang}>{e(t.value)}</span>'
        if t.datatype and not t.datatype.endswith("#string") and not t.datatype.endswith("#langString"):
            out += f' <small class="dt">{e(t.datatype.rsplit("#", 1)[-1])}</small>'
        return out

    def ref(self, graph: str) -> str:
        if graph not in self._refs:
            s = self.sources.get(graph)
            self._refs[graph] = f'<a class="ref" href="#src-{e(s["n"])}" title="{e(s["title"])}">[{e(s["n"])}]</a>' \
                if s else ""
        return self._refs[graph]

    def refs(self, graphs: list[str]) -> str:
        return "".join(self.ref(g) for g in graphs)

    def details(self, statements: list[Statement], depth: int = 0) -> str:
        if not statements or depth >= 5:
            return ""
        rows = "".join(f"\n  <dt>{self.term(d.predicate, False)}</dt>\n  <dd>{self.term(d.other)}"
                       f"{self.details(d.details, depth + 1)}</dd>" for d in statements)
        return f'\n<dl class="details">{rows}\n</dl>'

    def reading_note(self, r) -> str:
        out = f'<p class="note reading-note">The report says “<span class="wording">{e(r.wording)}</span>”'
        if r.confidence:
            out += f"; kgapp's confidence in this reading: <strong class=\"confidence\">{e(r.confidence)}</strong>"
        out += "."
        if r.note:
            out += f' <span class="muted">{e(r.note)}</span>'
        if self.url(r.iri):
            out += f' <a href="{self.url(r.iri)}">the reading</a>'
        return out + "</p>"

    def conflict_notes(self, conflicts, with_focus: bool = False) -> str:
        out = []
        for c in conflicts:
            focus = ""
            if with_focus and c.focus and self.url(c.focus):
                focus = f' <span class="muted">(on <a href="{self.url(c.focus)}">{e(c.focus.rsplit("/", 1)[-1])}</a>)</span>'
            out.append(f'\n<p class="conflict"><span class="conflict-tag">conflict</span> '
                       f'<a href="/validation#{e(c.anchor)}">{e(c.message)}</a>{focus}</p>')
        return "".join(out)

    def diagram(self, dg: Diagram) -> str:
        """A server-drawn SVG (no script, no inline style), then its text equivalent (its numbers, ints, need no
        escaping)."""
        pid = e("dg-" + dg.key)
        out = [f'<figure class="diagram" id="{pid}">\n<svg class="kg-diagram" viewBox="0 0 {dg.width} '
               f'{dg.height}" width="{dg.width}" height="{dg.height}" role="img" aria-labelledby="{pid}-title '
               f'{pid}-desc" xmlns="http://www.w3.org/2000/svg">\n<title id="{pid}-title">{e(dg.title)}</title>\n'
               f'<desc id="{pid}-desc">{e(dg.desc)}</desc>\n<defs><marker id="{pid}-arrow" viewBox="0 0 10 10" '
               'refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path '
               'class="arrowhead" d="M0,0 L10,5 L0,10 z"/></marker></defs>']
        for g in dg.edges:
            arrow = f' marker-end="url(#{pid}-arrow)"' if g.arrow else ""
            out.append(f'\n<line class="edge" x1="{g.x1}" y1="{g.y1}" x2="{g.x2}" y2="{g.y2}"{arrow}/>')
            if g.label:
                out.append(f'<text class="edge-label" x="{g.x1 + 8}" y="{(g.y1 + g.y2) // 2 + 4}">'
                           f'{e(g.label)}</text>')
        for b in dg.boxes:
            out.append(f'\n<g class="box box-{e(b.kind)}"><rect x="{b.x}" y="{b.y}" width="{b.w}" '
                       f'height="{b.h}" rx="6"/>')
            last = len(b.lines) - 1
            for n, line in enumerate(b.lines):
                sub = ' class="sub"' if n == last and len(b.lines) > 1 and b.kind not in ("type", "code") else ""
                out.append(f'<text x="{b.x + 10}" y="{b.y + 18 + n * 17}"{sub}>{e(line)}</text>')
            out.append("</g>")
        items = "".join(f"<li>{e(relation)}: " + (f'<a href="{self.url(iri)}">{e(label)}</a>' if iri and self.url(iri)
                                                 else e(label)) + "</li>" for label, iri, relation in dg.text)
        out.append(f'\n</svg>\n<figcaption><span class="visually-hidden">{e(dg.title)}: </span>'
                   f'<ul class="diagram-text">{items}</ul></figcaption>\n</figure>')
        return "".join(out)


def formats(alternates) -> str:
    """"Also as" links to the page's other formats."""
    if not alternates:
        return ""
    shown = [(f, url) for f, url in alternates if f.kind != "html"]
    links = " · ".join(f'<a href="{e(url)}" type="{e(f.media_type)}" download>{e(f.extension)}</a>' for f, url in shown)
    return f'<p class="formats">Also as {links}</p>'
