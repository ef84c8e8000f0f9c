"""Run every rule on one claim line: the claim becomes VALUES blocks, each result row a finding with its facts."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, cast

import pyoxigraph as ox

from kgapp.check.claim import Claim
from kgapp.check.icd import CODE_SET, Diagnosis, diagnosis, excludes1_pairs
from kgapp.check.rules import SEVERITIES, Rule, load_rules
from kgapp.namespaces import DEFAULT_BASE_IRI, GRAPH, SKOS, sparql_prologue
from kgapp.store.base import Store, memoised
from kgapp.store.search_index import candidates

ICD_SOURCE = str(GRAPH["ref-icd10cm"])  # the graph kgapp generates from the same code set
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
ABSENT = "urn:kgapp:absent"
CACHE_SIZE = 50_000  # rule answers kept per store (each a few findings)


@dataclass
class Finding:
    rule: str
    severity: str
    message: str
    facts: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message,
                "facts": self.facts, "sources": self.sources}


@dataclass
class CheckResult:
    claim: Claim
    findings: list[Finding]

    @property
    def summary(self) -> dict[str, int]:
        counts = {"errors": 0, "warnings": 0, "info": 0}
        for f in self.findings:
            counts[{"error": "errors", "warning": "warnings", "info": "info"}[f.severity]] += 1
        return counts

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"claim": self.claim.as_dict(), "findings": [f.as_dict() for f in self.findings],
                "summary": self.summary}


def code_iri(code: str, base: str = DEFAULT_BASE_IRI) -> str:
    return f"{base}code/{'cpt' if code[0].isdigit() else 'hcpcs'}/{code}"


def _lit(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(ox.Literal(str(value)))  # Oxigraph escapes quotes, backslashes and newlines


def _values(variables: list[str], rows: list[list[str]]) -> str:
    head = " ".join(f"?{v}" for v in variables)
    body = " ".join("(" + " ".join(row) + ")" for row in rows)
    return f"VALUES ({head}) {{ {body} }}"


def close_codes(store: Store, code: str, base: str, limit: int = 8) -> list[str]:
    """Codes in the graph whose notation starts like ``code`` (its first three characters), for a
    suggestion when the code is unknown: from the build's search index, else one bounded query."""
    stem = code[:3]
    if store.search_index is not None:
        rows = candidates(store.search_index, [stem.lower()])
        found = sorted({t for s, p, t in rows if p == str(SKOS.notation) and t.upper().startswith(stem)
                        and s.startswith(f"{base}code/")})
        return found[:limit]
    query = (f'SELECT DISTINCT ?n WHERE {{ ?c skos:notation ?n '
             f'FILTER(STRSTARTS(?n, "{stem}") && STRSTARTS(STR(?c), "{base}code/")) }} ORDER BY ?n LIMIT {limit}')
    return [r["n"].value for r in cast(ox.QuerySolutions, store.query(sparql_prologue() + query))]


def bindings(claim: Claim, dx: list[Diagnosis], base: str = DEFAULT_BASE_IRI, known: bool = True,
             nearby: list[str] | None = None) -> dict[str, str]:
    """The VALUES blocks a rule may place with {{CLAIM}}, {{MODIFIERS}}, {{DX}}, {{DX_ANCESTORS}}, {{EXCLUDES1}}."""
    # An absent field is a name nothing in the graph has (never UNDEF: an unbound variable would match
    # anything in the rule's patterns); rules that need the field say so and are skipped without it.
    pos = f"<{base}place-of-service/{claim.pos}>" if claim.pos else f"<{ABSENT}>"
    payer = f"<{base}payer/{claim.payer}>" if claim.payer else f"<{ABSENT}>"
    modifier_set = " " + " ".join(claim.modifiers) + " "  # " 50 LT " : CONTAINS(?modifierSet, " LT ")
    icd_iri = f"{base}icd10cm/"
    return {
        "CLAIM": _values(["code", "notation", "known", "nearby", "pos", "posNotation", "payer", "modifierSet",
                          "dxCount", "dxList"], [[
            f"<{code_iri(claim.code, base)}>", _lit(claim.code), _lit(known), _lit(", ".join(nearby or [])), pos,
            _lit(claim.pos or ""), payer, _lit(modifier_set), str(len(claim.dx)), _lit(", ".join(claim.dx))]]),
        "MODIFIERS": _values(["modifier", "modifierNotation"],
                             [[f"<{base}modifier/{m}>", _lit(m)] for m in claim.modifiers]),
        "DX": _values(["dx", "dxNotation", "dxValid", "dxBillable", "dxTitle", "dxExample"],
                      [[f"<{icd_iri}{d.code}>", _lit(d.code), _lit(d.valid), _lit(d.billable), _lit(d.title),
                        _lit(d.example)] for d in dx]),
        "DX_ANCESTORS": _values(["dx", "dxAncestor"], [[f"<{icd_iri}{d.code}>", f"<{icd_iri}{a}>"]
                                                       for d in dx if d.valid for a in (d.code, *d.ancestors)]),
        "EXCLUDES1": _values(["dxA", "dxANotation", "dxB", "dxBNotation", "holder", "note"], [
            [f"<{icd_iri}{a}>", _lit(a), f"<{icd_iri}{b}>", _lit(b), _lit(holder), _lit(note)]
            for a, b, holder, note in excludes1_pairs(dx)]),
        "ICD_SOURCE": f"<{ICD_SOURCE}>",
        "CODE_SET": _lit(CODE_SET),
    }


