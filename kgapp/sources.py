"""Find the ontology, shapes and data files to build from, name the graph each loads into, and parse them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from kgapp.errors import KgappError
from kgapp.namespaces import DEFAULT_BASE_IRI, GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH

RDF_SUFFIXES = {".ttl": "turtle", ".trig": "trig", ".nt": "nt", ".nq": "nquads"}
_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TRIG, "nt": ox.RdfFormat.N_TRIPLES,
               "nquads": ox.RdfFormat.N_QUADS}


class SourceError(KgappError):
    """A source file that cannot be read or parsed; the message names the file and the line."""

    def __init__(self, path, message: str, line: int | None = None, column: int | None = None):
        self.path, self.line, self.column = path, line, column
        where = f"{path}" + (f", line {line}" + (f", column {column}" if column else "") if line else "")
        super().__init__(f"{where}: {message}", status=400)


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


def parse_quads(source: SourceFile, graph: ox.NamedNode, base_iri: str = DEFAULT_BASE_IRI,
                salt: str = "") -> list[ox.Quad]:
    """The statements of one file as Oxigraph quads in ``graph`` (a TriG file's own graphs are merged).

    Oxigraph's parser is many times faster than rdflib's and reports line and column of errors. It keeps a
    labelled blank node's label as its id (``_:b`` is ``BlankNode("b")`` in every file) and gives ``[]`` a
    random one, so blank nodes get ids of kgapp's own here: derived from the file's graph, ``salt`` and the
    order in which they first appear. Two files' ``_:b`` stay two nodes when their graphs are merged into
    the default graph (RDF 1.1 Semantics, merging), and every parse of the same file gives the same ids, so
    what the reasoner inferred about a blank node (in this build, or cached by an earlier one) is about the
    node the store holds. A different ``salt`` gives the same statements other blank nodes.
    """
    move = _own_blank_nodes(_rebaser(base_iri), f"{salt}|{source.graph}")
    with reading(source):
        return [ox.Quad(move(q.subject), q.predicate, move(q.object), graph)
                for q in ox.parse(path=str(source.path), format=source.ox_format)]


@contextmanager
def reading(source: SourceFile) -> Iterator[None]:
    """Turn what parsing ``source`` can raise into a SourceError naming the file (and the line and column)."""
    try:
        yield
    except SyntaxError as e:
        message = str(e).split(" (", 1)[0] if e.lineno else str(e)
        raise SourceError(source.path, message, e.lineno, e.offset) from None
    except FileNotFoundError as e:
        raise SourceError(source.path, "file not found") from e
    except UnicodeDecodeError as e:
        raise SourceError(source.path, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    except (OSError, ValueError) as e:
        raise SourceError(source.path, str(e)) from e


def store_salt(source: SourceFile) -> str:
    """The ``salt`` of a source's blank nodes in the store: other ids for the shapes' than the validator
    reads, because its report copies some of them (shape paths) and the copies must stay apart from the
    shapes' own nodes in the default graph; the same ids for everything else."""
    return "stored" if source.role == "shapes" else ""


def may_have_blank_nodes(path: Path) -> bool:
    """Whether the file may hold a blank node: "_:", "[" and "(" are the only ways to write one in Turtle,
    TriG or N-Triples, and a false alarm only costs speed."""
    with open(path, "rb") as f:
        last = b""  # "_:" may straddle two chunks
        while chunk := f.read(1 << 20):
            if b"_:" in last + chunk or b"[" in chunk or b"(" in chunk:
                return True
            last = chunk[-1:]
    return False


def _own_blank_nodes(move, scope: str):
    """``move``, with each blank node of one parse mapped to an id from ``scope`` and its order of appearance
    (the same node, the same id)."""
    ids: dict[str, ox.BlankNode] = {}

    def scoped(term):
        if isinstance(term, ox.BlankNode):
            node = ids.get(term.value)
            if node is None:
                digest = hashlib.sha256(f"{scope}|{len(ids)}".encode()).hexdigest()[:32]
                node = ids[term.value] = ox.BlankNode("b" + digest)
            return node
        return move(term)
    return scoped


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
