"""Build on two cores: validate in a forked process while this one reasons and fills the store.

Validation and reasoning both only read the asserted graph, so they are independent. After the
sources are parsed (natively, in seconds) a child process is forked: it builds the rdflib graph pyshacl
needs and validates it, then sends back the results graph as N-Triples. Meanwhile this process writes
the sources' part of the export files (kgapp.export.prebuilt) and reasons over a set of the same
triples (no rdflib Graph to fill) while a thread bulk-loads the source files into the new build's
store (Oxigraph releases the GIL); it adds the inferred graph and writes the search index. When the
report arrives a violation removes the half-written build folder; otherwise the validation graph,
the export files, the counts and the statistics complete it. The results are those of the sequential
path (tests compare both). The child uses rdflib and pyshacl only: a forked process must not open an
Oxigraph store (the threads RocksDB and the bulk loader rely on do not survive a fork; tried: it hangs).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from kgapp.build.load import Parsed, parse_sources, role_graphs, role_triples, to_graph
from kgapp.build.reason import infer
from kgapp.build.validate import Report, read_report, validate_graph
from kgapp.export.layout import union_ntriples
from kgapp.export.prebuilt import BuildExports
from kgapp.namespaces import INFERRED_GRAPH, VALIDATION_GRAPH
from kgapp.sources import SourceFile
from kgapp.store.columns import write_columns
from kgapp.store.search_index import index_rows, write_index
from kgapp.store.stats import compute as compute_stats
from kgapp.store.writer import (
    STORE_DIR,
    fill_files,
    fill_graphs,
    finish_build,
    graph_counts,
    loads_natively,
    new_build_folder,
    remove_build_folder,
)


class Forked:
    """``fn()`` run in a forked child process; ``result()`` returns its value or raises its exception."""

    def __init__(self, fn: Callable[[], Any]):
        ctx = multiprocessing.get_context("fork")
        self._conn, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(fn, send), name="kgapp-validate")
        self._proc.start()
        send.close()

    def result(self) -> Any:
        try:
            ok, value = self._conn.recv()
        except EOFError:
            self._proc.join()
            raise RuntimeError(f"the validation process died (exit code {self._proc.exitcode})") from None
        finally:
            self._conn.close()
        self._proc.join()
        if not ok:
            raise value
        return value

    def cancel(self) -> None:
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()
        self._conn.close()


def _child(fn: Callable[[], Any], send) -> None:
    try:
        send.send((True, fn()))
    except BaseException as e:  # sent back to be raised in the parent
        try:
            send.send((False, e))
        except Exception:  # not picklable
            send.send((False, RuntimeError(f"{type(e).__name__}: {e}")))
    finally:
        send.close()


def _validate(parsed: Parsed) -> tuple[bytes, float]:
    """In the child: the SHACL results graph of the asserted graph, as N-Triples, and the seconds taken."""
    started = time.perf_counter()
    graphs = role_graphs(_drain(parsed))  # frees the quads as they are converted
    asserted = graphs.get("data", Graph())
    for triple in graphs.get("ontology", Graph()):
        asserted.add(triple)
    report = validate_graph(asserted, graphs.get("shapes", Graph()))
    return report.graph.serialize(format="nt", encoding="utf-8"), time.perf_counter() - started


def _drain(parsed: Parsed) -> Iterator[tuple[SourceFile, list[ox.Quad]]]:
    """The items of ``parsed``, each removed as it is taken (each process frees its copy of the quads)."""
    parsed.reverse()
    while parsed:
        yield parsed.pop()


def not_native(parsed: Parsed, base_iri: str) -> dict[SourceFile, list[ox.Quad]]:
    """The quads of the sources the store does not load from their files (see fill_files)."""
    return {source: quads for source, quads in parsed if not loads_natively(source, base_iri)}


class _Filler(threading.Thread):
    """Bulk-loads the source files into the build's store while the main thread reasons."""

    def __init__(self, *args):
        super().__init__(name="kgapp-fill", daemon=True)
        self.args, self.error, self.seconds = args, None, 0.0

    def run(self) -> None:
        started = time.perf_counter()
        try:
            fill_files(*self.args)
        except BaseException as e:  # re-raised by the main thread
            self.error = e
        self.seconds = time.perf_counter() - started

    def finish(self) -> float:
        self.join()
        if self.error is not None:
            raise self.error
        return self.seconds


