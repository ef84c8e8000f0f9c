"""The prefixes exports and RDF pages write: the project's, plus one per folder of instance IRIs."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox

from kgapp.namespaces import DEFAULT_BASE_IRI, PREFIXES
from kgapp.store.base import Store, memoised
from kgapp.store.stats import stats

# "id:" would turn every instance IRI into id:code\/cpt\/64868; per-folder prefixes read far better.
BASE_PREFIXES = {p: ns for p, ns in PREFIXES.items() if p != "id"}
_PN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def folder_prefixes(instance_folders: Iterable[str], base: str) -> dict[str, str]:
    """A prefix per folder of instance IRIs (``cpt:`` for …/id/code/cpt/), named after its last segment."""
    folders = sorted(f[len(base):] for f in set(instance_folders) if f.startswith(base) and f != base)
    last = [f.strip("/").split("/")[-1] for f in folders]
    # seed-000 is a folder under gap/ and payer-policy/: such folders and their siblings spell the whole path.
    ambiguous = {f.strip("/").rpartition("/")[0] for f, n in zip(folders, last, strict=False) if last.count(n) > 1}
    out: dict[str, str] = {}
    for folder, name in zip(folders, last, strict=False):
        if folder.strip("/").rpartition("/")[0] in ambiguous:
            name = folder.strip("/").replace("/", "-")
        if _PN.match(name) and name not in BASE_PREFIXES and name not in out:
            out[name] = base + folder
    return out


def instance_prefixes(store: Store, base_iri: str | None = None) -> dict[str, str]:
    """The folder prefixes of a store's typed IRIs (the folders its statistics list)."""
    base = base_iri or store.manifest.get("base_iri") or DEFAULT_BASE_IRI
    return folder_prefixes(stats(store)["instance_folders"], base)


def export_prefixes_for(base_iri: str, quads: Iterable[ox.Quad]) -> dict[str, str]:
    """Export prefixes from quads (the folders of IRIs they give an rdf:type), for the export files a
    build writes before it has a store: from the sources, so a folder only the reasoner types (agents,
    via a property's range) gets none there, unlike export_prefixes of the built store."""
    typed = {q.subject.value.rpartition("/")[0] + "/" for q in quads
             if q.predicate == _TYPE and isinstance(q.subject, ox.NamedNode)}
    return {**BASE_PREFIXES, **folder_prefixes(typed, base_iri)}


def export_prefixes(store: Store) -> dict[str, str]:
    """Prefixes for Turtle, TriG and RDF/XML output; computed once per opened (immutable) store."""
    return memoised(store, "export_prefixes", lambda: {**BASE_PREFIXES, **instance_prefixes(store)})
