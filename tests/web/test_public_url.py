"""Absolute URLs the app writes (service description, VoID, query page, relative-IRI base) never come from an
untrusted Host header: public_url when set, else loopback or allow-listed hosts, else the bound address."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import VOID

SD_ENDPOINT = URIRef("http://www.w3.org/ns/sparql-service-description#endpoint")
BASE_QUERY = "SELECT ?x WHERE { BIND(<s> AS ?x) }"


def urls(client, host: str) -> str:
    """Everything absolute the app writes for a request with ``Host: host``, as one text."""
    headers = {"Host": host}
    sd = Graph().parse(data=client.get("/sparql", headers={**headers, "Accept": "text/turtle"}).data, format="turtle")
    void = Graph().parse(data=client.get("/.well-known/void", headers=headers).data, format="turtle")
    page = client.get("/sparql", headers={**headers, "Accept": "text/html"}).get_data(as_text=True)
    based = client.get("/sparql", query_string={"query": BASE_QUERY},
                       headers={**headers, "Accept": "text/csv"}).get_data(as_text=True)
    return " ".join([*map(str, sd.objects(None, SD_ENDPOINT)), *map(str, void.objects(None, VOID.sparqlEndpoint)),
                     *map(str, void.objects(None, VOID.dataDump)), page, based])


def test_an_untrusted_host_header_is_never_written(client):
    text = urls(client, "evil.example")
    assert "evil.example" not in text
    assert "http://localhost/sparql" in text  # the bound address instead


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "localhost:8080", "[::1]:5000"])
def test_loopback_hosts_are_honoured(client, host):
    assert f"http://{host}/sparql" in urls(client, host)


def test_allow_listed_hosts_are_honoured(make_app):
    client = make_app(allowed_hosts="kg.example.org, other.example").test_client()
    assert "http://kg.example.org/sparql" in urls(client, "kg.example.org")
    assert "evil.example" not in urls(client, "evil.example")


def test_public_url_is_used_for_every_absolute_url(make_app):
    client = make_app(public_url="https://kg.example.org/").test_client()
    text = urls(client, "evil.example")
    assert "evil.example" not in text and "http://localhost" not in text
    assert text.count("https://kg.example.org/sparql") >= 3
    assert "https://kg.example.org/export.ttl" in text and "https://kg.example.org/s" in text


def test_kgapp_serve_writes_its_bound_address_for_an_untrusted_host(tmp_path, store_path):
    import shutil
    import urllib.request

    from ports import free_port
    from processes import serve, stop_server, wait_ready

    root = tmp_path / "store"
    shutil.copytree(store_path, root, symlinks=True)
    port = free_port()
    process = serve(root, port)
    try:
        wait_ready(port, 30)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/sparql",
                                         headers={"Host": "evil.example", "Accept": "text/turtle"})
        with urllib.request.urlopen(request, timeout=10) as r:
            sd = Graph().parse(data=r.read(), format="turtle")
        assert [str(o) for o in sd.objects(None, SD_ENDPOINT)] == [f"http://127.0.0.1:{port}/sparql"]
    finally:
        stop_server(process)
