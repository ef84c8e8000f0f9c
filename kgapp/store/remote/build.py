"""Write a validated, reasoned build to a SPARQL server: upload into staging graphs, then swap them in.

On the portable path the graphs are first assembled in a temporary in-memory Oxigraph store by the
code that fills a local build, so the server receives exactly the graphs (and the union) an embedded
build would hold, and sent as standard SPARQL Update (kgapp.store.remote.upload); the statistics are
computed from that store while the upload runs. The opt-in bulk path, for a Virtuoso on the same host,
writes the same graphs as files straight from the sources and hands them to its bulk loader
(kgapp.store.remote.bulk): same staging graphs, same checks. Nothing the previous build serves is
touched until the swap. The portable swap is one update request of ``DROP SILENT GRAPH g; MOVE
SILENT staging TO g`` per graph, then the stale graphs and the manifest; how atomic that request is
depends on the server (Virtuoso runs it operation by operation: for the length of the swap a reader
may see some graphs new and some old). The bulk path swaps in one SQL transaction instead, manifest
included (BulkLoader.swap). On both, a marker written GRACE seconds ahead (the new build is checked
meanwhile) and removed after (kgapp.store.remote.swap_guard) keeps kgapp's readers from an answer the
swap tore. Only graphs named in the previous manifest or under ``…/graph/_kgapp/`` are ever dropped;
a failed build removes its staging graphs, or leaves them listed for the next build to remove.

Each build's union (kgapp's default graph) is loaded into a graph of its own, ``…/_kgapp/union/<build
id>``, which the manifest names: it is never copied, the manifest's swap switches readers to it, and the
previous union is dropped after the swap (a reader still asking it finds its build gone and asks again,
kgapp.store.remote.store). The first build into a server that holds no kgapp build and none of its
graphs loads straight into the served graph IRIs too and writes the manifest last: no reader serves a
server without a manifest, so there is nothing to swap, and no staging graph to copy or empty. The
graphs are listed as loaded directly first; a build that dies meanwhile leaves them for the next build
to drop, which it does only while there is still no manifest. A rebuild loads only the named graphs
whose inputs changed (by the keys both manifests record, kgapp.build.cache.graph_keys) or that no
longer hold what the served build recorded; the others stay as they are served, never swapped.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pyoxigraph as ox
from rdflib import Graph

from kgapp.sources import SourceFile
from kgapp.store.remote.bulk import BulkLoader
from kgapp.store.remote.client import RemoteQueryError, RemoteStoreError, SparqlClient
from kgapp.store.remote.graphs import (
    MANIFEST_GRAPH,
    MANIFEST_PROPERTY,
    NO_GRAPH,
    PENDING_GRAPH,
    RESERVED,
    UNION_GRAPH,
    UNIONS,
    read_manifest,
    union_graph,
)
from kgapp.store.remote.swap_guard import announce, wait_until, withdraw
from kgapp.store.remote.upload import upload
from kgapp.store.spec import RemoteSpec
from kgapp.store.stats import compute as compute_stats
from kgapp.store.writer import fill

UPDATE_TIMEOUT = 600.0
STAGED = PENDING_GRAPH + "#staging"
DIRECT = PENDING_GRAPH + "#direct"  # a served graph IRI a first build is loading straight into


def write_remote_build(spec: RemoteSpec, files: Iterable[SourceFile], graphs: Iterable[tuple[str, Graph]],
                       manifest: dict[str, Any], base_iri: str,
                       progress: Callable[[str], None] | None = None, bulk: BulkLoader | None = None
                       ) -> dict[str, Any]:
    """Upload a build to the server and make it the one served; returns its manifest.

    ``bulk`` (default: from KGAPP_REMOTE_BULK_DIR / KGAPP_REMOTE_ISQL) loads through Virtuoso's bulk loader.
    """
    say = progress or (lambda _msg: None)
    bulk = bulk or BulkLoader.from_env()
    client = SparqlClient(spec, UPDATE_TIMEOUT)
    build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    files, graphs = list(files), list(graphs)
    names = list(dict.fromkeys([str(s.graph) for s in files] + [n for n, _ in graphs]))
    previous = read_manifest(client)
    _drop_leftovers(client, previous)
    direct = previous is None and not _holds_any(client, [*names, UNION_GRAPH])
    if direct:
        say("no kgapp build on the server yet: loading straight into the served graphs, the manifest last")
    kept = _unchanged(client, previous, manifest.get("graph_keys") or {}, names) if previous else set()
    if kept:
        say(f"{len(kept)} of {len(names)} graphs unchanged since the served build: kept as they are, not loaded")
    staging = {g: g if direct else f"{RESERVED}staging/{build_id}/{i}" for i, g in enumerate(names) if g not in kept}
    staged_manifest = MANIFEST_GRAPH if direct else f"{RESERVED}staging/{build_id}/manifest"
    targets = {**staging, UNION_GRAPH: UNIONS + build_id}  # the union is loaded where it is served from
    _list_pending(client, [*targets.values(), staged_manifest], DIRECT if direct else STAGED, build_id)
    try:
        if bulk:
            say(f"bulk-loading {len(staging)} graphs and the union through {bulk.folder}")
            counts, distinct, stats = bulk.load(files, graphs, base_iri, targets)
        else:
            counts, distinct, stats = _upload(client, files, graphs, base_iri, targets, say)
        ready = None if direct else announce(client, build_id)  # readers hold back answers a swap could tear
        try:
            _verify(client, targets, {**counts, UNION_GRAPH: distinct})
            final = {**manifest, "build": build_id, "graphs": counts, "triples": distinct, "stats": stats,
                     "union": targets[UNION_GRAPH], "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                     "store": str(spec)}
            if ready is None:  # the manifest makes the build the one served; the listing goes with it
                client.update(_manifest_insert(MANIFEST_GRAPH, final) + f" ;\nDROP SILENT GRAPH <{PENDING_GRAPH}>")
                return final
            stale = [g for g in (previous or {}).get("graphs", {}) if g not in names]
            _swap_in(client, bulk, staging, staged_manifest, stale, final, ready, say)
        finally:
            if ready is not None:
                withdraw(client)
    except BaseException:
        _drop_staging(client, [*targets.values(), staged_manifest], say, bulk)
        raise
    # The previous build's union is served no more: a reader still asking it finds its build gone and asks
    # again (kgapp.store.remote.store). Listed first, so that the next build removes it if this cannot.
    old = [union_graph(previous)]
    _list_pending(client, old, STAGED, build_id)
    say("removing the staging graphs and the previous build's union")
    _drop_staging(client, [*staging.values(), staged_manifest, *old] if bulk else old, say, bulk)
    return final


def _upload(client: SparqlClient, files: list[SourceFile], graphs: list[tuple[str, Graph]], base_iri: str,
            targets: dict[str, str], say: Callable[[str], None]) -> tuple[dict[str, int], int, dict[str, Any]]:
    """The portable path: the graphs assembled in an in-memory store by the code that fills a local build,
    then sent with SPARQL Update (the statistics computed meanwhile); returns the counts and statistics."""
    store = ox.Store()  # in memory: filled and read back several times faster than on disk
    counts, distinct = fill(store, files, graphs, base_iri)
    with ThreadPoolExecutor(1) as pool:
        stats = pool.submit(compute_stats, store, (counts, distinct))
        say(f"uploading {sum(counts[g] for g in targets if g in counts) + distinct} quads to {client.spec.update_url}")
        upload(client, store, targets)
        return counts, distinct, stats.result()


def _swap_in(client: SparqlClient, bulk: BulkLoader | None, staging: dict[str, str], staged_manifest: str,
             stale: list[str], final: dict[str, Any], ready: float, say: Callable[[str], None]) -> None:
    """Swap the staging graphs and the manifest in, and drop the ``stale`` graphs, once the marker written
    before the build was checked has stood for its grace (``ready``, swap_guard)."""
    if bulk:
        client.update(_manifest_insert(staged_manifest, final))
    say(f"swapping {len(staging)} graphs in (and dropping {len(stale)} stale ones)")
    wait_until(ready)
    if bulk:
        bulk.swap({**staging, MANIFEST_GRAPH: staged_manifest}, stale)
    else:
        _swap(client, _swap_ops(staging, stale, final), say)


def _list_pending(client: SparqlClient, graphs: list[str], how: str, build_id: str) -> None:
    """List ``graphs`` as this build's, before anything goes into them: a build that dies leaves them listed."""
    client.update("INSERT DATA { GRAPH <%s> { %s } }" % (PENDING_GRAPH, " ".join(
        f"<{g}> <{how}> {ox.Literal(build_id)} ." for g in graphs)))


