"""Remote store on Virtuoso: load ~1M triples through `kgapp build --store sparql:…` vs. Virtuoso's bulk loader,
and /sparql latency through kgapp vs. Virtuoso directly (the overhead ratio kgapp adds).

Run by hand (needs virtuoso-t and isql-vt from Debian's virtuoso-opensource):

    python benchmarks/remote_store.py [--codes 10000] [--requests 300] [--skip-portable]

Builds go through the portable SPARQL Update path and through the bulk path (KGAPP_REMOTE_BULK_DIR /
KGAPP_REMOTE_ISQL: Virtuoso's loader on files kgapp writes); `--skip-portable` leaves out the two slow
portable builds, `--requests 0` the latency comparison.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from ports import free_port  # noqa: E402
from virtuoso import PASSWORD, USER, Virtuoso, graphs_on  # noqa: E402

from kgapp.build.load import to_graph  # noqa: E402
from kgapp.build.pipeline import all_sources  # noqa: E402
from kgapp.build.synth import code_notation  # noqa: E402
from kgapp.config import Config  # noqa: E402
from kgapp.namespaces import DEFAULT_BASE_IRI, GRAPH, INFERRED_GRAPH, VALIDATION_GRAPH  # noqa: E402
from kgapp.store import open_store  # noqa: E402
from kgapp.store.remote.bulk import BulkLoader  # noqa: E402
from kgapp.store.remote.client import SparqlClient  # noqa: E402
from kgapp.store.remote.graphs import (  # noqa: E402
    MANIFEST_GRAPH,
    MANIFEST_PROPERTY,
    RESERVED,
    UNION_GRAPH,
    read_manifest,
)
from kgapp.store.spec import parse_store  # noqa: E402

LOOKUP = ("SELECT ?c ?label WHERE { ?c <http://www.w3.org/2004/02/skos/core#notation> \"%s\" ; "
          "<http://www.w3.org/2004/02/skos/core#prefLabel> ?label }")


def kgapp(*args: str, env: dict | None = None) -> float:
    # Run from the temporary folder: `python -m` puts its working folder first on sys.path, so from a checkout
    # it would import that checkout's kgapp whatever PYTHONPATH names (as when comparing with another commit).
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kgapp", *args], check=True, env=env, stdout=subprocess.DEVNULL,
                   cwd=tempfile.gettempdir())
    return time.perf_counter() - started


def bulk_load(server: Virtuoso, embedded_root: Path, folder: Path) -> tuple[float, int]:
    """Virtuoso's own loader (ld_dir + rdf_loader_run) on the same quads, written as one N-Quads file."""
    store = open_store(embedded_root)
    union = ox.NamedNode("urn:bulk:" + UNION_GRAPH)
    quads = [ox.Quad(q.subject, q.predicate, q.object,
                     ox.NamedNode("urn:bulk:" + q.graph_name.value) if isinstance(q.graph_name, ox.NamedNode) else union)
             for q in store._store.quads_for_pattern(None, None, None, None)]
    ox.serialize(quads, str(folder / "all.nq"), ox.RdfFormat.N_QUADS)
    started = time.perf_counter()
    server.isql(f"ld_dir('{folder}', 'all.nq', 'urn:bulk:default');\nrdf_loader_run();\ncheckpoint;\n")
    return time.perf_counter() - started, len(quads)


