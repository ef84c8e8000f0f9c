"""Where a page's statements come from: the source behind each named graph, numbered for footnotes."""

from __future__ import annotations

from kgapp.namespaces import INFERRED_GRAPH, VALIDATION_GRAPH, sparql_prologue

P = sparql_prologue()


def sources_for(store, graph_iris) -> dict[str, dict]:
    """The source behind each graph a statement came from, numbered for footnotes (each graph's source is
    read once per opened store)."""
    graphs = sorted(set(graph_iris))
    known: dict[str, dict] = store.memo.setdefault("graph_sources", {})
    missing = [g for g in graphs if g not in known]
    if missing:
        values = " ".join(f"<{g}>" for g in missing)
        found: dict[str, dict] = {}
        for r in store.query(P + f"""SELECT ?g ?src ?title ?file WHERE {{ VALUES ?g {{ {values} }}
                OPTIONAL {{ ?g prov:wasDerivedFrom ?src . OPTIONAL {{ ?src dcterms:title ?title }}
                            OPTIONAL {{ ?src kg:fileName ?file }} }} }}"""):
            g = r["g"].value
            title = r["title"].value if r["title"] else _graph_title(g)
            found.setdefault(g, {"graph": g, "source": r["src"].value if r["src"] else None,
                                 "title": title, "file": r["file"].value if r["file"] else None})
        known.update(found)
    return {g: {**known[g], "n": n} for n, g in enumerate(graphs, 1)}


def _graph_title(graph: str) -> str:
    if graph == str(INFERRED_GRAPH):
        return "inferred by OWL 2 RL reasoning over the ontology and data"
    if graph == str(VALIDATION_GRAPH):
        return "SHACL validation report of the served graph"
    return "graph " + graph.rsplit("/", 1)[-1]
