"""Queries that read every solution (GROUP BY, COUNT, ORDER BY, DISTINCT) over the build's integer columns.

Oxigraph evaluates a count per procedure type, or the first twenty codes by label, by decoding every
code's terms from RocksDB and comparing strings read back from it; over the build's columns
(kgapp.store.columns) the same work is a few numpy passes over integer ids: each triple pattern is a
slice of its predicate's rows, patterns are joined by sorting on their shared variables, groups are
counted by ``np.unique``, ORDER BY sorts by each term's precomputed rank, and only the rows answered are
decoded. The solutions go back to Oxigraph as a VALUES query (kgapp.sparql.values), so every format is
written as before.

Taken only for the shape kgapp.sparql.columnar_query reads, over the build's own dataset (no FROM or
protocol dataset), and left to Oxigraph (None) when the order is not certainly Oxigraph's (a sort key
column with blank nodes, literals of two kinds or of a kind outside plain strings, language-tagged
strings and integers: the top-k's rule), when an answer would hold a blank node (VALUES cannot carry
one), when a join would build more than ``MAX_ROWS`` solutions (or numpy runs out of the worker's memory)
or the answer more than ``MAX_OUT`` rows.
Solutions that tie on every ORDER BY key may come in another order than Oxigraph's (SPARQL leaves it open).
"""

from __future__ import annotations

import numpy as np

from kgapp.sparql.columnar_plan import Count, Node, Plan
from kgapp.sparql.columnar_query import read_plan
from kgapp.sparql.values import values_query
from kgapp.store.columns import Columns
from kgapp.store.term_text import KIND_BLANK, KIND_IRI, KIND_OTHER

MAX_ROWS = 2_000_000  # solutions a join may build (16 MB a variable) before Oxigraph gets the query back
MAX_OUT = 20_000  # rows handed back through VALUES when the row cap allows more
_SHIFT = 31  # term ids are below 2**31: two of them make one int64 key

Relation = tuple[dict[str, np.ndarray], int]  # variable → ids (int64), and the number of solutions


class _Fallback(Exception):
    """Oxigraph answers this one."""


def solutions_query(text: str, columns: Columns, base_iri: str | None = None, row_cap: int | None = None) -> str | None:
    """A VALUES query giving ``text``'s solutions in order (at most ``row_cap`` + 1 of them), or None to run
    ``text`` as it is."""
    plan = read_plan(text, base_iri)
    if plan is None:
        return None
    try:
        return values_query(plan.names, _evaluate(plan, columns, row_cap))
    except (_Fallback, MemoryError):  # past the worker's memory limit: its arrays are freed, Oxigraph streams
        return None


def _evaluate(plan: Plan, columns: Columns, row_cap: int | None) -> list[tuple[str, ...]]:
    joined, n = _join_all([_pattern(columns, *p) for p in plan.patterns])
    if plan.aggregated:
        out, n = _aggregate(plan, joined, n)
    else:
        out = {name: (joined[name], False) for name in {*plan.names, *(name for name, _ in plan.order)}}
    index = _ordered(plan, out, columns, n)
    if plan.distinct:
        _, first = np.unique(np.stack([out[name][0][index] for name in plan.names], axis=1), axis=0,
                             return_index=True)
        index = index[np.sort(first)]
    index = index[plan.offset:] if plan.limit is None else index[plan.offset:plan.offset + plan.limit]
    cap = MAX_OUT if row_cap is None else min(MAX_OUT, row_cap + 1)  # one more than the cap: the writer says "cut"
    if len(index) > cap:
        if row_cap is None or row_cap + 1 > MAX_OUT:
            raise _Fallback
        index = index[:cap]
    cells = []
    for name in plan.names:
        values, counted = out[name]
        values = values[index]
        if counted:
            cells.append([str(int(v)) for v in values])
        elif (np.asarray(columns.kind[values]) == KIND_BLANK).any():
            raise _Fallback  # VALUES cannot carry a blank node
        else:
            cells.append(columns.terms(values))
    return list(zip(*cells, strict=True))