def load_step(server: Virtuoso, embedded_root: Path, spec: str, data: Path) -> float:
    """kgapp's bulk load step alone on the same build: its files written, ld_add + rdf_loader_run + checkpoint
    (a checkout from before 2a4820a, run through PYTHONPATH, wrote them from an in-memory store)."""
    store = open_store(embedded_root)
    loader = BulkLoader(server.folder, ("isql-vt", str(server.sql_port)))
    targets = {g: f"{RESERVED}staging/bench/{i}" for i, g in enumerate([*store.named_graphs(), UNION_GRAPH])}
    if "targets" in inspect.signature(BulkLoader.load).parameters:
        graphs = [(g, to_graph(store.quads(g))) for g in (str(INFERRED_GRAPH), str(VALIDATION_GRAPH))]
        sources = all_sources(Config.from_mapping({"data_dirs": [data]}))
        started = time.perf_counter()
        loader.load(sources, graphs, DEFAULT_BASE_IRI, targets)
    else:
        memory = ox.Store()
        memory.bulk_extend(store._store.quads_for_pattern(None, None, None, None))
        started = time.perf_counter()
        loader.load(memory, targets)  # type: ignore[call-arg]
    elapsed = time.perf_counter() - started
    SparqlClient(parse_store(spec), 600).update(" ;\n".join(f"DROP SILENT GRAPH <{s}>" for s in targets.values()))
    return elapsed


def forget_graph_keys(spec: str) -> None:
    """Take the graph keys out of the served manifest, so that the next build loads every graph again."""
    client = SparqlClient(parse_store(spec), 600)
    manifest = read_manifest(client) or {}
    manifest.pop("graph_keys", None)
    literal = ox.Literal(json.dumps(manifest, sort_keys=True))
    client.update(f"DROP SILENT GRAPH <{MANIFEST_GRAPH}> ; INSERT DATA {{ GRAPH <{MANIFEST_GRAPH}> "
                  f"{{ <{MANIFEST_GRAPH}> <{MANIFEST_PROPERTY}> {literal} }} }}")


def empty_server(server: Virtuoso, spec: str) -> None:
    """Remove kgapp's build from the server (through isql, as the loader runs: no transaction log)."""
    mine = [g for g in graphs_on(SparqlClient(parse_store(spec), 600)) if g.startswith(str(GRAPH))]
    BulkLoader(server.folder, ("isql-vt", str(server.sql_port))).remove(mine)


