"""One table of media types ↔ format names ↔ serialisers, and content negotiation over it.

Every surface (endpoint, pages, export, CLI) asks this module; nobody hand-writes a media type.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from kgapp.namespaces import PREFIXES


@dataclass(frozen=True)
class Format:
    name: str  # the value of ?format= and --format
    media_type: str
    extension: str  # file suffix without the dot
    kind: str  # "results" (SELECT/ASK), "rdf" (triples), "dataset" (quads), "html"
    aliases: tuple[str, ...] = ()  # other media types accepted in Accept
    text: bool = True

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.text else self.media_type

    @property
    def ox_rdf(self) -> ox.RdfFormat:
        return _OX_RDF[self.name]

    @property
    def ox_results(self) -> ox.QueryResultsFormat:
        return _OX_RESULTS[self.name]


FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "srj", "results", ("application/json",)),
    Format("xml", "application/sparql-results+xml", "srx", "results", ("application/xml", "text/xml")),
    Format("csv", "text/csv", "csv", "results"),
    Format("tsv", "text/tab-separated-values", "tsv", "results"),
    # N3 is asked for by name (SPARQLWrapper) and by type; its Turtle subset answers.
    Format("turtle", "text/turtle", "ttl", "rdf", ("application/x-turtle", "application/turtle", "text/n3",
                                                   "text/rdf+n3")),
    Format("ntriples", "application/n-triples", "nt", "rdf"),
    Format("jsonld", "application/ld+json", "jsonld", "rdf", ("application/json",)),
    Format("rdfxml", "application/rdf+xml", "rdf", "rdf", ("application/xml", "text/xml")),
    Format("trig", "application/trig", "trig", "dataset"),
    Format("nquads", "application/n-quads", "nq", "dataset"),
    Format("html", "text/html", "html", "html", ("application/xhtml+xml",)),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
BY_EXTENSION: dict[str, Format] = {f.extension: f for f in FORMATS if f.kind in ("rdf", "dataset", "html")}
ALIASES = {"ttl": "turtle", "n3": "turtle", "nt": "ntriples", "n-triples": "ntriples", "json-ld": "jsonld", "rdf": "rdfxml",
           "rdf/xml": "rdfxml", "nq": "nquads", "n-quads": "nquads", "srj": "json", "srx": "xml"}

_OX_RDF = {
    "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML, "trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS,
}
_OX_RESULTS = {
    "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
}

RESULT_FORMATS = tuple(f for f in FORMATS if f.kind == "results")
GRAPH_FORMATS = tuple(f for f in FORMATS if f.kind == "rdf")
DATASET_FORMATS = tuple(f for f in FORMATS if f.kind == "dataset")
RDF_FORMATS = GRAPH_FORMATS + DATASET_FORMATS


def by_name(name: str) -> Format | None:
    """The format called ``name`` (case-insensitive, common aliases such as ``ttl`` and ``nt`` accepted)."""
    key = name.strip().lower()
    return BY_NAME.get(ALIASES.get(key, key))


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q-values, best first; malformed parts are skipped."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    ranges = []
    for position, part in enumerate(header.split(",")):
        bits = [b.strip() for b in part.split(";")]
        media = bits[0].lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for param in bits[1:]:
            if param.lower().startswith("q="):
                try:
                    q = max(0.0, min(1.0, float(param[2:])))
                except ValueError:
                    q = 0.0
        # More specific ranges win ties (RFC 9110 §12.5.1); then the order the client wrote them in.
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        ranges.append((media, q, specificity, position))
    ranges.sort(key=lambda r: (-r[1], -r[2], r[3]))
    return [(m, q) for m, q, _, _ in ranges]


def _matches(media_range: str, fmt: Format) -> int:
    """How specifically ``media_range`` names ``fmt``: 2 exact, 1 type wildcard, 0 */*, -1 not at all."""
    types = (fmt.media_type,) + fmt.aliases
    if media_range in types:
        return 2
    if media_range == "*/*":
        return 0
    if media_range.endswith("/*") and fmt.media_type.startswith(media_range[:-1]):
        return 1
    return -1


def best_format(accept: str | None, offered: tuple[Format, ...] | list[Format]) -> Format | None:
    """The offered format the client prefers most, or None when it accepts none of them (→ 406).

    A format's q is that of the most specific range naming it; q=0 excludes it. Among equal q,
    the order of ``offered`` decides, so the server's preferred format comes first there.
    """
    return _best_format(accept, tuple(offered))


@lru_cache(maxsize=256)  # clients send the same few Accept headers, request after request
def _best_format(accept: str | None, offered: tuple[Format, ...]) -> Format | None:
    ranges = parse_accept(accept)
    best: tuple[float, int, Format] | None = None
    for index, fmt in enumerate(offered):
        q, level = None, -1
        for media, mq in ranges:
            m = _matches(media, fmt)
            if m > level:
                q, level = mq, m
        if q is None or q <= 0:
            continue
        candidate = (q, -index, fmt)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


# The one rule for prefixes in RDF output: the formats that can abbreviate IRIs get them.
_PREFIXED = (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML)


def prefix_args(fmt: ox.RdfFormat, prefixes: dict[str, str] | None = None) -> dict:
    """Keyword arguments for pyoxigraph's serialisers: ``prefixes`` (default: the project's) where usable."""
    return {"prefixes": PREFIXES if prefixes is None else prefixes} if fmt in _PREFIXED else {}


def serialize_rdf(items, fmt: Format, output=None, prefixes: dict[str, str] | None = None) -> bytes | None:
    """Triples or quads in ``fmt``: bytes, or written to ``output`` when given."""
    return ox.serialize(items, output, fmt.ox_rdf, **prefix_args(fmt.ox_rdf, prefixes))
