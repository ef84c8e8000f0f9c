"""A SPARQL 1.1 Protocol client on the standard library: time-limited POSTs, basic/digest auth, answers as pyoxigraph objects."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pyoxigraph as ox

from kgapp.store.base import StoreError
from kgapp.store.spec import RemoteSpec

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
CHUNK = 64 * 1024
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_BNODE_ID = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?$")


class RemoteStoreError(StoreError):
    """The SPARQL server is unreachable or misbehaves: 502 wherever it surfaces."""

    status = 502


class RemoteTimeout(RemoteStoreError):
    """The SPARQL server did not answer within the time limit: 504."""

    status = 504


class RemoteQueryError(StoreError):
    """The server refused or failed a well-formed query: 400 with its message."""

    status = 400


class SparqlClient:
    """POSTs to one server's query and update URLs; one urllib opener per thread (digest auth keeps state)."""

    def __init__(self, spec: RemoteSpec, timeout: float):
        self.spec = spec
        self.timeout = timeout
        self._local = threading.local()

    def _opener(self) -> urllib.request.OpenerDirector:
        opener = getattr(self._local, "opener", None)
        if opener is None:
            handlers: list[urllib.request.BaseHandler] = []
            creds = self.spec.credentials()
            if creds:
                passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
                for url in {self.spec.query_url, self.spec.update_url}:
                    passwords.add_password(None, url, *creds)
                handlers = [urllib.request.HTTPBasicAuthHandler(passwords),
                            urllib.request.HTTPDigestAuthHandler(passwords)]
            opener = self._local.opener = urllib.request.build_opener(*handlers)
        return opener

    def post(self, url: str, params: list[tuple[str, str]], accept: str, timeout: float | None = None
             ) -> tuple[bytes, str]:
        """The body and media type of a form POST, read within ``timeout`` seconds in total."""
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        request = urllib.request.Request(url, data=urlencode(params).encode("utf-8"), method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
        try:
            with self._opener().open(request, timeout=limit) as response:
                if response.headers.get("X-SQL-State") == "S1TAT":
                    # Virtuoso's "anytime query": a 200 with partial results when its own limit hits.
                    raise RemoteTimeout(f"{url} stopped the query at its own time limit (partial results)")
                chunks = []
                while chunk := response.read(CHUNK):
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise TimeoutError
                media = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                return b"".join(chunks), media
        except urllib.error.HTTPError as e:
            raise _http_error(url, e) from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError):
                raise RemoteTimeout(f"{url} did not answer within {limit:g} s") from None
            raise RemoteStoreError(f"cannot reach the SPARQL server at {url}: {e.reason}") from None
        except TimeoutError:
            raise RemoteTimeout(f"{url} did not answer within {limit:g} s") from None
        except (http.client.HTTPException, ConnectionError) as e:
            raise RemoteStoreError(f"the SPARQL server at {url} broke off the answer: {e!r}") from None

    def query(self, text: str, params: list[tuple[str, str]], graph: bool
              ) -> ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]:
        """SELECT/ASK as QuerySolutions/QueryBoolean; CONSTRUCT/DESCRIBE (``graph``) as a list of Triples."""
        body, media = self.post(self.spec.query_url, [("query", text), *params], N_TRIPLES if graph else RESULTS_JSON)
        try:
            if graph:
                rdf_format = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.N_TRIPLES
                return [q.triple for q in ox.parse(body, rdf_format)]
            results_format = ox.QueryResultsFormat.from_media_type(media) or ox.QueryResultsFormat.JSON
            if results_format == ox.QueryResultsFormat.JSON:
                body = normalise_json(body)
            return ox.parse_query_results(body, results_format)
        except SyntaxError as e:
            raise RemoteStoreError(f"the SPARQL server sent an answer kgapp cannot read ({media}): {e}") from None

    def update(self, text: str, timeout: float | None = None) -> None:
        self.post(self.spec.update_url, [("update", text)], "*/*", timeout)


def _http_error(url: str, e: urllib.error.HTTPError) -> Exception:
    message = e.read(2000).decode("utf-8", "replace").strip().splitlines()
    detail = message[0] if message else e.reason
    e.close()
    if e.code in (401, 403):
        return RemoteStoreError(f"the SPARQL server at {url} refused kgapp (HTTP {e.code}); "
                                f"check KGAPP_STORE_USER and KGAPP_STORE_PASSWORD")
    if e.code == 504:
        return RemoteTimeout(f"{url} timed out (HTTP 504): {detail}")
    if e.code in (400, 500):  # Virtuoso reports SQL-level evaluation errors as 500
        return RemoteQueryError(f"the SPARQL server refused the query: {detail}")
    return RemoteStoreError(f"the SPARQL server at {url} answered HTTP {e.code}: {detail}")


def normalise_json(body: bytes) -> bytes:
    """Make a server's JSON results readable by Oxigraph and equal to what the embedded store says.

    Virtuoso names blank nodes ``nodeID://b123`` (not a valid blank node label) and writes booleans
    as ``1``/``0``; the fix is deterministic, so a blank node keeps its label across queries.
    """
    if b'"bnode"' not in body and XSD_BOOLEAN.encode() not in body:
        return body
    doc = json.loads(body)
    for row in doc.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "bnode":
                term["value"] = _bnode_label(term["value"])
            elif term.get("datatype") == XSD_BOOLEAN and term.get("value") in ("1", "0"):
                term["value"] = "true" if term["value"] == "1" else "false"
    return json.dumps(doc).encode("utf-8")


def _bnode_label(value: str) -> str:
    label = value.removeprefix("nodeID://")
    if _BNODE_ID.match(label):
        return label
    return "x" + hashlib.sha256(value.encode()).hexdigest()[:24]
