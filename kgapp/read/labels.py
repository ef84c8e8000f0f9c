"""Human names for IRIs: labels from the graph, CURIEs as fallback, and which IRIs may be queried or linked."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from urllib.parse import quote

import pyoxigraph as ox

from kgapp.namespaces import curie, sparql_prologue
from kgapp.read import direct

MAX_IRI_LENGTH = 2048
# Characters SPARQL forbids inside <…>; checking them keeps user input from escaping the IRI literal.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x20]*$")
# skos:prefLabel for concepts, rdfs:label for other nodes, dcterms:title for sources.
_LABELS = sparql_prologue() + """
SELECT ?x ?label ?notation WHERE {
  VALUES ?x { %s }
  OPTIONAL { ?x skos:prefLabel ?pl FILTER(LANG(?pl) IN ("en", "")) }
  OPTIONAL { ?x rdfs:label ?rl FILTER(LANG(?rl) IN ("en", "")) }
  OPTIONAL { ?x dcterms:title ?dt }
  OPTIONAL { ?x skos:notation ?notation }
  BIND(COALESCE(?pl, ?rl, ?dt) AS ?label)
}"""


def valid_iri(iri: str | None) -> bool:
    """True for an absolute IRI that is safe to put between < > in a SPARQL query."""
    if not iri or len(iri) > MAX_IRI_LENGTH or not _IRI.match(iri):
        return False
    try:
        ox.NamedNode(iri)  # Oxigraph's own check catches the rest (e.g. a malformed %-escape), found by fuzzing
    except ValueError:
        return False
    return True


def is_web_iri(iri: str) -> bool:
    """Only http(s) IRIs may become links: a javascript: or data: IRI in the data must stay text."""
    return iri.startswith(("http://", "https://"))


def display(label: str | None, notation: str | None) -> str:
    """A code reads best as its notation followed by its label (``64868 Facial–hypoglossal …``)."""
    if label and notation and notation not in label:
        return f"{notation} {label}"
    return label or notation or ""


MAX_CACHED = 200_000  # labels kept per opened store (a build never changes, so neither do its labels)


def labels(store, iris: Iterable[str]) -> dict[str, str]:
    """Display names for ``iris`` (those without a label in the graph get their CURIE); each IRI is read
    from the store once per opened build, the rest in batches of 200."""
    memo = getattr(store, "memo", None)  # a stand-in store without one reads every time
    cache: dict[str, str] = memo.setdefault("labels", {}) if memo is not None else {}
    asked = {i for i in iris if i in cache or valid_iri(i)}  # only valid IRIs are ever cached
    wanted = sorted(i for i in asked if i not in cache)
    found = _names(_label_rows(store, wanted))
    _keep(cache, wanted, found)
    return {i: cache.get(i) or found.get(i) or curie(i) for i in sorted(asked)}


def remember(store, rows: dict[str, list[tuple[str | None, str | None]]]) -> None:
    """Keep the names of IRIs whose (label, notation) rows a page has already read (kgapp.read.direct's
    ``rows_of``), so that ``labels`` need not look them up: the same names it would find."""
    memo = getattr(store, "memo", None)
    if memo is None or not rows:
        return
    cache: dict[str, str] = memo.setdefault("labels", {})
    wanted = [i for i in rows if i not in cache and valid_iri(i)]
    _keep(cache, wanted, _names((i, label, notation) for i in wanted for label, notation in rows[i]))


def _names(rows: Iterable[tuple[str, str | None, str | None]]) -> dict[str, str]:
    """The longest display name each IRI's rows give (the first of equal length)."""
    found: dict[str, str] = {}
    for iri, label, notation in rows:
        name = display(label, notation)
        if name and (iri not in found or len(name) > len(found[iri])):
            found[iri] = name
    return found


def _keep(cache: dict[str, str], wanted: list[str], found: dict[str, str]) -> None:
    if len(cache) + len(wanted) > MAX_CACHED:
        cache.clear()
    for i in wanted:
        cache[i] = found.get(i) or curie(i)


def _label_rows(store, iris: list[str]) -> Iterator[tuple[str, str | None, str | None]]:
    """(IRI, label, notation) rows for ``iris``: looked up in-process when the store is open here, else
    queried in batches of 200."""
    r = direct.reader(store)
    if r is not None:
        yield from ((iri, label, notation) for iri in iris for label, notation in direct.label_rows(r, iri))
        return
    for start in range(0, len(iris), 200):
        values = " ".join(f"<{i}>" for i in iris[start:start + 200])
        for row in store.query(_LABELS % values):
            label, notation = row["label"], row["notation"]
            yield row["x"].value, label.value if label else None, notation.value if notation else None


@lru_cache(maxsize=65_536)
def page_path(iri: str, base_iri: str) -> str | None:
    """Where this host serves the page of ``iri``: /id/… under the instance base, else /resource?iri=…."""
    if not is_web_iri(iri):
        return None
    if iri.startswith(base_iri) and len(iri) > len(base_iri):
        return "/id/" + quote(iri[len(base_iri):], safe="/:@!$&'()*+,;=-._~")
    return "/resource?iri=" + quote(iri, safe="")
