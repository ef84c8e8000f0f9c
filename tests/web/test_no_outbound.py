"""No request makes kgapp open a connection: every way a query or page can name a remote IRI, aimed at a
loopback listener that records any connection."""

from __future__ import annotations

import socket
import threading
import time

import pytest


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture()
def listener():
    server = Listener()
    yield server
    server.close()


def shapes(base: str) -> list[tuple[str, dict, int]]:
    """(query, extra protocol parameters, expected status) for every shape that names ``base``."""
    g = f"<{base}/graph>"
    return [
        (f"SELECT * WHERE {{ SERVICE <{base}/sparql> {{ ?s ?p ?o }} }}", {}, 400),
        (f"SELECT * WHERE {{ SERVICE SILENT <{base}/sparql> {{ ?s ?p ?o }} }}", {}, 400),
        (f"SELECT * WHERE {{ VALUES ?e {{ <{base}/sparql> }} SERVICE ?e {{ ?s ?p ?o }} }}", {}, 400),
        (f"SELECT * FROM {g} WHERE {{ ?s ?p ?o }}", {}, 200),
        (f"SELECT * FROM NAMED {g} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}, 200),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", {"default-graph-uri": f"{base}/graph"}, 200),
        ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": f"{base}/graph"}, 200),
        (f"SELECT * WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}", {}, 200),
        (f"SELECT * WHERE {{ VALUES ?g {{ {g} }} GRAPH ?g {{ ?s ?p ?o }} }}", {}, 200),
        (f"DESCRIBE {g}", {}, 200),
        (f"CONSTRUCT {{ ?s ?p ?o }} FROM {g} WHERE {{ ?s ?p ?o }}", {}, 200),
        (f"ASK {{ <{base}/x> ?p ?o }}", {}, 200),
        (f"LOAD {g}", {}, 403),
        (f"LOAD SILENT <{base}/data.ttl> INTO GRAPH <http://example.org/g>", {}, 403),
        (f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE {g} {{ ?s ?p ?o }} }}", {}, 403),
    ]


def test_no_query_shape_connects_anywhere(client, listener):
    base = f"http://127.0.0.1:{listener.port}"
    for query, params, status in shapes(base):
        for send in (lambda: client.get("/sparql", query_string={"query": query, **params}),
                     lambda: client.post("/sparql", data={"query": query, **params})):
            assert send().status_code == status, query
    for update in (f"LOAD <{base}/data.ttl>", f"LOAD <{base}/data.ttl> INTO GRAPH <{base}/g>"):
        assert client.post("/sparql", data={"update": update}).status_code == 403
        assert client.post("/sparql", data=update, content_type="application/sparql-update").status_code == 403
    time.sleep(0.5)  # a late connection would still be counted
    assert listener.connections == 0


def test_pages_never_dereference_iris(client, listener):
    base = f"http://127.0.0.1:{listener.port}"
    for url in (f"/resource?iri={base}/x", f"/resource.ttl?iri={base}/x", f"/search?q={base}/x",
                f"/sparql?qtext=SELECT * FROM <{base}/g> WHERE {{ ?s ?p ?o }}"):
        assert client.get(url).status_code in (200, 404)
    time.sleep(0.5)
    assert listener.connections == 0


def test_the_listener_would_see_a_connection(listener):
    """The control: the fixture does count a real connection, so zero above means none was made."""
    socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
    deadline = time.monotonic() + 5
    while listener.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert listener.connections == 1
