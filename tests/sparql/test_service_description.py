"""GET /sparql without a query: the Service Description for tools, the query page for browsers."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, VOID

from kgapp.formats import DATASET_FORMATS, GRAPH_FORMATS, RESULT_FORMATS
from kgapp.namespaces import SD, sparql_prologue
from kgapp.queries import load_queries

FORMATS_NS = Namespace("http://www.w3.org/ns/formats/")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
RDFLIB = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "trig": "trig",
          "nquads": "nquads"}


def description(client, accept: str | None = "text/turtle", **params) -> Graph:
    r = client.get("/sparql", query_string=params, headers={"Accept": accept} if accept is not None else {})
    assert r.status_code == 200, r.data
    assert r.headers["Content-Type"] == "text/turtle; charset=utf-8"
    return Graph().parse(data=r.data, format="turtle")


@pytest.mark.parametrize("accept", [None, "*/*", "text/turtle", "application/x-turtle", "text/*"])
def test_tools_get_the_description_in_turtle(client, accept):
    graph = description(client, accept)
    service = graph.value(predicate=RDF.type, object=SD.Service)
    assert service is not None
    assert graph.value(service, SD.endpoint) == URIRef("http://localhost/sparql")
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    assert (service, RDFS.seeAlso, URIRef("http://localhost/.well-known/void")) in graph


def test_description_lists_formats_and_graphs(client, store):
    graph = description(client)
    service = graph.value(predicate=RDF.type, object=SD.Service)
    formats = set(graph.objects(service, SD.resultFormat))
    assert {FORMATS_NS.SPARQL_Results_JSON, FORMATS_NS.SPARQL_Results_XML, FORMATS_NS.SPARQL_Results_CSV,
            FORMATS_NS.SPARQL_Results_TSV, FORMATS_NS.Turtle, FORMATS_NS["N-Triples"], FORMATS_NS["JSON-LD"],
            FORMATS_NS.RDF_XML, FORMATS_NS.TriG, FORMATS_NS["N-Quads"]} == formats
    assert len(formats) == len(RESULT_FORMATS + GRAPH_FORMATS + DATASET_FORMATS)

    dataset = graph.value(service, SD.defaultDataset)
    assert (dataset, RDF.type, SD.Dataset) in graph
    default = graph.value(dataset, SD.defaultGraph)
    assert graph.value(default, VOID.triples) == Literal(store.triple_count)
    names = {str(graph.value(ng, SD.name)) for ng in graph.objects(dataset, SD.namedGraph)}
    assert names == set(store.named_graphs())
    seed = next(ng for ng in graph.objects(dataset, SD.namedGraph)
                if str(graph.value(ng, SD.name)).endswith("/seed-000-64868"))
    assert graph.value(graph.value(seed, SD.graph), VOID.triples) == Literal(
        store.manifest["graphs"]["https://w3id.org/kgapp/graph/seed-000-64868"])


@pytest.mark.parametrize("fmt", GRAPH_FORMATS + DATASET_FORMATS, ids=lambda f: f.name)
def test_description_in_every_rdf_format(client, fmt):
    r = client.get("/sparql", headers={"Accept": fmt.media_type})
    assert r.status_code == 200 and r.headers["Content-Type"] == fmt.content_type
    parsed = Dataset()
    parsed.parse(data=r.data, format=RDFLIB[fmt.name])
    graph = Graph()
    for s, p, o, _ in parsed.quads():
        graph.add((s, p, o))
    assert isomorphic(graph, description(client))
    assert client.get("/sparql", query_string={"format": fmt.name}).headers["Content-Type"] == fmt.content_type


def test_description_not_in_results_formats(client):
    # A description is a graph: asked for SPARQL results only, it comes in its default format, Turtle.
    r = client.get("/sparql", headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"


# -- the query page ------------------------------------------------------------------------------------

class InlineCode(HTMLParser):
    """Collects what a `script-src 'self'` policy would block: inline scripts, handlers, style attributes."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script":
            if names.get("src"):
                self.scripts.append(names["src"])
            else:
                self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name.startswith("on") or name == "style" or (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=…>")


def test_browsers_get_the_query_page(client):
    r = client.get("/sparql", headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Accept" in r.headers["Vary"]
    html = r.get_data(as_text=True)
    assert sparql_prologue().splitlines()[0].replace("<", "&lt;").replace(">", "&gt;") in html
    for q in load_queries():
        assert f'value="{q.slug}"' in html
    assert "Which codes are nerve reconstructions" in html
    checker = InlineCode()
    checker.feed(html)
    assert checker.problems == []
    assert "/static/query.js" in checker.scripts


def test_page_static_files(client):
    for name, kind in (("query.js", "javascript"), ("query.css", "text/css")):
        with client.get(f"/static/{name}") as r:
            assert r.status_code == 200 and kind in r.headers["Content-Type"]


def test_permalink_prefills_the_editor_escaped(client):
    text = "ASK { ?s ?p '</textarea><script>alert(1)</script>' }"
    html = client.get("/sparql", query_string={"qtext": text}, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert 'data-autorun="yes"' in html