def latencies(url: str, params: list[tuple[str, str]], notations: list[str]) -> list[float]:
    out = []
    for n in notations:
        body = urlencode([("query", LOOKUP % n), *params]).encode()
        request = urllib.request.Request(url, data=body, headers={"Accept": "application/sparql-results+json"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as r:
            assert b"bindings" in r.read()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--skip-portable", action="store_true", help="no builds through SPARQL Update")
    parser.add_argument("--load-only", action="store_true", help="no remote builds: the load step vs the loader")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kgapp-bench-") as tmp:
        tmp = Path(tmp)
        kgapp("synth", "--codes", str(args.codes), "--out", str(tmp / "data"))
        env = {**os.environ, "KGAPP_STORE_USER": USER, "KGAPP_STORE_PASSWORD": PASSWORD, "XDG_DATA_HOME": str(tmp)}
        with Virtuoso(tmp / "virtuoso", buffers=340_000) as server:
            spec = f"sparql:{server.url}/sparql,{server.auth_url}"
            bulk_env = {**env, "KGAPP_REMOTE_BULK_DIR": str(server.folder), "KGAPP_REMOTE_ISQL": str(server.sql_port)}
            os.environ.update(KGAPP_STORE_USER=USER, KGAPP_STORE_PASSWORD=PASSWORD)  # for load_step's isql
            if not (args.skip_portable or args.load_only):
                first = kgapp("build", "--data", str(tmp / "data"), "--store", spec, env=env)
                again = kgapp("build", "--data", str(tmp / "data"), "--store", spec, env=env)  # reasoning cached
                print(f"kgapp build --store sparql: (portable SPARQL Update) first {first:.1f} s, "
                      f"rebuild with cached reasoning {again:.1f} s")
            bulk_first = bulk_again = bulk_full = bulk_empty = 0.0
            if not args.load_only:
                bulk_first = kgapp("build", "--data", str(tmp / "data"), "--store", spec, env=bulk_env)
                bulk_again = kgapp("build", "--data", str(tmp / "data"), "--store", spec, env=bulk_env)
                forget_graph_keys(spec)  # then a rebuild that reloads every named graph, as builds before 2026-11-29 did
                bulk_full = kgapp("build", "--data", str(tmp / "data"), "--store", spec, env=bulk_env)
                empty_server(server, spec)  # then a build with cached reasoning into a server with no kgapp build
                bulk_empty = kgapp("build", "--data", str(tmp / "data"), "--store", spec, env=bulk_env)
            if not args.load_only:
                peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # any child so far: the builds
                print(f"kgapp build --store sparql: (bulk path) first {bulk_first:.1f} s, "
                      f"rebuild with cached reasoning {bulk_again:.1f} s, the same reloading every graph {bulk_full:.1f} s, "
                      f"into an emptied server "
                      f"{bulk_empty:.1f} s; peak RSS of a child {peak:.0f} MB")
            embedded = tmp / "embedded"
            local = kgapp("build", "--data", str(tmp / "data"), "--store", str(embedded), env=env)
            manifest = open_store(embedded).manifest
            quads = sum(manifest["graphs"].values()) + manifest["triples"]
            print(f"triples (distinct) {manifest['triples']}, quads loaded (named graphs + union) {quads}; "
                  f"embedded build {local:.1f} s")
            step = load_step(server, embedded, spec, tmp / "data")
            used, n = bulk_load(server, embedded, server.folder)  # the only folder its DirsAllowed names
            # Loads slow down on a server that has loaded and deleted a lot (7.4 s → 9.9 s over six load/delete
            # rounds of this size in a trial), so the ratios use the loader on a fresh server of its own.
            with Virtuoso(tmp / "virtuoso-fresh", buffers=340_000) as fresh:
                bulk, _ = bulk_load(fresh, embedded, fresh.folder)
            print(f"Virtuoso bulk loader (ld_dir/rdf_loader_run + checkpoint): {n} quads in {bulk:.1f} s on a fresh "
                  f"server ({used:.1f} s on the one the builds used)")
            print(f"kgapp's bulk load step (files + loader + checkpoint) {step:.1f} s: {step / bulk:.2f}x the loader")
            if not args.load_only:
                print(f"rebuild, inputs unchanged (unchanged graphs kept, the union loaded) {bulk_again:.1f} s: "
                      f"{bulk_again / bulk:.2f}x; rebuild reloading every graph (load, verify, swap) {bulk_full:.1f} s: "
                      f"{bulk_full / bulk:.2f}x; "
                      f"cached build into an empty server (files, load + counts, verify) {bulk_empty:.1f} s: "
                      f"{bulk_empty / bulk:.2f}x; first build {bulk_first:.1f} s: {bulk_first / bulk:.2f}x")
            if not args.requests:
                return

            from waitress.server import create_server

            from kgapp.web import close_app, create_app

            app = create_app({"store": f"sparql:{server.url}/sparql", "query_timeout": 30})
            port = free_port()
            web = create_server(app, host="127.0.0.1", port=port, threads=4, ident="kgapp-bench")
            threading.Thread(target=web.run, daemon=True).start()
            notations = [code_notation((i * 7919) % args.codes) for i in range(args.requests)]
            store = app.extensions["kgapp.serving"].current.store
            dataset = [("default-graph-uri", store.manifest["union"])] + [("named-graph-uri", g) for g in store.named_graphs()]
            latencies(f"{server.url}/sparql", dataset, notations[:20])  # warm both paths
            latencies(f"http://127.0.0.1:{port}/sparql", [], notations[:20])
            direct = summary(latencies(f"{server.url}/sparql", dataset, notations))
            through = summary(latencies(f"http://127.0.0.1:{port}/sparql", [], notations))
            web.close()
            close_app(app)
            print(f"lookup by notation, {args.requests} sequential requests: Virtuoso direct p50 {direct[0]:.1f} ms "
                  f"p99 {direct[1]:.1f} ms; through kgapp p50 {through[0]:.1f} ms p99 {through[1]:.1f} ms; "
                  f"overhead ratio p50 {through[0] / direct[0]:.2f}x, p99 {through[1] / direct[1]:.2f}x")


if __name__ == "__main__":
    main()
