"""What a page adds to a statement: the SHACL conflicts that name it, and whether it is kgapp's reading of a report."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kgapp.namespaces import KG, VALIDATION_GRAPH, sparql_prologue
from kgapp.read import direct
from kgapp.store.base import memoised

P = sparql_prologue()
HAS_INTERPRETATION = str(KG.hasInterpretation)


@dataclass
class Conflict:
    """A SHACL warning: a report's statement disagrees with a code set (the message names both sides)."""

    message: str
    focus: str | None
    path: str | None
    value: str | None
    severity: str = "Warning"

    @property
    def anchor(self) -> str:
        return result_anchor(self.focus, self.value, self.message)


def result_anchor(focus: str | None, value: str | None, message: str) -> str:
    """A stable fragment id for one validation result, the same on the validation page and on code pages."""
    key = "\n".join((focus or "", value or "", message)).encode("utf-8")
    return "result-" + hashlib.sha256(key).hexdigest()[:12]


@dataclass
class Reading:
    """kgapp's own mapping of a report's words to a value (a kg:Interpretation), not what the report states."""

    iri: str
    wording: str
    confidence: str
    note: str = ""
    basis: str = ""


def conflicts_about(store, iri: str) -> list[Conflict]:
    """The validation results whose focus node or value is ``iri`` (warnings and violations alike)."""
    r = direct.reader(store)
    if r is not None:
        return [Conflict(msg or "", focus, path, value, (sev or "").rsplit("#", 1)[-1])
                for focus, path, value, msg, sev in direct.conflicts(r, iri)]
    # Through VALUES, Oxigraph starts from the IRI (0.3 ms at 1M triples), not from every result (4-6 ms).
    rows = store.query(P + f"""SELECT DISTINCT ?focus ?path ?value ?msg ?sev WHERE {{ GRAPH <{VALIDATION_GRAPH}> {{
        VALUES ?x {{ <{iri}> }} {{ ?r sh:focusNode ?x BIND(?x AS ?focus) }} UNION {{ ?r sh:value ?x ; sh:focusNode ?focus }}
        ?r a sh:ValidationResult ; sh:resultSeverity ?sev .
        OPTIONAL {{ ?r sh:resultPath ?path FILTER(isIRI(?path)) }} OPTIONAL {{ ?r sh:value ?value }}
        OPTIONAL {{ ?r sh:resultMessage ?msg }} }} }} ORDER BY ?msg""")

    def val(r, k):
        return r[k].value if r[k] is not None else None

    return [Conflict(val(r, "msg") or "", val(r, "focus"), val(r, "path"), val(r, "value"),
                     val(r, "sev").rsplit("#", 1)[-1]) for r in rows]


def readings_of(store, iri: str) -> dict[tuple[str, str], Reading]:
    """kgapp's interpretations of ``iri``'s statements, keyed by (property, value)."""
    found: dict[tuple[str, str], Reading] = {}
    for r in store.query(P + f"""SELECT ?i ?p ?v ?w ?c ?note ?basis WHERE {{ <{iri}> kg:hasInterpretation ?i .
            ?i kg:interpretedProperty ?p ; kg:interpretedValue ?v .
            OPTIONAL {{ ?i kg:reportWording ?w }} OPTIONAL {{ ?i kg:confidence ?c }} OPTIONAL {{ ?i skos:note ?note }}
            OPTIONAL {{ ?i kg:mappingBasis/skos:prefLabel ?basis }} }} ORDER BY ?i"""):
        key = (r["p"].value, r["v"].value)
        found.setdefault(key, Reading(r["i"].value, r["w"].value if r["w"] else "", r["c"].value if r["c"] else "",
                                      r["note"].value if r["note"] else "", r["basis"].value if r["basis"] else ""))
    return found


def reading_graphs(store) -> set[str]:
    """The named graphs that hold kgapp's readings of reports (they are where its interpretations live)."""
    return memoised(store, "reading_graphs", lambda: {
        r["g"].value for r in store.query(P + "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?i a kg:Interpretation } }")})


def annotate(store, iri: str, statements) -> list[Conflict]:
    """Mark each statement of ``iri`` with its conflicts and its reading; return the conflicts no row shows."""
    conflicts = conflicts_about(store, iri)
    interpreted = any(s.predicate.value == HAS_INTERPRETATION for s in statements)
    readings = readings_of(store, iri) if interpreted else {}
    readers = reading_graphs(store)
    placed: set[int] = set()
    for s in statements:
        s.reading = readings.get((s.predicate.value, s.other.value))
        s.from_reading = bool(s.graphs) and all(g in readers for g in s.graphs)
        for n, c in enumerate(conflicts):
            if c.focus == iri and c.value == s.other.value and c.path in (None, s.predicate.value):
                s.conflicts.append(c)
                placed.add(n)
    return [c for n, c in enumerate(conflicts) if n not in placed]


__all__ = ["Conflict", "Reading", "annotate", "conflicts_about", "readings_of", "reading_graphs", "result_anchor"]
