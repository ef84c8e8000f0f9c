"""Parse source files (one named graph each) into Oxigraph quads and rdflib graphs, with precise syntax errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from .namespaces import DEFAULT_BASE_IRI
from .sources import SourceFile


class SourceError(Exception):
    """A source file that cannot be read or parsed; the message names the file and the line."""

    def __init__(self, path, message: str, line: int | None = None, column: int | None = None):
        self.path, self.line, self.column = path, line, column
        where = f"{path}" + (f", line {line}" + (f", column {column}" if column else "") if line else "")
        super().__init__(f"{where}: {message}")


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class _Terms:
    """Converts Oxigraph terms to rdflib terms, sharing one object per IRI (files repeat IRIs a lot)."""

    def __init__(self):
        self.iris: dict[str, URIRef] = {}

    def __call__(self, term):
        if isinstance(term, ox.NamedNode):
            iri = self.iris.get(term.value)
            if iri is None:
                iri = self.iris[term.value] = URIRef(term.value)
            return iri
        if isinstance(term, ox.BlankNode):
            return BNode(term.value)
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=self(term.datatype))


def parse_quads(source: SourceFile, graph: ox.NamedNode, base_iri: str = DEFAULT_BASE_IRI) -> list[ox.Quad]:
    """The statements of one file as Oxigraph quads in ``graph`` (a TriG file's own graphs are merged).

    Oxigraph's parser is many times faster than rdflib's and reports line and column of errors.
    """
    move = _rebaser(base_iri)
    try:
        return [ox.Quad(move(q.subject), q.predicate, move(q.object), graph)
                for q in ox.parse(path=str(source.path), format=source.ox_format)]
    except SyntaxError as e:
        message = str(e).split(" (", 1)[0] if e.lineno else str(e)
        raise SourceError(source.path, message, e.lineno, e.offset) from None
    except FileNotFoundError as e:
        raise SourceError(source.path, "file not found") from e
    except UnicodeDecodeError as e:
        raise SourceError(source.path, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    except (OSError, ValueError) as e:
        raise SourceError(source.path, str(e)) from e


def _rebaser(base_iri: str):
    """Rewrites IRIs under the default instance base to ``base_iri`` (deployments on another host)."""
    if base_iri == DEFAULT_BASE_IRI:
        return lambda term: term
    cut = len(DEFAULT_BASE_IRI)

    def move(term):
        if isinstance(term, ox.NamedNode) and term.value.startswith(DEFAULT_BASE_IRI):
            return ox.NamedNode(base_iri + term.value[cut:])
        return term
    return move


def to_graph(quads: Iterable[ox.Quad], graph: Graph | None = None) -> Graph:
    """Add the quads' triples to an rdflib graph (new if not given), for pyshacl and the reasoner."""
    graph = Graph() if graph is None else graph
    add, term = graph.add, _Terms()
    for q in quads:
        add((term(q.subject), term(q.predicate), term(q.object)))
    return graph


def load_sources(sources: Iterable[SourceFile], base_iri: str = DEFAULT_BASE_IRI,
                 progress: Callable[[str], None] | None = None) -> dict[str, Graph]:
    """The triples of each role ("ontology", "shapes", "data") as one rdflib graph each.

    The store does not need these: it bulk-loads the files natively (see store.write_build).
    """
    graphs: dict[str, Graph] = {}
    for source in sources:
        graph = graphs.setdefault(source.role, Graph())
        before = len(graph)
        to_graph(parse_quads(source, ox.NamedNode(str(source.graph)), base_iri), graph)
        if progress:
            progress(f"loaded {source.path.name}: {len(graph) - before} new triples → <{source.graph}>")
    return graphs


def subjects_by_source(sources: Iterable[SourceFile], base_iri: str = DEFAULT_BASE_IRI) -> dict[str, set[str]]:
    """For each subject IRI or blank node id, the names of the files stating something about it."""
    index: dict[str, set[str]] = {}
    for source in sources:
        for q in parse_quads(source, ox.NamedNode(str(source.graph)), base_iri):
            index.setdefault(q.subject.value, set()).add(source.path.name)
    return index
