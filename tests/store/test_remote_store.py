"""The remote store without a real server: dataset rules, refusals, and 502/504 from a dead or sleeping stub."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from kgapp.errors import ProtocolError
from kgapp.store.remote.client import RemoteStoreError, RemoteTimeout, normalise_json
from kgapp.store.remote.dataset import check_forwardable, split_dataset
from kgapp.store.remote.graphs import MANIFEST_PROPERTY
from kgapp.store.remote.store import RemoteStore
from kgapp.store.spec import RemoteSpec
from kgapp.web import close_app, create_app

G = "https://w3id.org/kgapp/graph/"
MANIFEST = {"build": "stub", "graphs": {G + "a": 1, G + "b": 1}, "triples": 2, "base_iri": "https://w3id.org/kgapp/id/"}


class Stub(BaseHTTPRequestHandler):
    """Answers the manifest query at once and every other query after ``server.delay`` seconds."""

    def do_POST(self):
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.seen.append(form)
        if MANIFEST_PROPERTY in form["query"][0]:
            value = {"type": "literal", "value": json.dumps(MANIFEST)}
            body = json.dumps({"head": {"vars": ["json"]}, "results": {"bindings": [{"json": value}]}}).encode()
        else:
            time.sleep(self.server.delay)
            body = b'{"head": {}, "boolean": true}'
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # kgapp gave up waiting, as it should

    def log_message(self, *args):
        pass


@pytest.fixture()
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    server.delay, server.seen, server.daemon_threads = 0.0, [], True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def spec(server) -> RemoteSpec:
    return RemoteSpec(f"http://127.0.0.1:{server.server_port}/sparql", f"http://127.0.0.1:{server.server_port}/sparql")


def test_queries_carry_kgapp_graphs_only(stub):
    store = RemoteStore(spec(stub), timeout=5)
    assert store.named_graphs() == [G + "a", G + "b"] and store.triple_count == 2
    assert bool(store.query("ASK { GRAPH ?g { ?s ?p ?o } }"))
    sent = stub.seen[-1]
    assert sent["default-graph-uri"] == [G + "_kgapp/default"]
    assert sent["named-graph-uri"] == [G + "a", G + "b"]
    # A protocol dataset naming another tenant's graph gets the (never written) empty graph instead.
    store.query("ASK {}", default_graphs=["urn:other"], named_graphs=[G + "b", "urn:other"])
    assert stub.seen[-1]["default-graph-uri"] == [G + "_kgapp/none"]
    assert stub.seen[-1]["named-graph-uri"] == [G + "b"]
    # FROM clauses become protocol parameters (Virtuoso would add them to the protocol's dataset).
    store.query(f"PREFIX g: <{G}> ASK FROM g:a FROM NAMED <urn:other> {{ ?s ?p ?o }}")
    sent = stub.seen[-1]
    assert "FROM" not in sent["query"][0]
    assert sent["default-graph-uri"] == [G + "a"] and sent["named-graph-uri"] == [G + "_kgapp/none"]


@pytest.mark.parametrize("text, kgapp_graphs", [
    ("SELECT * { ?s ?p ?o }", (None, None)),
    ("BASE <https://w3id.org/kgapp/> SELECT * FROM <graph/a> FROM NAMED <graph/b> { ?s ?p ?o }",
     ([G + "a"], [G + "b"])),
    ("PREFIX k: <https://w3id.org/kgapp/graph/>\nSELECT * FROM NAMED k:b { GRAPH ?g { ?s ?p ?o } }", ([], [G + "b"])),
])
def test_split_dataset(text, kgapp_graphs):
    rest, defaults, named = split_dataset(text)
    assert (defaults, named) == kgapp_graphs
    assert "FROM" not in rest and "?s ?p ?o" in rest


@pytest.mark.parametrize("text, status", [
    ('SELECT (<bif:sys_stat>("st_dbms_ver") AS ?v) {}', 400),
    ('PREFIX x: <SQL:> SELECT (x:DB.DBA.USERS() AS ?v) {}', 400),
    ('SELECT (<\\u0062if:http_get>("http://example.org/") AS ?v) {}', 400),
    ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", 400),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", 403),
])
def test_refused_before_forwarding(text, status):
    with pytest.raises(ProtocolError) as e:
        check_forwardable(text)
    assert e.value.status == status


def test_malformed_queries_fail_as_on_the_embedded_store():
    with pytest.raises(SyntaxError):
        check_forwardable("SELECT * WHERE { ?s ?p }")
    assert check_forwardable("CONSTRUCT WHERE { ?s ?p ?o }") is True
    assert check_forwardable("ASK { ?s ?p ?o }") is False


def test_virtuoso_terms_are_normalised():
    body = json.dumps({"head": {"vars": ["b", "t"]}, "results": {"bindings": [{
        "b": {"type": "bnode", "value": "nodeID://b10002"},
        "t": {"type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#boolean", "value": "1"}}]}})
    row = json.loads(normalise_json(body.encode()))["results"]["bindings"][0]
    assert row["b"]["value"] == "b10002" and row["t"]["value"] == "true"


def test_slow_server_is_504_and_dead_server_is_502(stub):
    app = create_app({"store": f"sparql:{spec(stub).query_url}", "testing": True})
    try:
        app.extensions["kgapp.serving"].current.store.client.timeout = 0.5  # the stub sleeps longer than this
        client = app.test_client()
        stub.delay = 3.0
        started = time.monotonic()
        response = client.get("/sparql", query_string={"query": "ASK {}"})
        assert response.status_code == 504 and time.monotonic() - started < 2.5
        assert response.mimetype == "text/plain" and "did not answer within 0.5 s" in response.get_data(as_text=True)
        stub.shutdown()
        stub.server_close()
        response = client.get("/sparql", query_string={"query": "ASK {}"})
        assert response.status_code == 502
        assert "cannot reach the SPARQL server" in response.get_data(as_text=True)
    finally:
        close_app(app)


def test_store_level_errors_carry_their_http_status(stub):
    store = RemoteStore(spec(stub), timeout=0.3)
    stub.delay = 2.0
    with pytest.raises(RemoteTimeout) as e:
        store.query("ASK {}")
    assert e.value.status == 504 and isinstance(e.value, RemoteStoreError)


def test_a_swap_too_big_for_one_request_goes_graph_by_graph():
    from kgapp.store.remote.build import _swap
    from kgapp.store.remote.client import RemoteQueryError

    class Client:
        sent: list[str] = []

        def update(self, text):
            if " ;\n" in text:
                raise RemoteQueryError("Transaction aborted because its log after image size went above the limit")
            self.sent.append(text)

    said = []
    _swap(Client(), ["MOVE <a> TO <b>", "DROP SILENT GRAPH <c>", "INSERT DATA { <m> <p> 1 }"], said.append)
    assert Client.sent == ["MOVE <a> TO <b>", "DROP SILENT GRAPH <c>", "INSERT DATA { <m> <p> 1 }"]
    assert "graph by graph" in said[0] and "TransactionAfterImageLimit" in said[0]
