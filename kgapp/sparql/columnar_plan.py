"""The plan of a query the build's columns answer (kgapp.sparql.columnar): its triple patterns, what it
selects, groups and orders by, and the rules such a plan must meet to give Oxigraph's answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kgapp.sparql_text import connected

# ("var", name), or a constant term by its kind and key (kgapp.store.term_text): (KIND_IRI, iri),
# (KIND_STRING, text), (KIND_INTEGER, value)
Node = tuple[str, str] | tuple[int, Any]


@dataclass(frozen=True)
class Count:
    alias: str
    of: str | None  # the variable counted, None for COUNT(*)
    distinct: bool


@dataclass(frozen=True)
class Plan:
    patterns: tuple[tuple[Node, Node, Node], ...]  # (subject, predicate, object)
    select: tuple[str | Count, ...]  # a variable's name or a count
    distinct: bool
    group_by: tuple[str, ...] | None
    order: tuple[tuple[str, bool], ...]  # (name, descending)
    limit: int | None
    offset: int

    @property
    def aggregated(self) -> bool:
        return self.group_by is not None or any(isinstance(item, Count) for item in self.select)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(item.alias if isinstance(item, Count) else item for item in self.select)



def acceptable(plan: Plan) -> bool:
    """False for what SPARQL refuses or answers with unbound values, what Oxigraph streams, and cross products."""
    bound = {node[1] for pattern in plan.patterns for node in pattern if node[0] == "var"}
    names = plan.names
    if len(set(names)) != len(names):
        return False
    counts = [item for item in plan.select if isinstance(item, Count)]
    if plan.aggregated:
        grouped = set(plan.group_by or ())
        if not grouped <= bound or any(c.alias in bound for c in counts) \
                or any(c.of is not None and c.of not in bound for c in counts) \
                or any(c.of is None and c.distinct for c in counts) \
                or any(isinstance(item, str) and item not in grouped for item in plan.select) \
                or any(name not in grouped | {c.alias for c in counts} for name, _ in plan.order):
            return False
    elif not set(names) <= bound or any(name not in bound for name, _ in plan.order) \
            or (plan.distinct and any(name not in names for name, _ in plan.order)):
        return False
    if not (plan.aggregated or plan.distinct or plan.order):
        return False  # Oxigraph streams these, and stops at a LIMIT
    return connected([{n[1] for n in pattern if n[0] == "var"} for pattern in plan.patterns])
