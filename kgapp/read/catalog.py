"""What the graph holds, for the home page and class indexes: classes with counts, their instances, the SHACL report."""

from __future__ import annotations

from dataclasses import dataclass

from kgapp.namespaces import KG, ONTOLOGY_GRAPH, PREFIXES, VALIDATION_GRAPH, curie, sparql_prologue
from kgapp.read.annotate import result_anchor
from kgapp.read.labels import labels, valid_iri
from kgapp.store.base import Store, memoised
from kgapp.store.stats import stats

P = sparql_prologue()

_TERMS = P + f"""SELECT ?iri (SAMPLE(?type) AS ?kind) (SAMPLE(?l) AS ?label) WHERE {{
  GRAPH <{ONTOLOGY_GRAPH}> {{
    ?iri a ?type . FILTER(isIRI(?iri) && ?type IN (owl:Class, rdf:Property, owl:ObjectProperty, owl:DatatypeProperty))
    OPTIONAL {{ ?iri rdfs:label ?l FILTER(LANG(?l) = "" || LANGMATCHES(LANG(?l), "en")) }}
  }}
}} GROUP BY ?iri ORDER BY ?iri"""


@dataclass
class ClassCount:
    iri: str
    name: str  # the URL name: a kg: local name, else a CURIE
    label: str
    count: int


def class_name(iri: str) -> str | None:
    """``ProcedureCode`` for kg: classes, ``skos:Concept`` for others; None when no prefix fits."""
    if iri.startswith(str(KG)):
        return iri[len(str(KG)):]
    short = curie(iri)
    return short if short != iri else None


def class_iri(name: str) -> str | None:
    """The inverse of class_name; None for a name that cannot be a class of ours."""
    prefix, sep, local = name.partition(":")
    iri = PREFIXES[prefix] + local if sep and prefix in PREFIXES else str(KG) + name if not sep else None
    return iri if iri and valid_iri(iri) else None


def class_counts(store) -> list[ClassCount]:
    """Every class with named instances: codes first, then kgapp's own classes, then by size."""
    rows = list(stats(store)["classes"].items())
    names = labels(store, [c for c, _ in rows])
    out = [ClassCount(c, class_name(c), names[c], n) for c, n in rows if class_name(c)]
    # Codes are the hub of the graph, so their index leads.
    return sorted(out, key=lambda c: (not c.iri.startswith(str(KG)), c.iri != str(KG.ProcedureCode),
                                      -c.count, c.label.lower()))


def instances(store, cls: str, offset: int, limit: int) -> tuple[int, list[tuple[str, str]]]:
    """How many named instances ``cls`` has, and one page of them as (IRI, label) sorted by label."""
    total = stats(store)["classes"].get(cls, 0)
    # Sorting by label in SPARQL keeps a page stable without fetching every instance.
    rows = store.query(P + f"""SELECT ?s (SAMPLE(?l) AS ?label) WHERE {{ ?s a <{cls}> FILTER(isIRI(?s))
        OPTIONAL {{ ?s skos:notation|skos:prefLabel|rdfs:label|dcterms:title ?l }} }}
        GROUP BY ?s ORDER BY LCASE(STR(?label)) ?s OFFSET {offset} LIMIT {limit}""")
    iris = [r["s"].value for r in rows]
    names = labels(store, iris)
    return total, [(i, names[i]) for i in iris]


def total_triples(store) -> int:
    return stats(store)["triples"]


@dataclass
class ValidationResult:
    severity: str
    focus: str | None
    focus_label: str
    message: str
    value: str | None
    shape: str | None

    @property
    def anchor(self) -> str:
        return result_anchor(self.focus, self.value, self.message)


def validation_report(store) -> tuple[bool | None, list[ValidationResult]]:
    """Whether the served data conforms, and each result (warnings included), from graph/validation."""
    g = str(VALIDATION_GRAPH)
    conforms = None
    for r in store.query(P + f"SELECT ?c WHERE {{ GRAPH <{g}> {{ ?r a sh:ValidationReport ; sh:conforms ?c }} }}"):
        conforms = r["c"].value == "true"
    rows = list(store.query(P + f"""SELECT ?sev ?focus ?msg ?value ?shape WHERE {{ GRAPH <{g}> {{
        ?r a sh:ValidationResult ; sh:resultSeverity ?sev .
        OPTIONAL {{ ?r sh:focusNode ?focus }} OPTIONAL {{ ?r sh:resultMessage ?msg }}
        OPTIONAL {{ ?r sh:value ?value }} OPTIONAL {{ ?r sh:sourceShape ?shape }} }} }} ORDER BY ?sev ?focus"""))
    names = labels(store, [r["focus"].value for r in rows if r["focus"]])

    def val(r, k):
        return r[k].value if r[k] is not None else None

    results = [ValidationResult(curie(val(r, "sev")).removeprefix("sh:"), val(r, "focus"),
                                names.get(val(r, "focus") or "", val(r, "focus") or ""), val(r, "msg") or "",
                                val(r, "value"), val(r, "shape")) for r in rows]
    return conforms, results


def ontology_terms(store: Store) -> list[dict[str, str]]:
    """Every class and property of the ontology as {iri, kind: class|property, label}, read once per store."""
    def read() -> list[dict[str, str]]:
        owl_class = "http://www.w3.org/2002/07/owl#Class"
        return [{"iri": r["iri"].value, "kind": "class" if r["kind"].value == owl_class else "property",
                 "label": r["label"].value if r["label"] is not None else ""} for r in store.query(_TERMS)]
    return memoised(store, "ontology_terms", read)
