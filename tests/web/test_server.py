"""`kgapp serve` on each HTTP server it offers: granian (default) and waitress answer alike and stop cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ports import free_port
from processes import descendants, serve, stop_server, wait_ready

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (not gone, not a zombie)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _rows(port: int, query: str) -> int:
    """The number of rows in the endpoint's JSON answer to ``query`` (raises on any status but 200)."""
    with urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/sparql?query={urllib.parse.quote(query)}",
            headers={"Accept": "application/sparql-results+json"}), timeout=30) as r:
        return len(json.loads(r.read())["results"]["bindings"])


def _ignoring_sigint() -> None:  # how a shell starts a background job: SIGINT ignored, inherited by the server
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("server, stop", [("granian", signal.SIGINT), ("waitress", signal.SIGINT),
                                          ("granian", signal.SIGTERM), ("waitress", signal.SIGTERM)])
def test_each_server_answers_the_endpoint_and_stops_with_its_workers(store_copy, server, stop):
    port = free_port()
    process = serve(store_copy, port, preexec_fn=_ignoring_sigint, server=server)
    try:
        ready = wait_ready(port, 60)
        assert ready["status"] == "ready"
        url = f"http://127.0.0.1:{port}/sparql?query={urllib.parse.quote(COUNT)}"
        with urllib.request.urlopen(urllib.request.Request(
                url, headers={"Accept": "application/sparql-results+json"}), timeout=30) as r:
            assert r.status == 200
            count = json.loads(r.read())["results"]["bindings"][0]["n"]["value"]
        assert int(count) == ready["triples"]
        # a query that goes to a worker process (not a bounded lookup) also answers
        heavy = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sparql?query={urllib.parse.quote(heavy)}",
                                    timeout=30) as r:
            assert r.status == 200
        # answers longer than a pipe holds, from a worker awaited on the event loop, several at once
        wide = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 3000"
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: _rows(port, wide), range(12)))
        assert answers == [min(3000, ready["triples"])] * 12
        children = set(descendants(process.pid)) - {process.pid}
        assert children  # at least a query worker (and granian's HTTP worker)
        process.send_signal(stop)  # as Ctrl+C, or a supervisor stopping it
        err = process.communicate(timeout=30)[1].decode()
    finally:
        if process.returncode is None:
            stop_server(process)
    assert f"with {server}" in err
    assert "Traceback" not in err
    deadline = time.monotonic() + 10  # workers orphaned by the server's exit end on their own, shortly
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(children) == set()  # nothing left behind


def test_an_unknown_server_setting_is_one_line_not_a_traceback(store_copy):
    env = {**os.environ, "KGAPP_SERVER": "gunicorn"}
    done = subprocess.run([sys.executable, "-m", "kgapp", "serve", "--port", str(free_port()),
                           "--store", str(store_copy)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "server must be granian or waitress" in done.stderr
    assert "Traceback" not in done.stderr
