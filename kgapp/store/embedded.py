"""The embedded Oxigraph store, opened read-only on one complete build (see kgapp.store.writer for the layout)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pyoxigraph as ox

from kgapp.formats import prefix_args
from kgapp.store.base import StoreUnavailable
from kgapp.store.search_index import FILE as SEARCH_INDEX

if TYPE_CHECKING:
    from rdflib import Dataset

MANIFEST = "manifest.json"


# -- reading ---------------------------------------------------------------------------------------

def current_build(root: Path) -> Path | None:
    """The folder of the current complete build, or None."""
    link = Path(root) / "current"
    try:
        folder = link.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return folder if (folder / MANIFEST).is_file() else None


class EmbeddedStore:
    """A built store opened read-only; its default graph is the merge of all named graphs."""

    plans_in_caller = True  # kgapp.sparql.topk and kgapp.sparql.hashjoin pay off on Oxigraph

    # ``build`` pins one build folder (query workers open exactly the build their app serves).
    def __init__(self, root: Path, build: Path | None = None):
        self.root = Path(root)
        folder = current_build(self.root) if build is None else Path(build)
        if folder is None or not (folder / MANIFEST).is_file():
            raise StoreUnavailable(f"no complete build at {self.root} (run `kgapp build`)")
        self.folder: Path | None = folder
        self.manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        self._open: ox.Store | None = ox.Store.read_only(str(folder / "oxigraph"))
        index = folder / SEARCH_INDEX
        self.search_index: Path | None = index if index.is_file() else None  # older builds have none
        self.memo: dict[str, Any] = {}

    @property
    def local(self) -> ox.Store | None:
        return self._open

    @property
    def _store(self) -> ox.Store:
        if self._open is None:
            raise StoreUnavailable(f"the build {self.folder} was closed")
        return self._open

    def close(self) -> None:
        """Release RocksDB's files now rather than whenever the garbage collector gets here."""
        self._open = None

    @classmethod
    def open_build(cls, folder: Path) -> EmbeddedStore:
        """Exactly this build folder, whatever `current` says (query workers open the build their app serves)."""
        return cls(folder.parent.parent, folder)

    # Every surface queries through here, so a remote store can stand in with the same signature.
    def query(self, sparql: str, *, default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None, base_iri: str | None = None,
              prefixes: dict[str, str] | None = None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        kwargs: dict[str, Any] = {"base_iri": base_iri, "prefixes": prefixes}
        # None means "the store's own"; an empty list means no graph (a protocol dataset without named graphs).
        if default_graphs is not None:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        return self._store.query(sparql, **kwargs)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs())

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        g = ox.NamedNode(graph) if graph else None
        return self._store.quads_for_pattern(None, None, None, g)

    def dump(self, output: BinaryIO, fmt: ox.RdfFormat, graph: str | None = None,
             prefixes: dict[str, str] | None = None) -> None:
        """Serialise the whole dataset, one named graph, or (``graph=""``) the default graph natively."""
        kwargs = prefix_args(fmt, prefixes) if prefixes else {}
        if graph == "":
            self._store.dump(output, fmt, from_graph=ox.DefaultGraph(), **kwargs)
        elif graph:
            self._store.dump(output, fmt, from_graph=ox.NamedNode(graph), **kwargs)
        else:
            self._store.dump(output, fmt, **kwargs)

    @property
    def triple_count(self) -> int:
        return int(self.manifest.get("triples", 0))

    def rdflib_dataset(self) -> Dataset:
        """The store through the rdflib API (oxrdflib), for code that prefers rdflib objects."""
        from oxrdflib import OxigraphStore
        from rdflib import Dataset
        return Dataset(store=OxigraphStore(store=self._store))
