"""Check a CSV file of claim lines (header ``code,modifiers,pos,payer,dx``), one result per line, in order."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from kgapp.check.claim import ClaimError, parse_claim
from kgapp.check.engine import CheckResult, check_claim
from kgapp.store.base import Store

COLUMNS = ("code", "modifiers", "pos", "payer", "dx")


class BatchError(ClaimError):
    """The file itself cannot be read as a claim file (no header, unknown columns)."""


def check_file(store: Store, handle: IO[str], cache: bool = True) -> Iterator[tuple[int, CheckResult | None, str, str]]:
    """(line number, result or None, error message, code as given) for each data line; a bad line does
    not stop the others. Line numbers count the header as line 1, as a spreadsheet shows them."""
    reader = csv.DictReader(handle)
    if not reader.fieldnames:
        raise BatchError("the claim file is empty; it needs the header " + ",".join(COLUMNS))
    names = [n.strip().lower() for n in reader.fieldnames]
    unknown = [n for n in names if n not in COLUMNS]
    if "code" not in names or unknown:
        raise BatchError(f"the header must name the columns {','.join(COLUMNS)} (code is required)"
                         + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    reader.fieldnames = names
    for row in reader:
        line = reader.line_num
        if None in row:
            yield line, None, "more fields than the header names", (row.get("code") or "").strip()
            continue
        try:
            claim = parse_claim(row.get("code"), row.get("modifiers"), row.get("pos"), row.get("payer"),
                                row.get("dx"))
        except ClaimError as e:
            yield line, None, e.message, (row.get("code") or "").strip()
            continue
        yield line, check_claim(store, claim, cache), "", claim.code
