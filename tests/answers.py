"""Query answers in a form two stores can be compared in (row order and GROUP_CONCAT order left open)."""

from __future__ import annotations


def answer(store, text: str) -> list[tuple]:
    """Rows as sorted tuples of (variable, term); GROUP_CONCAT order and language are left open by SPARQL."""
    result = store.query(text)
    rows = []
    for row in result:
        cells = []
        for var in result.variables:
            term = row[var]
            value = None if term is None else str(term)
            if var.value == "payerNames":  # cq06's GROUP_CONCAT: a set, in whatever order the engine joins
                value = tuple(sorted(term.value.split(", "))) if term is not None and term.value else ()
            cells.append((var.value, value))
        rows.append(tuple(cells))
    return sorted(rows, key=repr)