def build_in_parallel(root: Path, sources: list[SourceFile], base_iri: str, say: Callable[[str], None],
                      reject: Callable[[Report], Exception], manifest: Callable[[Report, Graph], dict[str, Any]],
                      sources_of: Callable[[object], tuple[str, ...]]) -> tuple[Path, Report, Graph, dict[str, float]]:
    """Load, validate, reason and write a build; raises ``reject(report)`` when the data violates the shapes."""
    stages: dict[str, float] = {}
    started = mark = time.perf_counter()
    say("loading sources")
    parsed = parse_sources(sources, base_iri, say)
    stages["load"] = time.perf_counter() - mark
    say(f"validating {sum(len(q) for s, q in parsed if s.role != 'shapes')} statements in a second process; "
        "reasoning (OWL 2 RL) and writing the store meanwhile")
    validator = Forked(lambda: _validate(parsed))  # forked before any thread or store exists
    folder, filler = new_build_folder(root), None
    try:
        store = ox.Store(str(folder / STORE_DIR))
        # The store and the export files take the quads the reasoner and the validator read, but for the
        # shapes files with blank nodes, parsed again (see parse_sources' for_store).
        own = {s: q for s, q in parsed if not loads_natively(s, base_iri)}
        own.update(parse_sources([s for s in own if s.role == "shapes"], base_iri, for_store=True))
        filler = _Filler(store, sources, base_iri, own)
        filler.start()
        mark = time.perf_counter()
        exports = BuildExports(folder, base_iri)
        exports.write_sources([(s, own.get(s, q)) for s, q in parsed])  # now: reasoning drops the quads
        stages["exports"] = time.perf_counter() - mark
        mark = time.perf_counter()
        ontology = role_graphs([(s, q) for s, q in parsed if s.role == "ontology"]).get("ontology", Graph())
        inferred = infer(role_triples(_drain(parsed), ("data", "ontology")), ontology)
        stages["reason"] = time.perf_counter() - mark
        stages["store_files"] = filler.finish()
        mark = time.perf_counter()
        inferred_quads = fill_graphs(store, [(str(INFERRED_GRAPH), inferred)])
        write_index(folder, index_rows(store))  # the index leaves the validation graph out anyway
        stages["store_index"] = time.perf_counter() - mark
        mark = time.perf_counter()
        report_nt, stages["validate"] = validator.result()
        stages["wait_validate"] = time.perf_counter() - mark
        report = read_report(to_graph(ox.parse(report_nt, format=ox.RdfFormat.N_TRIPLES)), sources_of)
        if not report.conforms:
            raise reject(report)
        say(f"valid: {len(report.warnings)} warning(s); inferred {len(inferred)} triples; finishing the store")
        mark = time.perf_counter()
        checked = fill_graphs(store, [(str(VALIDATION_GRAPH), report.graph)])
        exports.finish(store, *checked.items(), *inferred_quads.items())
        del checked, inferred_quads
        stages["exports"] += time.perf_counter() - mark
        mark = time.perf_counter()
        write_columns(folder, union_ntriples(folder))
        stages["columns"] = time.perf_counter() - mark
        mark = time.perf_counter()
        names = [str(s.graph) for s in sources] + [str(INFERRED_GRAPH), str(VALIDATION_GRAPH)]
        counts, distinct = graph_counts(store, names)
        summary = compute_stats(store, (counts, distinct))
        del store  # closes RocksDB before anyone opens the folder read-only
        stages["store_stats"] = time.perf_counter() - mark
    except BaseException as error:
        validator.cancel()
        if filler is not None:
            filler.join()
        traceback.clear_frames(error.__traceback__)  # frames below still hold the stores open
        store = None  # noqa: F841  (drops the last reference, so RocksDB closes)
        remove_build_folder(folder)
        raise
    finish_build(root, folder, {**manifest(report, inferred), "graphs": counts, "triples": distinct, "stats": summary,
                                "build_seconds": round(time.perf_counter() - started, 3)})
    stages["total"] = time.perf_counter() - started
    return folder, report, inferred, stages
