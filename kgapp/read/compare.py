"""Codes side by side: one row per summary fact, one column per code, rows that differ marked; presets by procedure type."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from urllib.parse import urlencode

from kgapp.namespaces import sparql_prologue
from kgapp.read.summary import LAYOUT, Summary, Value, code_iri, code_summary
from kgapp.store.base import memoised

P = sparql_prologue()
MAX_CODES = 6


@dataclass
class Row:
    key: str
    label: str
    cells: list[list[Value]]  # one list of values per code, in column order
    differs: bool


@dataclass
class Comparison:
    summaries: list[Summary]
    rows: list[Row]
    unknown: list[str]  # notations asked for that the graph does not hold


@dataclass
class Preset:
    label: str
    notations: list[str]

    @property
    def url(self) -> str:
        return compare_url(self.notations)


def compare_url(notations: list[str]) -> str:
    return "/compare?" + urlencode([("code", n) for n in notations])


def _cell_key(values: list[Value]) -> tuple:
    return tuple(sorted((v.text, v.note) for v in values))


def compare(store, notations: list[str]) -> Comparison:
    """The summaries of the codes named (duplicates dropped, at most MAX_CODES) lined up fact by fact."""
    wanted = list(dict.fromkeys(n.strip() for n in notations if n.strip()))[:MAX_CODES]
    summaries, unknown = [], []
    for n in wanted:
        iri = code_iri(store, n)
        if iri is None:
            unknown.append(n)
        else:
            summaries.append(code_summary(store, iri))
    rows = []
    for key, label, _ in LAYOUT:
        cells = [s.fact(key).values for s in summaries]
        rows.append(Row(key, label, cells, len({_cell_key(c) for c in cells}) > 1))
    return Comparison(summaries, rows, unknown)


def presets(store) -> list[Preset]:
    """One preset per procedure type just under a top type that 2 to MAX_CODES codes fall under (read once per store)."""
    return memoised(store, "compare_presets", lambda: _presets(store))


def _presets(store) -> list[Preset]:
    groups: dict[str, tuple[str, list[str]]] = {}
    for r in store.query(P + """SELECT ?t ?label ?n WHERE {
            ?t skos:broader ?top . FILTER NOT EXISTS { ?top skos:broader ?up }
            ?c a kg:ProcedureCode ; kg:hasProcedureType ?t ; skos:notation ?n .
            OPTIONAL { ?t skos:prefLabel ?label } } ORDER BY ?t ?n"""):
        label = r["label"].value if r["label"] is not None else r["t"].value.rsplit("/", 1)[-1]
        groups.setdefault(r["t"].value, (label, []))[1].append(r["n"].value)
    found = [Preset(label, list(dict.fromkeys(codes))) for label, codes in groups.values()
             if 1 < len(set(codes)) <= MAX_CODES]
    return sorted(found, key=lambda p: (-len(p.notations), p.label))


def preset_for(store, notation: str) -> Preset | None:
    """The preset a code belongs to (the code page links to it)."""
    return next((p for p in presets(store) if notation in p.notations), None)


def as_json(c: Comparison, page_url) -> dict:
    """The comparison as plain data: codes, then facts with each code's values and their source graphs."""
    return {"codes": [{"code": s.notation, "iri": s.iri, "label": s.label, "url": page_url(s.iri)} for s in c.summaries],
            "unknown": c.unknown,
            "facts": [{"key": r.key, "label": r.label, "differs": r.differs,
                       "values": {s.notation: [{"text": v.text, "note": v.note, "iri": v.iri, "predicate": v.predicate,
                                                "value": v.value, "sources": v.graphs,
                                                "kgapp_reading": bool(v.reading or v.from_reading),
                                                "conflicts": [x.message for x in v.conflicts]} for v in cell]
                                  for s, cell in zip(c.summaries, r.cells, strict=True)}} for r in c.rows]}


def as_csv(c: Comparison) -> str:
    """One row per fact, one column per code; several values in a cell are separated by " | "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["fact", "differs"] + [s.notation for s in c.summaries])
    for r in c.rows:
        cells = [" | ".join(v.text + (f" ({v.note})" if v.note else "") for v in cell) for cell in r.cells]
        writer.writerow([r.label, "yes" if r.differs else "no"] + cells)
    return out.getvalue()


__all__ = ["Comparison", "MAX_CODES", "Preset", "Row", "as_csv", "as_json", "compare", "compare_url", "preset_for",
           "presets"]
