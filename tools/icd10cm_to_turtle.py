"""ICD-10-CM diagnosis codes as kgapp triples, read from the maintained code-set package simple-icd-10-cm.

Nothing here is typed by hand: titles, the billable flag, the parent chain (skos:broader up to the
block and chapter), Excludes1/Excludes2 notes between codes that are in the graph, and 7th-character
definitions all come from the library. ``tools/reference_to_turtle.py`` calls ``icd10cm_turtle`` for the
codes listed in ../shared/reference/icd10cm.csv; run this file directly with ``--all OUT.ttl`` to write
the whole code set (used to measure what loading all of it would cost).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import simple_icd_10_cm as icd

BASE = "https://w3id.org/kgapp/id/icd10cm/"
SCHEME = "<https://w3id.org/kgapp/id/scheme/icd10cm>"
# a code inside an Excludes note, e.g. "Bell's palsy (G51.0)" or "(S04.-)"
_NOTE_CODE = re.compile(r"\(([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?)[.\-]*(?:-[A-Z0-9.\-]*)?\)")


def lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def iri(item: str) -> str:
    """Chapters are numbers in the library; they get a readable IRI."""
    return f"<{BASE}chapter-{item}>" if icd.is_chapter(item) else f"<{BASE}{item}>"


def with_ancestors(codes: list[str]) -> list[str]:
    out: list[str] = []
    for code in codes:
        if not icd.is_valid_item(code):
            raise ValueError(f"{code} is not in the ICD-10-CM code set of simple-icd-10-cm")
        for item in [code, *icd.get_ancestors(code)]:
            if item not in out:
                out.append(item)
    return out


def _seventh_characters(item: str) -> dict[str, str]:
    """The 7th-character definitions that apply to ``item`` (stated on it or on an ancestor)."""
    for x in [item, *icd.get_ancestors(item)]:
        defs = icd.get_seven_chr_def(x)
        if defs:
            return defs
    return {}


def _billing_note(item: str) -> str:
    """kgapp's explanation of what a non-billable (sub)category still needs, built from the library."""
    children = icd.get_children(item)
    sevenths = _seventh_characters(item)
    bits = [f"Not billable as it stands: a billable code goes further down ({', '.join(children)})"]
    if sevenths:
        example = next((d for d in icd.get_descendants(item) if icd.is_leaf(d) and len(icd.remove_dot(d)) == 7), None)
        bits.append("then a 7th character (" + ", ".join(f"{k} {v}" for k, v in sevenths.items()) + ")"
                    + (", with X as placeholder where the code is shorter" if example and "X" in example else "")
                    + (f"; for example {example}" if example else ""))
    return "; ".join(bits) + "."


def node(item: str, present: set[str], listed: frozenset[str] = frozenset()) -> str:
    lines = []
    if icd.is_chapter_or_block(item):
        lines.append(f"{iri(item)} a kg:DiagnosisCodeGroup ;\n    skos:notation {lit(item)} ;\n"
                     f"    skos:prefLabel {lit(icd.get_description(item))}@en ;\n    skos:inScheme {SCHEME}")
    else:
        billable = icd.is_leaf(item)
        lines.append(f"{iri(item)} a kg:DiagnosisCode ;\n    skos:notation {lit(item)} ;\n"
                     f"    skos:prefLabel {lit(icd.get_description(item))}@en ;\n    skos:inScheme {SCHEME} ;\n"
                     f"    kg:billable {'true' if billable else 'false'}")
        if not billable and item in listed:
            lines.append(f"    skos:scopeNote {lit(_billing_note(item))}@en")
    parent = icd.get_parent(item)
    if parent:
        lines.append(f"    skos:broader {iri(parent)}")
    for prop, notes in (("excludes1", icd.get_excludes1(item)), ("excludes2", icd.get_excludes2(item))):
        targets = sorted({m for n in notes for m in _NOTE_CODE.findall(n)} & present)
        if targets:
            lines.append(f"    kg:{prop} " + ", ".join(iri(t) for t in targets))
    for ch in icd.get_seven_chr_def(item):
        lines.append(f"    kg:seventhCharacter <{BASE}{item}/seventh-character/{ch}>")
    out = " ;\n".join(lines) + " .\n"
    for ch, meaning in icd.get_seven_chr_def(item).items():
        out += (f"<{BASE}{item}/seventh-character/{ch}> a kg:SeventhCharacter ;\n    skos:notation {lit(ch)} ;\n"
                f"    skos:prefLabel {lit(meaning)}@en .\n")
    return out


def icd10cm_turtle(codes: list[str]) -> str:
    """Triples for ``codes`` and every ancestor they need, in the library's order."""
    items = with_ancestors(codes)
    present = set(items)
    return "".join("\n" + node(item, present, frozenset(codes)) for item in items)


def whole_code_set() -> str:
    items = [c for c in icd.get_all_codes(with_dots=True)]
    present = set(items)
    return "".join(node(item, present) for item in items)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--all":
        head = ("@prefix kg: <https://w3id.org/kgapp/ontology#> .\n@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n")
        Path(sys.argv[2]).write_text(head + whole_code_set(), encoding="utf-8")
        print(f"wrote {sys.argv[2]}")
    else:
        print(__doc__)
