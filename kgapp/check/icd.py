"""ICD-10-CM facts for a claim's diagnoses, from the code set the simple-icd-10-cm package ships (offline)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from types import ModuleType
from typing import cast

CODE_SET = f"ICD-10-CM (FY2026 code set, simple-icd-10-cm {version('simple-icd-10-cm')})"
_IN_PARENS = re.compile(r"\(([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)-?\)")


@cache
def _icd() -> ModuleType:
    """The code set, loaded on first use: importing it takes seconds and ~165 MB, which a process that
    never checks a claim (a query worker, a server nobody asks to check) should not pay."""
    with warnings.catch_warnings():  # the package imports pkg_resources, which warns on import
        warnings.simplefilter("ignore")
        import simple_icd_10_cm

    return cast(ModuleType, simple_icd_10_cm)


@dataclass(frozen=True)
class Diagnosis:
    code: str
    valid: bool
    billable: bool
    title: str
    example: str  # a billable code under a non-billable one (e.g. S04.51XA under S04.51), else ""
    ancestors: tuple[str, ...]  # parent chain of codes (not chapters or blocks), nearest first


def diagnosis(code: str) -> Diagnosis:
    """What the code set says of ``code`` (already normalised, e.g. ``S04.51XA``)."""
    icd = _icd()
    if not icd.is_valid_item(code) or not icd.is_category_or_subcategory(code):
        return Diagnosis(code, False, False, "", "", ())
    billable = icd.is_leaf(code)
    example = "" if billable else next((d for d in icd.get_descendants(code) if icd.is_leaf(d)), "")
    ancestors = tuple(a for a in icd.get_ancestors(code) if icd.is_category_or_subcategory(a))
    return Diagnosis(code, True, billable, icd.get_description(code), example, ancestors)


def excludes1_pairs(codes: list[Diagnosis]) -> list[tuple[str, str, str, str]]:
    """(code, excluded code on the line, the code whose note says so, the note) for every Excludes1 clash.

    A note on a category holds for every code below it, and a note naming a category excludes the
    codes below that category, so both sides are compared through their parent chains.
    """
    icd, out = _icd(), []
    for a in codes:
        if not a.valid:
            continue
        for holder in (a.code, *a.ancestors):
            for note in icd.get_excludes1(holder):
                for named in _IN_PARENS.findall(note):
                    for b in codes:
                        if b.valid and b.code != a.code and named in (b.code, *b.ancestors):
                            out.append((a.code, b.code, holder, note))
    seen: set[frozenset[str]] = set()  # a pair whose notes exclude each other is reported once
    kept = []
    for pair in dict.fromkeys(out):
        if frozenset(pair[:2]) not in seen:
            seen.add(frozenset(pair[:2]))
            kept.append(pair)
    return kept
