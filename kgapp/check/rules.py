"""The check's rules as data: one SPARQL file per rule in rules/, its id, severity and wording in a header."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

SEVERITIES = ("error", "warning", "info")
NEEDS = frozenset({"modifiers", "pos", "payer", "dx"})
_HEADER = re.compile(r"^#\s*([a-z]+):\s*(.*)$")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # the default; a rule's row may say otherwise in ?severity
    title: str
    checks: str  # what the rule checks, in plain words
    uses: str  # which facts and sources it reads
    message: str  # a template: {variable} is replaced by that variable's value in the row
    sparql: str  # the query, with {{CLAIM}}-style markers the engine fills
    needs: tuple[str, ...] = ()  # claim fields without which the rule is not run (modifiers, pos, payer, dx)
    reads: tuple[str, ...] = ()  # claim fields its answer depends on (found in its text): the cache key


def parse_rule(name: str, text: str) -> Rule:
    """A rule from its file; ValueError names what is missing (a test loads every shipped rule)."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        m = _HEADER.match(line)
        if not m:
            if line.strip() and not line.startswith("#"):
                break
            continue
        key, value = m.groups()
        header[key] = (header[key] + " " + value.strip()) if key in header else value.strip()
    missing = [k for k in ("id", "severity", "title", "checks", "uses", "message") if not header.get(k)]
    if missing:
        raise ValueError(f"rule file {name} lacks {', '.join(missing)} in its header")
    if header["id"] != name.removesuffix(".rq"):
        raise ValueError(f"rule file {name} declares id {header['id']!r}; the file must be named after it")
    if header["severity"] not in SEVERITIES:
        raise ValueError(f"rule {header['id']}: severity must be one of {', '.join(SEVERITIES)}")
    needs = tuple(header.get("needs", "").replace(",", " ").split())
    unknown = set(needs) - NEEDS
    if unknown:
        raise ValueError(f"rule {header['id']}: needs {', '.join(sorted(unknown))}? (one of {', '.join(sorted(NEEDS))})")
    return Rule(header["id"], header["severity"], header["title"], header["checks"], header["uses"],
                header["message"], text, needs, reads_of(text))


# Which claim fields a rule's answer can depend on, by the markers and claim variables its query uses.
_READS = {"code": ("?code", "?notation", "?known", "?nearby"), "modifiers": ("{{MODIFIERS}}", "?modifierSet"),
          "pos": ("?pos", "?posNotation"), "payer": ("?payer",),
          "dx": ("{{DX}}", "{{DX_ANCESTORS}}", "{{EXCLUDES1}}", "?dxCount", "?dxList")}


def reads_of(text: str) -> tuple[str, ...]:
    query = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return tuple(f for f, marks in _READS.items()
                 if any(re.search(re.escape(m) + (r"\b" if m[0] == "?" else ""), query) for m in marks))


@cache
def load_rules() -> tuple[Rule, ...]:
    """Every rule shipped in kgapp/check/rules/, in file-name order."""
    folder = files("kgapp.check") / "rules"
    return tuple(parse_rule(f.name, f.read_text(encoding="utf-8"))
                 for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(".rq"))


def rule_by_id(rule_id: str) -> Rule | None:
    return next((r for r in load_rules() if r.id == rule_id), None)
