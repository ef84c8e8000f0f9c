"""Run SPARQL against a store and render results for a terminal (table) or a file (csv, tsv, json, RDF)."""

from __future__ import annotations

from typing import cast

import pyoxigraph as ox

from kgapp.formats import by_name, serialize_rdf
from kgapp.namespaces import curie
from kgapp.store.base import QueryResult


def term_text(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None,
              compact: bool = True) -> str:
    """A readable form of a term: prefixed IRIs, bare literal values."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return curie(term.value) if compact else term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def render_table(variables: list[str], rows: list[list[str]]) -> str:
    if not variables:
        return ""
    widths = [max([len(v)] + [len(r[i]) for r in rows]) for i, v in enumerate(variables)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(v.ljust(w) for v, w in zip(variables, widths, strict=False)) + " |", line]
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + " |" for r in rows]
    out += [line, f"{len(rows)} row(s)"]
    return "\n".join(out)


def render(result: QueryResult, fmt: str = "table") -> bytes:
    """Serialise a pyoxigraph query result as ``fmt`` (table, or any format name of kgapp.formats)."""
    if isinstance(result, ox.QueryBoolean):
        if fmt == "table":
            return (("yes" if bool(result) else "no") + "\n").encode()
        f = by_name(fmt)
        if f is None or f.kind != "results":
            raise ValueError(f"an ASK result can be table, json, xml, csv or tsv, not {fmt}")
        return cast(bytes, result.serialize(format=f.ox_results))  # no output given: the bytes
    if isinstance(result, ox.QuerySolutions):
        if fmt == "table":
            variables = [v.value for v in result.variables]
            rows = [[term_text(sol[v]) for v in variables] for sol in result]
            return (render_table(variables, rows) + "\n").encode()
        f = by_name(fmt)
        if f is None or f.kind != "results":
            raise ValueError(f"a SELECT result can be table, json, xml, csv or tsv, not {fmt}")
        return cast(bytes, result.serialize(format=f.ox_results))  # no output given: the bytes
    # CONSTRUCT / DESCRIBE
    f = by_name("turtle" if fmt == "table" else fmt)
    if f is None or f.kind not in ("rdf", "dataset"):
        raise ValueError(f"a CONSTRUCT or DESCRIBE result can be turtle, ntriples, jsonld or rdfxml, not {fmt}")
    return cast(bytes, serialize_rdf(result, f))  # no output given: the bytes
