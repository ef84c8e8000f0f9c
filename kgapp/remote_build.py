"""Write a validated, reasoned build to a SPARQL server: upload into staging graphs, then swap them in with one update.

The graphs are first assembled in a temporary embedded store by the very code that fills a local
build, so the server receives exactly the graphs (and the union) an embedded build would hold.
Uploads are standard SPARQL Update: ``INSERT DATA`` in batches for triples without blank nodes (as
fast as Virtuoso's Graph Store Protocol in our measurements) and ``INSERT {…} WHERE {}`` for each
group of triples of a graph that share blank nodes, so a blank node stays one node (Virtuoso 7.2
refuses blank nodes in ``INSERT DATA``, and fails on templates spanning several graphs, so a blank
node is never shared between graphs on the server: the embedded store does not share those of
source files either). Nothing the previous build serves is
touched until the swap: one update request of ``DROP SILENT GRAPH g; MOVE SILENT staging TO g`` per
graph, then the stale graphs and the manifest. How atomic that one request is depends on the server
(Virtuoso runs it operation by operation: for the length of the swap a reader may see some graphs
new and some old). Only graphs named in the previous manifest or under ``…/graph/_kgapp/`` are ever
dropped; a failed build removes its staging graphs, or leaves them listed for the next build to remove.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable

import pyoxigraph as ox

from .remote_store import MANIFEST_GRAPH, MANIFEST_PROPERTY, NO_GRAPH, PENDING_GRAPH, RESERVED, UNION_GRAPH, read_manifest
from .sparql_client import RemoteQueryError, RemoteStoreError, SparqlClient
from .store import _fill
from .store_spec import RemoteSpec

GROUND_BATCH = 5000  # triples per INSERT DATA: Virtuoso's fastest size in benchmarks/remote_store.py
BNODE_BATCH = 400  # quads per INSERT … WHERE {}: Virtuoso's SPARQL-to-SQL compiler gives up near 1000
UPDATE_TIMEOUT = 600.0
STAGED = PENDING_GRAPH + "#staging"


def write_remote_build(spec: RemoteSpec, files: Iterable, graphs: Iterable, manifest: dict, base_iri: str,
                       progress: Callable[[str], None] | None = None) -> dict:
    """Upload a build to the server and make it the one served; returns its manifest."""
    say = progress or (lambda _msg: None)
    client = SparqlClient(spec, UPDATE_TIMEOUT)
    build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="kgapp-remote-") as folder:
        store = ox.Store(folder)
        try:
            counts, distinct = _fill(store, files, graphs, base_iri)
            previous = read_manifest(client)
            _drop_leftovers(client)
            sources = list(counts) + [UNION_GRAPH]
            staging = {g: f"{RESERVED}staging/{build_id}/{i}" for i, g in enumerate(sources)}
            client.update("INSERT DATA { GRAPH <%s> { %s } }" % (PENDING_GRAPH, " ".join(
                f"<{s}> <{STAGED}> {ox.Literal(build_id)} ." for s in staging.values())))
            try:
                say(f"uploading {sum(counts.values()) + distinct} quads to {spec.update_url}")
                _upload(client, store, staging)
                _verify(client, staging, {**counts, UNION_GRAPH: distinct})
                final = {**manifest, "build": build_id, "graphs": counts, "triples": distinct,
                         "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "store": str(spec)}
                stale = [g for g in (previous or {}).get("graphs", {}) if g not in counts]
                say(f"swapping {len(staging)} graphs in (and dropping {len(stale)} stale ones)")
                client.update(_swap(staging, stale, final))
            except BaseException:
                _drop_staging(client, staging, say)
                raise
        finally:
            store = None  # closes RocksDB before the folder is removed
    return final


def _upload(client: SparqlClient, store: ox.Store, staging: dict[str, str]) -> None:
    for source, target in staging.items():
        graph = ox.DefaultGraph() if source == UNION_GRAPH else ox.NamedNode(source)
        batch: list[ox.Triple] = []
        shared: list[ox.Triple] = []  # triples with a blank node: sent in groups, so a node stays one node
        for q in store.quads_for_pattern(None, None, None, graph):
            if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode):
                shared.append(q.triple)
                continue
            batch.append(q.triple)
            if len(batch) >= GROUND_BATCH:
                client.update(f"INSERT DATA {{ GRAPH <{target}> {{ {_nt(batch)} }} }}")
                batch = []
        if batch:
            client.update(f"INSERT DATA {{ GRAPH <{target}> {{ {_nt(batch)} }} }}")
        for group in _bnode_batches(shared):
            client.update(f"INSERT {{ GRAPH <{target}> {{ {_nt(group)} }} }} WHERE {{}}")


def _nt(triples: list[ox.Triple]) -> str:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")


def _bnode_batches(triples: list[ox.Triple]) -> Iterable[list[ox.Triple]]:
    """Batches of whole groups of triples connected through blank nodes (a group may exceed the batch size)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for q in triples:
        nodes = [t.value for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)]
        for other in nodes[1:]:
            parent[find(other)] = find(nodes[0])
    groups: dict[str, list[ox.Triple]] = defaultdict(list)
    for q in triples:
        first = q.subject if isinstance(q.subject, ox.BlankNode) else q.object
        groups[find(first.value)].append(q)
    batch: list[ox.Triple] = []
    for group in groups.values():
        if batch and len(batch) + len(group) > BNODE_BATCH:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def _verify(client: SparqlClient, staging: dict[str, str], expected: dict[str, int]) -> None:
    """Every staging graph holds exactly what was sent: a server that drops data silently fails the build."""
    params = [("default-graph-uri", NO_GRAPH)] + [("named-graph-uri", s) for s in staging.values()]
    got = {r["g"].value: int(r["n"].value) for r in client.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", params, graph=False)}
    for source, target in staging.items():
        if got.get(target, 0) != expected[source]:
            raise RemoteQueryError(f"the server holds {got.get(target, 0)} of the {expected[source]} triples "
                                   f"uploaded for <{source}>; nothing was swapped in")


def _swap(staging: dict[str, str], stale: list[str], manifest: dict) -> str:
    ops = [f"DROP SILENT GRAPH <{g}> ; MOVE SILENT <{s}> TO <{g}>" for g, s in staging.items()]
    ops += [f"DROP SILENT GRAPH <{g}>" for g in stale]
    literal = ox.Literal(json.dumps(manifest, sort_keys=True))
    ops += [f"DROP SILENT GRAPH <{MANIFEST_GRAPH}>",
            f"INSERT DATA {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{MANIFEST_PROPERTY}> {literal} }} }}",
            f"DROP SILENT GRAPH <{PENDING_GRAPH}>"]
    return " ;\n".join(ops)


def _drop_leftovers(client: SparqlClient) -> None:
    """Staging graphs of builds that died before cleaning up (they were listed before any upload)."""
    rows = client.query(f"SELECT ?s WHERE {{ ?s <{STAGED}> ?b }}",
                        [("default-graph-uri", PENDING_GRAPH), ("named-graph-uri", NO_GRAPH)], graph=False)
    left = [r["s"].value for r in rows if r["s"].value.startswith(RESERVED + "staging/")]
    if left:
        client.update(" ;\n".join([f"DROP SILENT GRAPH <{g}>" for g in left] + [f"DROP SILENT GRAPH <{PENDING_GRAPH}>"]))


def _drop_staging(client: SparqlClient, staging: dict[str, str], say: Callable[[str], None]) -> None:
    try:
        client.update(" ;\n".join([f"DROP SILENT GRAPH <{s}>" for s in staging.values()]
                                  + [f"DROP SILENT GRAPH <{PENDING_GRAPH}>"]), timeout=30)
    except (RemoteStoreError, RemoteQueryError) as e:
        say(f"could not remove the staging graphs ({e}); the next build will")