def _text(term: object) -> str:
    return "" if term is None else str(getattr(term, "value", term))


def _fill(template: str, data: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: data.get(m.group(1), ""), template)


def run_rule(store: Store, rule: Rule, values: dict[str, str], base: str = DEFAULT_BASE_IRI) -> list[Finding]:
    """One rule's findings: rows with the same message make one finding with all their facts and sources."""
    text = f"BASE <{base}>\n" + sparql_prologue() + rule.sparql  # rules name instances relative to the base
    for marker, block in values.items():
        text = text.replace("{{" + marker + "}}", block)
    found: dict[str, Finding] = {}
    result = cast(ox.QuerySolutions, store.query(text))  # every rule is a SELECT
    names = [v.value for v in result.variables]
    for row in result:
        data = {n: _text(row[n]) for n in names}
        message = _fill(rule.message, data)
        severity = data.get("severity") or rule.severity
        finding = found.setdefault(message, Finding(rule.id, severity, message))
        for n in names:
            value = data[n]
            if value and n.startswith("fact") and value not in finding.facts:
                finding.facts.append(value)
            elif value and n.startswith("source") and value not in finding.sources:
                finding.sources.append(value)
    return list(found.values())


def check_claim(store: Store, claim: Claim, cache_results: bool = True) -> CheckResult:
    """Every rule's findings for ``claim``: errors first, then warnings, then information.

    A rule's findings depend only on the claim fields it reads and on the build, which never changes,
    so they are kept per opened store (``cache_results=False`` measures the uncached cost)."""
    base = store.manifest.get("base_iri") or DEFAULT_BASE_IRI
    known = bool(store.query(f"ASK {{ <{code_iri(claim.code, base)}> <{SKOS.notation}> ?n }}"))
    nearby = [] if known else close_codes(store, claim.code, base)
    values = bindings(claim, [diagnosis(d) for d in claim.dx], base, known, nearby)
    given = {"modifiers": bool(claim.modifiers), "pos": bool(claim.pos), "payer": bool(claim.payer),
             "dx": bool(claim.dx)}
    fields = {"code": claim.code, "modifiers": claim.modifiers, "pos": claim.pos, "payer": claim.payer, "dx": claim.dx}
    cache: OrderedDict[tuple[Any, ...], list[Finding]] | None = (
        memoised(store, "check-results", OrderedDict) if cache_results else None)
    findings = []
    for rule in load_rules():
        if not all(given[n] for n in rule.needs):
            continue
        key = (rule.id, *(fields[f] for f in rule.reads))
        found = cache.get(key) if cache is not None else None
        if found is None:
            found = run_rule(store, rule, values, base)
            if cache is not None:
                cache[key] = found
                if len(cache) > CACHE_SIZE:
                    cache.popitem(last=False)
        findings += found
    findings.sort(key=lambda f: SEVERITIES.index(f.severity))  # stable: rule order within a severity
    return CheckResult(claim, findings)