def _unchanged(client: SparqlClient, previous: dict[str, Any], keys: dict[str, str], names: list[str]) -> set[str]:
    """The served graphs this build need not load: the same inputs decide them (equal keys in the two manifests,
    kgapp.build.cache.graph_keys) and they still hold what the served build recorded."""
    old, recorded = previous.get("graph_keys") or {}, previous.get("graphs") or {}
    same = [g for g in names if keys.get(g) and old.get(g) == keys[g] and g in recorded]
    held = _held(client, same) if same else {}
    return {g for g in same if held.get(g, 0) == recorded[g]}


def _held(client: SparqlClient, graphs: Iterable[str]) -> dict[str, int]:
    """The triples each of ``graphs`` holds on the server (a graph it does not hold is left out)."""
    params = [("default-graph-uri", NO_GRAPH)] + [("named-graph-uri", g) for g in graphs]
    return {r["g"].value: int(r["n"].value) for r in cast(ox.QuerySolutions, client.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", params, graph=False))}


def _verify(client: SparqlClient, staging: dict[str, str], expected: dict[str, int]) -> None:
    """Every staging graph holds exactly what was sent: a server that drops data silently fails the build."""
    got = _held(client, staging.values())
    for source, target in staging.items():
        if got.get(target, 0) != expected[source]:
            raise RemoteQueryError(f"the server holds {got.get(target, 0)} of the {expected[source]} triples "
                                   f"uploaded for <{source}>; nothing was swapped in")


def _swap(client: SparqlClient, ops: list[str], say: Callable[[str], None]) -> None:
    """All operations in one request; if the server refuses one that big, one request per graph.

    Virtuoso logs a request as one transaction and aborts it above ``TransactionAfterImageLimit``
    (50 MB by default, a few hundred thousand moved triples). Graph by graph the window in which
    readers see a mix of old and new graphs is longer, and the manifest still comes last.
    """
    try:
        client.update(" ;\n".join(ops))
    except RemoteQueryError as e:
        say(f"the server refused the swap as one request ({e}); swapping graph by graph "
            "(raise Virtuoso's TransactionAfterImageLimit to keep it one request)")
        for op in ops:
            client.update(op)


def _swap_ops(staging: dict[str, str], stale: list[str], manifest: dict[str, Any]) -> list[str]:
    ops = [f"DROP SILENT GRAPH <{g}> ; MOVE SILENT <{s}> TO <{g}>" for g, s in staging.items()]
    ops += [f"DROP SILENT GRAPH <{g}>" for g in stale]
    ops += [f"DROP SILENT GRAPH <{MANIFEST_GRAPH}>", _manifest_insert(MANIFEST_GRAPH, manifest),
            f"DROP SILENT GRAPH <{PENDING_GRAPH}>"]
    return ops


def _manifest_insert(graph: str, manifest: dict[str, Any]) -> str:
    literal = ox.Literal(json.dumps(manifest, sort_keys=True))
    return f"INSERT DATA {{ GRAPH <{graph}> {{ <{MANIFEST_GRAPH}> <{MANIFEST_PROPERTY}> {literal} }} }}"


def _holds_any(client: SparqlClient, graphs: list[str]) -> bool:
    """Whether any of ``graphs`` holds a triple on the server: one small ASK per graph (~3 ms each). Asked of
    all the graphs at once, as named-graph-uri parameters or VALUES, Virtuoso 7.2 sometimes took 2-5 s."""
    return any(bool(cast(ox.QueryBoolean, client.query(f"ASK {{ GRAPH <{g}> {{ ?s ?p ?o }} }}", [], graph=False)))
               for g in graphs)


def _drop_leftovers(client: SparqlClient, served: dict[str, Any] | None) -> None:
    """Graphs listed by builds that died before cleaning up (they were listed before any upload): staging
    graphs and unions, but never the ``served`` build's union, and the graphs a first build was loading
    straight into only while no build is served."""
    rows = cast(ox.QuerySolutions, client.query(
        f"SELECT ?s ?how WHERE {{ ?s ?how ?b FILTER(?how IN (<{STAGED}>, <{DIRECT}>)) }}",
        [("default-graph-uri", PENDING_GRAPH), ("named-graph-uri", NO_GRAPH)], graph=False))
    keep = union_graph(served) if served else None
    left = [g for g, how in ((r["s"].value, r["how"].value) for r in rows) if g != keep and (
        g.startswith((RESERVED + "staging/", UNIONS)) or (served is None and how == DIRECT))]
    if left:
        client.update(" ;\n".join([f"DROP SILENT GRAPH <{g}>" for g in left] + [f"DROP SILENT GRAPH <{PENDING_GRAPH}>"]))


def _drop_staging(client: SparqlClient, staging: list[str], say: Callable[[str], None],
                  bulk: BulkLoader | None = None) -> None:
    """Remove the staging graphs (through isql on the bulk path: no transaction log), then their listing."""
    if bulk:
        try:
            bulk.remove(staging)
        except (RemoteStoreError, RemoteQueryError) as e:
            say(f"could not remove the staging graphs through isql ({e}); dropping them through SPARQL")
    try:
        client.update(" ;\n".join([f"DROP SILENT GRAPH <{s}>" for s in staging]
                                  + [f"DROP SILENT GRAPH <{PENDING_GRAPH}>"]), timeout=30)
    except (RemoteStoreError, RemoteQueryError) as e:
        say(f"could not remove the staging graphs ({e}); the next build will")
