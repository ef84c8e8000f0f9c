"""Solutions computed outside Oxigraph handed back to it as a VALUES query, so every result writer is reused."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def values_query(names: Sequence[str], rows: Iterable[Sequence[str | None]]) -> str:
    """A SELECT giving ``rows`` (terms in SPARQL syntax, None for unbound) in this order, as ``names``."""
    variables = " ".join(f"?{n}" for n in names)
    body = " ".join("(" + " ".join("UNDEF" if c is None else c for c in row) + ")" for row in rows)
    return f"SELECT {variables} WHERE {{ VALUES ({variables}) {{ {body} }} }}"
