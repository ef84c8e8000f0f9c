"""A code's billing facts at a glance (global period, bilateral rule, modifiers, payers…), each with its sources."""

from __future__ import annotations

from dataclasses import dataclass, field

from kgapp.namespaces import INFERRED_GRAPH, KG, RDFS, SKOS, VALIDATION_GRAPH, sparql_prologue
from kgapp.read import direct
from kgapp.read.annotate import Conflict, Reading
from kgapp.read.describe import Description, Statement, describe
from kgapp.read.labels import valid_iri
from kgapp.read.vocab import numerals

P = sparql_prologue()
_SCHEMES = {"https://w3id.org/kgapp/id/scheme/cpt": "CPT", "https://w3id.org/kgapp/id/scheme/hcpcs": "HCPCS"}


@dataclass
class Value:
    """One fact's value: what shows, the RDF statement it shows (predicate and value), its note and sources."""

    text: str
    predicate: str
    value: str  # the object's IRI or lexical form, so a test can hold the summary against the graph
    iri: str | None = None  # a link target
    note: str = ""
    graphs: list[str] = field(default_factory=list)
    reading: Reading | None = None
    from_reading: bool = False
    conflicts: list[Conflict] = field(default_factory=list)
    anchor: str = ""  # a conflict's row on the validation page


@dataclass
class Fact:
    key: str
    label: str
    values: list[Value]


@dataclass
class Summary:
    iri: str
    notation: str
    scheme: str  # "CPT" or "HCPCS"
    label: str
    facts: list[Fact]

    @property
    def title(self) -> str:
        return f"{self.scheme} {self.notation}".strip()

    def fact(self, key: str) -> Fact:
        return next(f for f in self.facts if f.key == key)

    def graphs(self) -> set[str]:
        return {g for f in self.facts for v in f.values for g in v.graphs}


# key, row label, what it reads: (predicate, how) pairs; "indicator" shows the value and its meaning in words.
LAYOUT: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("what", "What it is", ((str(SKOS.definition), "text"), (str(KG.laterality), "text"))),
    ("sites", "Only at these sites", ((str(KG.coversSite), "iri"),)),
    ("type", "Procedure type", ((str(KG.hasProcedureType), "iri"),)),
    ("nerves", "Nerves", ((str(KG.targetNerve), "nerve"), (str(KG.donorNerve), "nerve"))),
    ("global", "Global period", ((str(KG.globalPeriodDays), "days"),)),
    ("bilateral", "Bilateral rule", ((str(KG.bilateralSurgeryIndicator), "indicator"),)),
    ("assistant", "Assistant at surgery", ((str(KG.assistantSurgeryIndicator), "indicator"),)),
    ("co-surgeon", "Co-surgeons", ((str(KG.coSurgeonIndicator), "indicator"),)),
    ("team", "Team surgery", ((str(KG.teamSurgeryIndicator), "indicator"),)),
    ("modifiers", "Modifiers with guidance", ((str(KG.hasModifierGuidance), "guidance"),)),
    ("places", "Places of service", ((str(KG.siteOfServiceNote), "text"), (str(KG.placeOfService), "iri"))),
    ("payers", "Payers", ((str(KG.hasPayerPolicy), "policy"), (str(KG.priorAuthorizationNote), "text"))),
    ("diagnoses", "Supporting diagnoses", ((str(KG.supportingDiagnosis), "iri"),)),
    ("other-diagnoses", "Other diagnoses", ((str(KG.contextDiagnosis), "iri"), (str(KG.complicationDiagnosis), "iri"))),
    ("related", "Related codes", ((str(KG.alternativeCodeForOtherSite), "iri"), (str(KG.relatedRepairCode), "iri"),
                                  (str(KG.separatelyBilledDrug), "iri"), (str(KG.addOnGuidanceCode), "iri"))),
    ("conflicts", "Conflicts between sources", ()),
    ("gaps", "Information gaps", ((str(KG.hasInformationGap), "gap"),)),
)
KEYS = tuple(key for key, _, _ in LAYOUT)
LABELS = dict((key, label) for key, label, _ in LAYOUT)
# Why a related code is named beside this one, in a coder's words.
_RELATION = {str(KG.alternativeCodeForOtherSite): "for another site", str(KG.relatedRepairCode): "related repair",
             str(KG.separatelyBilledDrug): "drug billed separately", str(KG.addOnGuidanceCode): "add-on guidance",
             str(KG.contextDiagnosis): "context", str(KG.complicationDiagnosis): "complication",
             str(KG.laterality): "side"}
# Predicates compared below, as strings once (an rdflib namespace lookup costs microseconds, per value).
_P = {name: str(ns[name]) for ns, names in (
    (KG, ("gapNote", "hasInformationGap", "missingTopic", "modifier", "payer", "policyNote",
          "priorAuthorizationNote", "targetNerve", "usageNote")),
    (SKOS, ("inScheme", "notation", "prefLabel")), (RDFS, ("label",))) for name in names}


def _detail(s: Statement, predicate: str) -> Statement | None:
    return next((d for d in s.details if d.predicate.value == predicate), None)


