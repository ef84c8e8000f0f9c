"""Check results as text, JSON lines or CSV rows (the CLI's formats); the web page renders the same dicts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import IO, Any

from kgapp.check.batch import check_file
from kgapp.check.engine import CheckResult
from kgapp.store.base import Store

CSV_FIELDS = ("line", "code", "rule", "severity", "message", "facts", "sources", "error")


def as_text(result: CheckResult, line: int | None = None) -> str:
    c = result.claim
    head = f"line {line}: " if line is not None else ""
    parts = [f"{head}{c.code}"] + [f"-{m}" for m in c.modifiers]
    parts += [f"pos {c.pos}"] if c.pos else []
    parts += [f"payer {c.payer}"] if c.payer else []
    parts += [f"dx {' '.join(c.dx)}"] if c.dx else []
    s = result.summary
    out = [" ".join(parts) + f" — {s['errors']} error(s), {s['warnings']} warning(s), {s['info']} note(s)"]
    for f in result.findings:
        out.append(f"  {f.severity.upper():7} {f.rule}: {f.message}")
        for source in f.sources:
            out.append(f"          source: {source}")
    return "\n".join(out)


def as_json(result: CheckResult, line: int | None = None) -> str:
    doc: dict[str, Any] = ({"line": line} if line is not None else {}) | result.as_dict()
    return json.dumps(doc, ensure_ascii=False)


def csv_rows(result: CheckResult | None, line: int | None = None, error: str = "",
             code: str = "") -> list[dict[str, Any]]:
    """One row per finding (or one row for a line without findings, or with an error)."""
    if result is None:
        return [{"line": line, "code": code, "error": error}]
    rows = [{"line": line, "code": result.claim.code, "rule": f.rule, "severity": f.severity, "message": f.message,
             "facts": " ".join(f.facts), "sources": " ".join(f.sources), "error": ""} for f in result.findings]
    return rows or [{"line": line, "code": result.claim.code}]


def csv_text(rows: list[dict[str, Any]], header: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def render(result: CheckResult, fmt: str) -> str:
    """One line's result as ``fmt`` (text, json or csv with its header)."""
    if fmt == "csv":
        return csv_text(csv_rows(result)).rstrip("\n")
    return as_json(result) if fmt == "json" else as_text(result)


def write_batch(store: Store, handle: IO[str], fmt: str, echo: Callable[[str], None], cache: bool = True) -> int:
    """Check every line of a claim file, writing each result as it comes; the exit status: 2 if any line
    could not be read, else 1 if any finding is an error, else 0."""
    errors = bad = 0
    if fmt == "csv":
        echo(csv_text([]).rstrip("\n"))
    for line, result, error, given in check_file(store, handle, cache):
        bad += bool(error)
        errors += bool(result and result.has_errors)
        if fmt == "csv":
            echo(csv_text(csv_rows(result, line, error, given), header=False).rstrip("\n"))
        elif fmt == "json":
            echo(as_json(result, line) if result else json.dumps({"line": line, "error": error}))
        else:
            echo(as_text(result, line) if result else f"line {line}: {given or '(no code)'} — not checked: {error}")
    return 2 if bad else 1 if errors else 0
