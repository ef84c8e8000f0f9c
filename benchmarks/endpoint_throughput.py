"""Endpoint throughput: kgapp vs. rdflib-endpoint (default and Oxigraph stores), Virtuoso and a bare
WSGI "hello" route (the HTTP floor), on the same user-like query mix, side by side in one run.

Usage: python benchmarks/endpoint_throughput.py [--codes 800,8000] [--clients 8] [--seconds 10]

For each size it synthesises data (800 codes ≈ 70k triples, 8,000 ≈ 700k), builds kgapp's store,
exports the same triples for the peers, starts every server on 127.0.0.1, checks they give the
same number of rows for each query, and drives each with wrk (Debian package, installed if
missing) for a fixed time with a Lua script cycling through the mix. Peers are installed by the
script itself: rdflib-endpoint into a private venv from PyPI, Virtuoso from Debian. Everything is
loopback-only and bounded in time; servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from ports import free_port  # noqa: E402  (the test suite's helper)

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(tempfile.gettempdir()) / "kgapp-bench-rdflib-endpoint"
PREFIX = ("PREFIX kg: <https://w3id.org/kgapp/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
          "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")
CPT = "https://w3id.org/kgapp/id/code/cpt/"


def mix(notations: list[str], kind: str = "all") -> list[tuple[str, str]]:
    """(query, Accept) pairs: lookups, codes by nerve, counts per type, modifiers+payers, CONSTRUCT."""
    rng = random.Random(1)
    json_ = "application/sparql-results+json"
    out = []
    for n in rng.sample(notations, min(40, len(notations))):
        lookup = (PREFIX + f'SELECT ?c ?label WHERE {{ ?c skos:notation "{n}" ; skos:prefLabel ?label }}', json_)
        if kind == "lookup":
            out.append(lookup)
            continue
        out += [
            lookup,
            (PREFIX + "SELECT ?c WHERE { ?c kg:donorNerve <https://w3id.org/kgapp/id/nerve/hypoglossal> }", json_),
            (PREFIX + "SELECT ?t (COUNT(?c) AS ?n) WHERE { ?c kg:hasProcedureType ?t } GROUP BY ?t", json_),
            (PREFIX + f"SELECT ?what ?x WHERE {{ {{ <{CPT}{n}> kg:hasModifierGuidance/kg:modifier/skos:notation ?x "
                      f'BIND("modifier" AS ?what) }} UNION {{ <{CPT}{n}> kg:hasPayerPolicy/kg:payer/rdfs:label ?x '
                      f'BIND("payer" AS ?what) }} }}', json_),
            (f"CONSTRUCT {{ <{CPT}{n}> ?p ?o }} WHERE {{ <{CPT}{n}> ?p ?o }}", "application/n-triples"),
        ]
    return out


# -- servers -----------------------------------------------------------------------------------

def wait_http(url: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


class Server:
    def __init__(self, name: str, argv: list[str], url: str, ready: str, extra: str = "", cwd=None, env=None):
        self.name, self.url, self.extra = name, url, extra
        started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd,
                                     env=env, start_new_session=True)
        wait_http(ready)
        self.startup = time.perf_counter() - started  # process start to first answer

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)


HELLO = """
from waitress import serve
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")]); return [b"hello"]
serve(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), threads=8, ident="hello")
"""


def ensure_rdflib_endpoint() -> Path:
    exe = VENV / "bin" / "rdflib-endpoint"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "rdflib-endpoint[cli,oxigraph]"], check=True)
    return exe


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk")


def start_virtuoso(nt: Path, work: Path):
    """A throwaway Virtuoso with the triples bulk-loaded into one graph; None if it cannot be had here."""
    if not shutil.which("virtuoso-t"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "virtuoso-opensource"], capture_output=True)
    try:
        from virtuoso import Virtuoso  # the test suite's throwaway-server helper
    except ImportError:
        return None
    server = Virtuoso(work, buffers=340_000)  # ~2.6 GB of buffers: its recommended size for this data
    server.__enter__()
    graph = "https://w3id.org/kgapp/bench"
    shutil.copy(nt, work / "all.nt")  # its bulk loader reads only from DirsAllowed
    server.isql(f"ld_dir('{work}', 'all.nt', '{graph}');\nrdf_loader_run();\ncheckpoint;\n")
    return server, graph


# -- load ----------------------------------------------------------------------------------------

LUA = """
local paths = {%s}
local accepts = {%s}
local i = 0
request = function()
  i = (i %% #paths) + 1
  return wrk.format("GET", paths[i], {["Accept"] = accepts[i]})
end
"""


def wrk_run(wrk: str, base: str, paths: list[str], accepts: list[str], clients: int, seconds: int, work: Path) -> dict:
    script = work / "mix.lua"
    script.write_text(LUA % (", ".join(json.dumps(p) for p in paths), ", ".join(json.dumps(a) for a in accepts)))
    out = subprocess.run([wrk, "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script), base],
                         check=True, capture_output=True, text=True, timeout=seconds + 60).stdout

    def latency(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": latency("50"), "p99": latency("99"), "errors": int(errors.group(1)) if errors else 0}


def rows(url: str, query: str, accept: str, extra: str) -> int:
    req = urllib.request.Request(f"{url}?{extra}query={urllib.parse.quote(query)}", headers={"Accept": accept})
    body = urllib.request.urlopen(req, timeout=120).read()
    if accept.endswith("json"):
        return len(json.loads(body)["results"]["bindings"])
    return len([line for line in body.splitlines() if line.strip()])


def bench_size(codes: int, args, wrk: str, work: Path) -> list[dict]:
    data, store, nt = work / "data", work / "store", work / "all.nt"
    subprocess.run([sys.executable, "-m", "kgapp", "synth", "--codes", str(codes), "--out", str(data)],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "kgapp", "build", "--data", str(data), "--store", str(store)],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "kgapp", "export", "--store", str(store), "--format", "ntriples",
                    "--inferred", "-o", str(nt)], check=True, capture_output=True)
    triples = sum(1 for _ in open(nt, "rb"))
    notations = [f"{10000 + i}" for i in range(codes)]
    servers: list[Server] = []
    results = []
    try:
        port = free_port()
        servers.append(Server("hello (HTTP floor)", [sys.executable, "-c", HELLO, str(port)],
                              f"http://127.0.0.1:{port}/hello", f"http://127.0.0.1:{port}/"))
        port = free_port()
        servers.append(Server("kgapp", [sys.executable, "-m", "kgapp", "serve", "--store", str(store), "--port",
                                        str(port), "--threads", "8"], f"http://127.0.0.1:{port}/sparql",
                              f"http://127.0.0.1:{port}/healthz"))
        exe = ensure_rdflib_endpoint()
        for store_name in ("default", "Oxigraph"):
            port = free_port()
            servers.append(Server(f"rdflib-endpoint ({store_name} store)",
                                  [str(exe), "serve", str(nt), "--host", "127.0.0.1", "--port", str(port),
                                   "--store", store_name], f"http://127.0.0.1:{port}/",  # it serves SPARQL at /
                                  f"http://127.0.0.1:{port}/?query=ASK%7B%7D", cwd=work))
        virtuoso = start_virtuoso(nt, work / "virtuoso")
        if virtuoso:
            server, graph = virtuoso
            results_extra = "default-graph-uri=" + urllib.parse.quote(graph) + "&"
            servers.append(type("V", (), {"name": "Virtuoso 7 (Debian)", "url": server.url + "/sparql",
                                          "extra": results_extra, "stop": server.stop, "startup": None})())
        for label, kind in (("mix", "all"), ("lookups", "lookup")):
            queries = mix(notations, kind)
            expected = None
            for s in servers:
                if s.name.startswith("hello"):
                    paths, accepts = ["/hello"], ["*/*"]
                else:
                    counts = [rows(s.url, q, a, s.extra) for q, a in queries[:10]]
                    expected = expected or counts
                    if counts != expected:
                        print(f"warning: {s.name} answers differ: {counts} vs {expected}", file=sys.stderr)
                    path = urllib.parse.urlparse(s.url).path
                    paths = [f"{path}?{s.extra}query={urllib.parse.quote(q)}" for q, _ in queries]
                    accepts = [a for _, a in queries]
                base = "/".join(s.url.split("/")[:3])
                print(f"{codes} codes, {label}: {s.name} …", file=sys.stderr, flush=True)
                r = wrk_run(wrk, base, paths, accepts, args.clients, args.seconds, work)
                results.append({"codes": codes, "triples": triples, "mix": label, "server": s.name,
                                "startup": s.startup, **r})
    finally:
        for s in servers:
            s.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", default="800,8000")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    wrk = ensure_wrk()
    results = []
    for codes in (int(c) for c in args.codes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            results += bench_size(codes, args, wrk, Path(tmp))
    print(f"\n## Endpoint throughput ({args.clients} clients, {args.seconds} s each, {time.strftime('%Y-%m-%d')})\n")
    print("| triples | mix | server | req/s | p50 ms | p99 ms | non-2xx | vs kgapp (req/s) | ready after s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        kg = next(x for x in results if x["codes"] == r["codes"] and x["mix"] == r["mix"] and x["server"] == "kgapp")
        print(f"| {r['triples']:,} | {r['mix']} | {r['server']} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} "
              f"| {r['errors']} | {r['rps'] / kg['rps']:.2f} | "
              + (f"{r['startup']:.1f} |" if r["startup"] is not None else "– |"))


if __name__ == "__main__":
    main()
