"""The build pipeline: load sources → SHACL-validate → reason → write a new store and make it current."""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from kgapp.build import cache
from kgapp.build.load import Parsed, load_sources, parse_sources, subjects_by_source
from kgapp.build.parallel import build_in_parallel, not_native
from kgapp.build.reason import infer
from kgapp.build.validate import Report, attributed, read_report, sources_by_focus, validate_graph
from kgapp.config import Config
from kgapp.errors import KgappError
from kgapp.export.layout import union_ntriples
from kgapp.export.prebuilt import BuildExports
from kgapp.namespaces import INFERRED_GRAPH, VALIDATION_GRAPH
from kgapp.sources import (
    RDF_SUFFIXES,
    SourceError,
    SourceFile,
    data_sources,
    graph_for,
    ontology_sources,
    shape_sources,
)
from kgapp.store.columns import write_columns
from kgapp.store.remote.build import write_remote_build
from kgapp.store.remote.bulk import BulkLoader
from kgapp.store.spec import RemoteSpec
from kgapp.store.writer import Extra, write_build

Progress = Callable[[str], None]


class BuildRejected(KgappError):
    """The data violates the shapes; nothing was written and the previous store keeps serving."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(f"validation failed with {len(report.violations)} violation(s)", status=422)


@dataclass
class BuildResult:
    folder: Path | RemoteSpec  # the build folder, or the SPARQL server built into
    triples: int
    inferred: int
    report: Report
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (parallel builds; they overlap)


@dataclass
class Inputs:
    """The parsed sources as rdflib graphs, ready for SHACL and the reasoner."""

    sources: list[SourceFile]
    asserted: Graph  # ontology + data: what is validated and reasoned over
    ontology: Graph
    shapes: Graph
    base_iri: str

    def source_index(self) -> Callable[[object], tuple[str, ...]]:
        return source_lookup(self.sources, self.base_iri)


def source_lookup(sources: list[SourceFile], base_iri: str) -> Callable[[object], tuple[str, ...]]:
    """A lookup from a node to the files that state something about it (built on first use)."""
    index: dict[str, set[str]] | None = None

    def lookup(node) -> tuple[str, ...]:
        nonlocal index
        if index is None:  # only when there are results to explain: re-parsing is cheap and rare
            index = subjects_by_source([s for s in sources if s.role != "shapes"], base_iri)
        return tuple(sorted(index.get(str(node), ())))
    return lookup


def all_sources(config: Config, data: list[SourceFile] | None = None) -> list[SourceFile]:
    return ontology_sources() + shape_sources() + (data if data is not None else data_sources(config.data_dirs))


def load_inputs(config: Config, extra_data: list[SourceFile] | None = None, progress: Progress | None = None) -> Inputs:
    sources = all_sources(config, extra_data)
    graphs = load_sources(sources, config.base_iri, progress)
    ontology = graphs.get("ontology", Graph())
    asserted = graphs.get("data", Graph())
    for triple in ontology:
        asserted.add(triple)
    return Inputs(sources, asserted, ontology, graphs.get("shapes", Graph()), config.base_iri)


def validate_inputs(inputs: Inputs) -> Report:
    return validate_graph(inputs.asserted, inputs.shapes, sources_of=inputs.source_index())


def validate_files(paths: list[Path]) -> Report:
    """Validate user files together with the shipped data (a file named like a shipped one replaces it);
    only results about nodes the files describe are kept. SourceError for a missing or unknown file."""
    mine = []
    for path in paths:
        if not path.is_file():
            raise SourceError(path, "no such file")
        if path.suffix.lower() not in RDF_SUFFIXES:
            raise SourceError(path, "unknown RDF file type (use .ttl, .trig, .nt or .nq)")
        mine.append(SourceFile(path, graph_for(path), "data"))
    replaced = {s.graph for s in mine}
    context = [s for s in data_sources() if s.graph not in replaced]
    inputs = load_inputs(Config.from_mapping(), extra_data=context + mine)
    return validate_inputs(inputs).only_from({s.path.name for s in mine})


@contextmanager
def _build_lock(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another build is writing to {root}; wait for it to finish") from None
        yield


def _validate_and_reason(config: Config, say: Progress) -> tuple[list[SourceFile], Report, Graph]:
    say("loading sources")
    inputs = load_inputs(config, progress=say)
    say(f"validating {len(inputs.asserted)} triples against {len(inputs.shapes)} shape triples")
    report = validate_inputs(inputs)
    if not report.conforms:
        raise BuildRejected(report)
    say(f"valid: {len(report.warnings)} warning(s); reasoning (OWL 2 RL)")
    return inputs.sources, report, infer(inputs.asserted, inputs.ontology)


def _export_files(parsed: Parsed, base_iri: str) -> Extra:
    """write_build's last step: the build's export files, from the same quads as its store."""
    def write(folder: Path, store, converted: dict) -> None:
        exports = BuildExports(folder, base_iri)
        exports.write_sources(parsed)
        validation = str(VALIDATION_GRAPH), converted[str(VALIDATION_GRAPH)]
        exports.finish(store, validation, (str(INFERRED_GRAPH), converted[str(INFERRED_GRAPH)]))
        write_columns(folder, union_ntriples(folder))
    return write


def build(config: Config, progress: Progress | None = None) -> BuildResult:
    """Run the whole pipeline; raises SourceError or BuildRejected without touching the current store."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    remote = isinstance(config.store, RemoteSpec)
    # A SPARQL server gets the graphs; its build lock and reasoning cache stay in a local folder.
    root = config.store.local_dir if remote else Path(config.store)
    sources = all_sources(config)
    key = cache.inputs_key(sources, config.base_iri)
    cached = cache.load(root, key)

    def manifest(report: Report, inferred: Graph) -> dict:
        files = [{"file": str(s.path), "graph": str(s.graph), "role": s.role, "sha256": s.sha256()} for s in sources]
        return {
            "base_iri": config.base_iri,
            "inputs_key": key,
            "sources": files,
            "graph_keys": cache.graph_keys(files, config.base_iri, key),  # a remote rebuild keeps graphs whose key stays
            "validation": {"violations": len(report.violations), "warnings": len(report.warnings)},
            "inferred": len(inferred),
            "prepare_seconds": round(time.perf_counter() - started, 3),  # load, validate, reason so far
        }

    if cached is None and not remote:  # validate in a second process while reasoning and storing
        with _build_lock(root):
            folder, report, inferred, stages = build_in_parallel(
                root, sources, config.base_iri, say, BuildRejected, manifest, source_lookup(sources, config.base_iri))
            total = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["triples"]
            cache.save(root, key, report.graph, inferred, sources_by_focus(report))
        say(f"built {total} triples in {time.perf_counter() - started:.1f} s → {folder}")
        return BuildResult(folder, total, len(inferred), report, time.perf_counter() - started, stages)
    if cached is not None:
        say("inputs unchanged since the last build: reusing its validation report and inferred triples")
        known = cache.load_sources(root, key)  # where each result's node is described, as the first build found
        report = read_report(cached[0], source_lookup(sources, config.base_iri) if known is None else attributed(known))
        inferred = cached[1]
    else:
        sources, report, inferred = _validate_and_reason(config, say)
    say(f"inferred {len(inferred)} triples; writing store to {config.store}")
    graphs = [(str(INFERRED_GRAPH), inferred), (str(VALIDATION_GRAPH), report.graph)]
    with _build_lock(root):
        if remote:
            bulk = BulkLoader.from_settings(config.remote_bulk_dir, config.remote_isql)  # None: SPARQL Update
            total = write_remote_build(config.store, sources, graphs, manifest(report, inferred), config.base_iri,
                                       say, bulk)["triples"]
            folder: Path | RemoteSpec = config.store
        else:
            parsed = parse_sources(sources, config.base_iri, for_store=True)  # export files, blank node files
            folder = write_build(root, sources, graphs, manifest(report, inferred), config.base_iri,
                                 not_native(parsed, config.base_iri), _export_files(parsed, config.base_iri))
            total = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["triples"]
        if cached is None:
            cache.save(root, key, report.graph, inferred, sources_by_focus(report))
    say(f"built {total} triples in {time.perf_counter() - started:.1f} s → {folder}")
    return BuildResult(folder, total, len(inferred), report, time.perf_counter() - started)
