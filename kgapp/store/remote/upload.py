"""Upload graphs to a SPARQL server with standard SPARQL Update, in batches the server accepts, blank nodes intact.

Triples without blank nodes go in ``INSERT DATA`` batches (as fast as Virtuoso's Graph Store
Protocol in our measurements). Blank nodes cannot be split across requests that way: each request
makes its own nodes, Virtuoso 7.2 refuses them in ``INSERT DATA`` and its SPARQL compiler gives up
on templates of more than a few hundred triples, while a SHACL report is one connected group of
thousands. So each blank node is created once with a mark (its label), the triples then find their
nodes by that mark through a ``VALUES`` join, and the marks are deleted. A batch the server refuses
is halved and retried, down to a small size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar, cast

import pyoxigraph as ox

from kgapp.store.remote.client import RemoteQueryError, SparqlClient
from kgapp.store.remote.graphs import RESERVED, UNION_GRAPH

GROUND_BATCH = 4000  # triples per INSERT DATA: Virtuoso's parser runs out of stack near 5000
NODE_BATCH = 400  # marked blank nodes per INSERT … WHERE {}: Virtuoso's compiler gives up near 1000
JOIN_BATCH = 1000  # VALUES rows per INSERT … WHERE
SMALLEST_BATCH = 50  # a refused batch is halved down to this size before the build gives up
MARK = RESERVED + "blank-node-label"  # only ever in staging graphs, deleted before the swap

T = TypeVar("T")


def upload(client: SparqlClient, store: ox.Store, staging: dict[str, str]) -> None:
    """Copy each graph of ``store`` (the union: its default graph) into its staging graph on the server."""
    for source, target in staging.items():
        graph = ox.DefaultGraph() if source == UNION_GRAPH else ox.NamedNode(source)
        batch: list[ox.Triple] = []
        blank: list[ox.Triple] = []
        for q in store.quads_for_pattern(None, None, None, graph):
            if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode):
                blank.append(q.triple)
                continue
            batch.append(q.triple)
            if len(batch) >= GROUND_BATCH:
                insert_data(client, target, batch)
                batch = []
        if batch:
            insert_data(client, target, batch)
        insert_blank(client, target, blank)


def insert_data(client: SparqlClient, target: str, triples: list[ox.Triple]) -> None:
    _halving(client, triples, lambda part: f"INSERT DATA {{ GRAPH <{target}> {{ {_nt(part)} }} }}")


def insert_blank(client: SparqlClient, target: str, triples: list[ox.Triple]) -> None:
    """Triples with blank nodes, in batches of any size, each blank node staying one node."""
    nodes = list(dict.fromkeys(t.value for q in triples for t in (q.subject, q.object)
                               if isinstance(t, ox.BlankNode)))
    for i in range(0, len(nodes), NODE_BATCH):
        marks = " ".join(f"_:{n} <{MARK}> {ox.Literal(n)} ." for n in nodes[i:i + NODE_BATCH])
        client.update(f"INSERT {{ GRAPH <{target}> {{ {marks} }} }} WHERE {{}}")
    by_shape: dict[tuple[bool, bool], list[ox.Triple]] = defaultdict(list)
    for t in triples:
        by_shape[(isinstance(t.subject, ox.BlankNode), isinstance(t.object, ox.BlankNode))].append(t)
    for (blank_s, blank_o), group in by_shape.items():
        head = f"({'?ls' if blank_s else '?s'} ?p {'?lo' if blank_o else '?o'})"
        find = (f"?s <{MARK}> ?ls . " if blank_s else "") + (f"?o <{MARK}> ?lo . " if blank_o else "")

        def insert_where(part: list[ox.Triple], head: str = head, find: str = find) -> str:
            return (f"INSERT {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ VALUES {head} {{ "
                    + " ".join(f"({_cell(t.subject)} {t.predicate} {_cell(t.object)})" for t in part)
                    + f" }} GRAPH <{target}> {{ {find}}} }}")

        for i in range(0, len(group), JOIN_BATCH):
            _halving(client, group[i:i + JOIN_BATCH], insert_where)
    if nodes:
        client.update(f"DELETE WHERE {{ GRAPH <{target}> {{ ?b <{MARK}> ?label }} }}")


def _cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    return str(ox.Literal(term.value)) if isinstance(term, ox.BlankNode) else str(term)


def _halving(client: SparqlClient, items: list[T], request: Callable[[list[T]], str]) -> None:
    """Send ``request(items)``; if the server refuses it, send each half the same way."""
    try:
        client.update(request(items))
    except RemoteQueryError:
        if len(items) < 2 * SMALLEST_BATCH:
            raise
        half = len(items) // 2
        _halving(client, items[:half], request)
        _halving(client, items[half:], request)


def _nt(triples: list[ox.Triple]) -> str:
    # without an output, pyoxigraph returns the bytes
    return cast(bytes, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)).decode("utf-8")
