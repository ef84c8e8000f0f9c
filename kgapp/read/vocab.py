"""Small tables of a build read once per opened store: named graphs, indicator meanings, nerve numerals, broader types."""

from __future__ import annotations

from kgapp.namespaces import sparql_prologue
from kgapp.store.base import memoised

P = sparql_prologue()


def graph_set(store) -> frozenset[str]:
    """The build's named graphs, as a set (a page asks whether its IRI is one)."""
    return memoised(store, "graph_set", lambda: frozenset(store.named_graphs()))


def indicator_notes(store) -> dict[tuple[str, str], str]:
    """(indicator property, value) → what the value means in words (kg:indicatorProperty vocabularies)."""
    return memoised(store, "indicator_notes", lambda: {
        (r["p"].value, r["n"].value): r["def"].value for r in store.query(P + """SELECT DISTINCT ?p ?n ?def WHERE {
            ?v kg:indicatorProperty ?p ; skos:notation ?n ; skos:definition ?def }""")})


def numerals(store) -> dict[str, str]:
    """Nerve IRI → its cranial nerve numeral (VII…)."""
    return memoised(store, "nerve_numerals", lambda: {
        r["n"].value: r["num"].value for r in store.query(P + "SELECT ?n ?num WHERE { ?n kg:cranialNerveNumeral ?num }")})


def broader(store, concept: str) -> str | None:
    """The first broader concept of ``concept`` (by IRI), or None; read once per concept and store."""
    table: dict[str, str | None] = memoised(store, "broader", dict)
    if concept not in table:
        up = list(store.query(P + f"SELECT ?b WHERE {{ <{concept}> skos:broader ?b }} ORDER BY ?b LIMIT 1"))
        table[concept] = up[0]["b"].value if up else None
    return table[concept]


def code_notations(store) -> dict[str, list[str]]:
    """Procedure code IRI → its notations, for every code (a nerve page sorts thousands of codes by notation)."""
    def read() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for r in store.query(P + "SELECT ?c ?n WHERE { ?c a kg:ProcedureCode ; skos:notation ?n }"):
            found.setdefault(r["c"].value, []).append(r["n"].value)
        return found
    return memoised(store, "code_notations", read)