def _pattern(columns: Columns, subject: Node, predicate: Node, obj: Node) -> Relation:
    """One triple pattern's solutions: a slice of its predicate's rows (of every row for ``?p``), filtered."""
    if isinstance(predicate[0], int):
        rows = columns.rows(predicate[1])
        if isinstance(subject[0], int):  # rows of one predicate are sorted by subject
            sid = columns.term_id(subject[0], subject[1])
            lo, hi = (0, 0) if sid is None else np.searchsorted(rows[:, 0], [sid, sid + 1])
            rows = rows[lo:hi]
    else:
        rows = np.asarray(columns.triples)
    nodes = (subject, predicate, obj)
    keep = np.ones(len(rows), dtype=bool)
    relation: dict[str, np.ndarray] = {}
    for position, (kind, value) in enumerate(nodes):
        if isinstance(kind, int):  # a constant (a subject or predicate constant already chose the rows)
            if position == 2 or predicate[0] == "var":
                found = columns.term_id(kind, value)
                keep &= rows[:, position] == (-1 if found is None else found)
        else:
            ids = np.asarray(rows[:, position], dtype=np.int64)
            if value in relation:
                keep &= relation[value] == ids  # ?x p ?x
            else:
                relation[value] = ids
    if not keep.all():
        relation = {name: ids[keep] for name, ids in relation.items()}
    return relation, int(keep.sum())


def _join_all(relations: list[Relation]) -> Relation:
    """The join of connected relations, smallest first, each next one the smallest sharing a variable."""
    rest = sorted(relations, key=lambda r: r[1])
    joined = rest.pop(0)
    while rest:
        at = next(i for i, r in enumerate(rest) if set(r[0]) & set(joined[0]))
        joined = _join(joined, rest.pop(at))
    return joined


def _join(a: Relation, b: Relation) -> Relation:
    if b[1] > a[1]:
        a, b = b, a  # sort the smaller side, probe with the larger
    (left, n), (right, _) = a, b
    shared = sorted(set(left) & set(right))
    probe, built = _key(left, shared), _key(right, shared)
    order = np.argsort(built, kind="stable")
    lo = np.searchsorted(built[order], probe, side="left")
    hi = np.searchsorted(built[order], probe, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total > MAX_ROWS:
        raise _Fallback
    probed = np.repeat(np.arange(n), counts)
    found = order[np.repeat(lo, counts) + np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)]
    out = {v: ids[probed] for v, ids in left.items()}
    out.update({v: ids[found] for v, ids in right.items() if v not in out})
    return out, total


def _key(relation: dict[str, np.ndarray], shared: list[str]) -> np.ndarray:
    if len(shared) == 1:
        return relation[shared[0]]
    if len(shared) == 2:
        return np.asarray((relation[shared[0]] << _SHIFT) + relation[shared[1]])
    raise _Fallback


def _aggregate(plan: Plan, relation: dict[str, np.ndarray], n: int) -> tuple[dict[str, tuple[np.ndarray, bool]], int]:
    """Each group's key columns and counts: name → (values, is a count), and the number of groups."""
    groups = plan.group_by or ()
    out: dict[str, tuple[np.ndarray, bool]] = {}
    if not groups:  # one group, even when nothing matched
        inverse, sizes = np.zeros(n, dtype=np.int64), np.array([n], dtype=np.int64)
    elif len(groups) == 1:
        keys, inverse, sizes = np.unique(relation[groups[0]], return_inverse=True, return_counts=True)
        out[groups[0]] = (keys, False)
    else:
        keys, inverse, sizes = np.unique(np.stack([relation[g] for g in groups], axis=1), axis=0,
                                         return_inverse=True, return_counts=True)
        out.update({g: (keys[:, i], False) for i, g in enumerate(groups)})
    inverse = inverse.reshape(-1)
    for item in plan.select:
        if isinstance(item, Count):
            if item.distinct and item.of is not None:
                pairs = np.unique((inverse << _SHIFT) + relation[item.of])
                out[item.alias] = (np.bincount(pairs >> _SHIFT, minlength=len(sizes)).astype(np.int64), True)
            else:  # every variable of a basic graph pattern is bound: COUNT(?v) counts every solution
                out[item.alias] = (sizes.astype(np.int64), True)
    return out, len(sizes)


def _ordered(plan: Plan, out: dict[str, tuple[np.ndarray, bool]], columns: Columns, n: int) -> np.ndarray:
    """The solutions' indexes in ORDER BY order (as they are without one)."""
    keys = []
    for name, desc in plan.order:
        values, counted = out[name]
        if not counted:
            kinds = set(np.unique(np.asarray(columns.kind[values])).tolist())
            literal_kinds = kinds - {KIND_IRI}
            if KIND_BLANK in kinds or KIND_OTHER in kinds or len(literal_kinds) > 1:
                raise _Fallback  # an order the rank does not certainly reproduce
            values = np.asarray(columns.rank[values], dtype=np.int64)
        keys.append(-values if desc else values)
    return np.lexsort(keys[::-1]) if keys else np.arange(n)