def _value(s: Statement, how: str, nerves: dict[str, str]) -> Value:
    text, iri, note = s.other.label, s.other.value if s.other.kind == "iri" else None, s.note
    if how == "days":
        text = f"{s.other.value} days"
    elif how == "indicator":
        text = f"indicator {s.other.value}"
    elif how == "nerve":
        role = "target" if s.predicate.value == _P["targetNerve"] else "donor"
        text = f"{s.other.label} ({nerves[iri]})" if iri in nerves else s.other.label
        note = role
    elif how == "guidance":
        mod, usage = _detail(s, _P["modifier"]), _detail(s, _P["usageNote"])
        text, iri = (mod.other.label, mod.other.value) if mod else (text, iri)
        note = usage.other.value if usage else ""
    elif how == "policy":
        payer, policy = _detail(s, _P["payer"]), _detail(s, _P["policyNote"])
        text, iri = (payer.other.label, payer.other.value) if payer else (text, iri)
        note = policy.other.value if policy else ""
    elif how == "gap":
        topic, gap_note = _detail(s, _P["missingTopic"]), _detail(s, _P["gapNote"])
        text = topic.other.label if topic else text
        note = gap_note.other.value if gap_note else ""
    elif how == "text" and s.predicate.value == _P["priorAuthorizationNote"]:
        note, text = s.other.value, "prior authorisation"
    if s.predicate.value in _RELATION:
        note = _RELATION[s.predicate.value]
    return Value(text, s.predicate.value, s.other.value, iri, note, list(s.graphs), s.reading, s.from_reading,
                 list(s.conflicts))


def _qualified_graphs(store, iris: list[str]) -> dict[str, list[str]]:
    """Where a qualified node (a gap, say) is stated: the statement linking it may be only inferred."""
    wanted = [i for i in iris if valid_iri(i)]
    if not wanted:
        return {}
    r = direct.reader(store)
    if r is not None:
        return direct.stated_graphs(r, wanted)
    found: dict[str, list[str]] = {}
    for r in store.query(P + f"""SELECT DISTINCT ?x ?g WHERE {{ VALUES ?x {{ {' '.join(f'<{i}>' for i in wanted)} }}
            GRAPH ?g {{ ?x a ?t }} FILTER(?g != <{INFERRED_GRAPH}>) }} ORDER BY ?g"""):
        found.setdefault(r["x"].value, []).append(r["g"].value)
    return found


def summarise(store, d: Description, notation: str = "") -> Summary:
    """The summary of a code from its description (so both show the same statements) and a query for nerves."""
    rows = [s for _, group in d.sections for s in group]
    by_predicate: dict[str, list[Statement]] = {}
    for s in rows:
        by_predicate.setdefault(s.predicate.value, []).append(s)
    nerves = {n: f"CN {num}" for n, num in numerals(store).items()}
    gaps = [s.other.value for s in by_predicate.get(_P["hasInformationGap"], [])]
    stated = _qualified_graphs(store, gaps)
    facts = []
    for key, label, reads in LAYOUT:
        values: list[Value] = []
        for predicate, how in reads:
            for s in by_predicate.get(predicate, []):
                if s.inferred and how not in ("gap",):
                    continue  # the summary shows what sources state; broader types are in the table below
                v = _value(s, how, nerves)
                if how == "gap":
                    v.graphs = stated.get(s.other.value, v.graphs)
                values.append(v)
        if key == "conflicts":
            values = [Value(c.message, str(VALIDATION_GRAPH), c.message, None, "", [str(VALIDATION_GRAPH)],
                            anchor=c.anchor) for c in _all_conflicts(rows, d)]
        facts.append(Fact(key, label, values))
    scheme = next((_SCHEMES.get(s.other.value, "") for s in by_predicate.get(_P["inScheme"], [])), "")
    notation = notation or next((s.other.value for s in by_predicate.get(_P["notation"], [])), "")
    label = next((s.other.value for s in by_predicate.get(_P["prefLabel"], [])), "") or \
        next((s.other.value for s in by_predicate.get(_P["label"], [])), d.label)
    return Summary(d.iri, notation, scheme, label, facts)


def _all_conflicts(rows: list[Statement], d: Description) -> list[Conflict]:
    seen: dict[str, Conflict] = {}
    for c in [c for s in rows for c in s.conflicts] + d.conflicts:
        if c.focus == d.iri:
            seen.setdefault(c.message, c)
    return sorted(seen.values(), key=lambda c: c.message)


def code_summary(store, iri: str) -> Summary:
    """The summary of the code ``iri`` (describe + summarise)."""
    return summarise(store, describe(store, iri))


def code_title(store, iri: str, d: Description | None = None) -> str | None:
    """``CPT 64605`` for any code of the CPT or HCPCS scheme (related codes too), else None; from the
    statements of ``d`` when given (the description of ``iri``)."""
    if d is not None:
        rows = [s for _, group in d.sections for s in group]
        schemes = [s.other.value for s in rows if s.predicate.value == _P["inScheme"]]
        return next((f"{_SCHEMES[s]} {n.other.value}" for n in rows if n.predicate.value == _P["notation"]
                     for s in schemes if s in _SCHEMES), None)
    for r in store.query(P + f"SELECT ?n ?s WHERE {{ <{iri}> skos:notation ?n ; skos:inScheme ?s }}"):
        if r["s"].value in _SCHEMES:
            return f"{_SCHEMES[r['s'].value]} {r['n'].value}"
    return None


def code_iri(store, notation: str) -> str | None:
    """The IRI of the procedure code with this notation, if the graph has one."""
    if not notation or len(notation) > 10 or not notation.isalnum():
        return None
    rows = list(store.query(P + f'SELECT ?c WHERE {{ ?c a kg:ProcedureCode ; skos:notation "{notation}" }} LIMIT 1'))
    return rows[0]["c"].value if rows else None


__all__ = ["Fact", "KEYS", "LABELS", "LAYOUT", "Summary", "Value", "code_iri", "code_summary", "code_title", "summarise"]
