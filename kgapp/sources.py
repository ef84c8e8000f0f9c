"""Find the ontology, shapes and data files to build from, and name the graph each one loads into."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from .namespaces import GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH

RDF_SUFFIXES = {".ttl": "turtle", ".trig": "trig", ".nt": "nt", ".nq": "nquads"}
_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TRIG, "nt": ox.RdfFormat.N_TRIPLES,
               "nquads": ox.RdfFormat.N_QUADS}


def resource_dir(name: str) -> Path:
    """The shipped folder ``name`` (ontology, data, shapes): inside the wheel, or at the top of a checkout."""
    packaged = Path(__file__).parent / "resources" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"kgapp's {name}/ folder is missing from this installation")


@dataclass(frozen=True)
class SourceFile:
    """One RDF file and the named graph it loads into."""

    path: Path
    graph: URIRef
    role: str  # "ontology", "shapes" or "data"

    @property
    def format(self) -> str:
        return RDF_SUFFIXES[self.path.suffix.lower()]

    @property
    def ox_format(self) -> ox.RdfFormat:
        return _OX_FORMATS[self.format]

    @property
    def has_graphs(self) -> bool:
        """TriG and N-Quads name their own graphs; kgapp still puts all of a file in its one graph."""
        return self.format in ("trig", "nquads")

    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def _rdf_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in RDF_SUFFIXES)


def graph_for(path: Path) -> URIRef:
    """A data file loads into https://w3id.org/kgapp/graph/{file stem}."""
    return GRAPH[path.stem]


def ontology_sources() -> list[SourceFile]:
    return [SourceFile(p, ONTOLOGY_GRAPH, "ontology") for p in _rdf_files(resource_dir("ontology"))]


def shape_sources() -> list[SourceFile]:
    return [SourceFile(p, SHAPES_GRAPH, "shapes") for p in _rdf_files(resource_dir("shapes"))]


def data_sources(data_dirs: tuple[Path, ...] | list[Path] = ()) -> list[SourceFile]:
    """Every data file under ``data_dirs`` (default: the shipped data), one named graph each.

    Two files with the same stem would write into one graph and hide each other's provenance,
    so that is refused.
    """
    folders = list(data_dirs) or [resource_dir("data")]
    found: dict[URIRef, Path] = {}
    out = []
    for folder in folders:
        for path in _rdf_files(Path(folder)):
            g = graph_for(path)
            if g in found:
                raise ValueError(f"two data files would load into the same graph <{g}>: {found[g]} and {path}")
            found[g] = path
            out.append(SourceFile(path, g, "data"))
    if not out:
        raise FileNotFoundError(f"no RDF files (.ttl, .trig, .nt, .nq) in {', '.join(map(str, folders))}")
    return out
