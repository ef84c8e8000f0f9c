"""Parse source files into an rdflib Dataset, one named graph per file, with precise syntax errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef

from .namespaces import DEFAULT_BASE_IRI
from .sources import SourceFile


class SourceError(Exception):
    """A source file that cannot be read or parsed; the message names the file and the line."""

    def __init__(self, path, message: str, line: int | None = None, column: int | None = None):
        self.path, self.line, self.column = path, line, column
        where = f"{path}" + (f", line {line}" + (f", column {column}" if column else "") if line else "")
        super().__init__(f"{where}: {message}")


_OX_FORMAT = {"turtle": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TRIG, "nt": ox.RdfFormat.N_TRIPLES,
              "nquads": ox.RdfFormat.N_QUADS}


def _syntax_error(source: SourceFile, fallback: Exception) -> SourceError:
    """Oxigraph's parser reports line and column precisely; ask it where the error is."""
    try:
        for _ in ox.parse(path=str(source.path), format=_OX_FORMAT[source.format]):
            pass
    except SyntaxError as e:
        message = str(e).split(" (", 1)[0] if e.lineno else str(e)
        return SourceError(source.path, message, e.lineno, e.offset)
    except (OSError, ValueError) as e:
        return SourceError(source.path, str(e))
    return SourceError(source.path, " ".join(str(fallback).split())[:500])


def parse_source(source: SourceFile) -> Graph:
    """The triples of one file (quads of a TriG/N-Quads file are flattened into its graph)."""
    graph = Graph()
    try:
        if source.format in ("trig", "nquads"):
            ds = Dataset()
            ds.parse(source.path, format=source.format)
            for s, p, o, _ in ds.quads():
                graph.add((s, p, o))
        else:
            graph.parse(source.path, format=source.format)
    except FileNotFoundError as e:
        raise SourceError(source.path, "file not found") from e
    except UnicodeDecodeError as e:
        raise SourceError(source.path, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    except Exception as e:  # rdflib raises many unrelated types for bad syntax
        raise _syntax_error(source, e) from e
    return graph


def rebase(graph: Graph, base_iri: str) -> Graph:
    """Rewrite IRIs under the default instance base to ``base_iri`` (for deployments on another host)."""
    if base_iri == DEFAULT_BASE_IRI:
        return graph

    def move(term):
        if isinstance(term, URIRef) and str(term).startswith(DEFAULT_BASE_IRI):
            return URIRef(base_iri + str(term)[len(DEFAULT_BASE_IRI):])
        return term

    out = Graph()
    for s, p, o in graph:
        out.add((move(s), p, move(o)))
    return out


def load_sources(sources: Iterable[SourceFile], base_iri: str = DEFAULT_BASE_IRI,
                 progress: Callable[[str], None] | None = None) -> Dataset:
    """A Dataset with each source in its own named graph; the first unreadable file raises SourceError."""
    dataset = Dataset()
    for source in sources:
        graph = rebase(parse_source(source), base_iri)
        target = dataset.graph(source.graph)
        for triple in graph:
            target.add(triple)
        if progress:
            progress(f"loaded {source.path.name}: {len(graph)} triples → <{source.graph}>")
    return dataset
