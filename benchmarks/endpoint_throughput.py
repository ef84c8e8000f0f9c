"""Endpoint throughput: kgapp vs. rdflib-endpoint (default and Oxigraph stores), Virtuoso and a bare
WSGI "hello" route (the HTTP floor), on the same user-like query mix, side by side in one run.

Usage: python benchmarks/endpoint_throughput.py [--codes 800,8000] [--clients 8] [--seconds 10]
       [--query-seconds 4] [--baseline DIR] [--runs mix,lookups,queries,pages,wide] [--rounds N]
       [--store PATH --no-peers]

For each size it synthesises data (800 codes ≈ 70k triples, 8,000 ≈ 700k), builds kgapp's store,
exports the same triples for the peers, starts every server on 127.0.0.1, checks they give the
same number of rows for each query, and drives each with wrk (Debian package, installed if
missing) for a fixed time with a Lua script cycling through the mix; every query that names a code
gets a different code, drawn at random, on every request (so repeated answers are no shortcut). Peers are installed by the
script itself: rdflib-endpoint into a private venv from PyPI, Virtuoso from Debian. Everything is
loopback-only and bounded in time; servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
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


CODE = "{code}"  # replaced by the Lua script with a code drawn at random for every request
JSON_ = "application/sparql-results+json"
# (name, query, Accept): every query naming CODE gets another code on every request.
QUERIES = [
    ("lookup", PREFIX + f'SELECT ?c ?label WHERE {{ ?c skos:notation "{CODE}" ; skos:prefLabel ?label }}', JSON_),
    ("by nerve", PREFIX + "SELECT ?c WHERE { ?c kg:donorNerve <https://w3id.org/kgapp/id/nerve/hypoglossal> }",
     JSON_),
    ("group by", PREFIX + "SELECT ?t (COUNT(?c) AS ?n) WHERE { ?c kg:hasProcedureType ?t } GROUP BY ?t", JSON_),
    ("group by join", PREFIX + "SELECT ?t (COUNT(?c) AS ?n) WHERE { ?c a kg:ProcedureCode ; kg:hasProcedureType ?t ; "
     "skos:notation ?code } GROUP BY ?t ORDER BY DESC(?n)", JSON_),
    ("modifiers+payers", PREFIX + f"SELECT ?what ?x WHERE {{ {{ <{CPT}{CODE}> kg:hasModifierGuidance/kg:modifier/"
     f'skos:notation ?x BIND("modifier" AS ?what) }} UNION {{ <{CPT}{CODE}> kg:hasPayerPolicy/kg:payer/rdfs:label ?x '
     f'BIND("payer" AS ?what) }} }}', JSON_),
    ("construct", f"CONSTRUCT {{ <{CPT}{CODE}> ?p ?o }} WHERE {{ <{CPT}{CODE}> ?p ?o }}", "application/n-triples"),
    ("order by+limit", PREFIX + "SELECT ?c ?n ?label WHERE { ?c a kg:ProcedureCode ; skos:notation ?n ; "
     "skos:prefLabel ?label } ORDER BY DESC(?label) ?n LIMIT 20", JSON_),
]


# --runs wide: lookups while one more client asks this bounded but wide star back to back (every code with its
# label), the case that showed a lean path holding its lane through a long answer (benchmarks/README.md).
WIDE_LABEL = "lookups beside a wide star"
WIDE = PREFIX + "SELECT ?c ?label WHERE { ?c a kg:ProcedureCode ; skos:prefLabel ?label }"


def mix(kind: str = "all") -> list[tuple[str, str]]:
    """(query template, Accept) pairs of one mix: all queries, only lookups, or one query by name."""
    if kind == "all":
        return [(q, a) for _, q, a in QUERIES]
    return [(q, a) for name, q, a in QUERIES if name == kind or (kind == "lookups" and name == "lookup")]


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
import sys
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")]); return [b"hello"]
if __name__ == "__main__" and sys.argv[2] == "waitress":
    from waitress import serve
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, ident="hello")
elif __name__ == "__main__":  # granian as `kgapp serve` runs it: one worker process, 8 Python threads
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server
    Server("hello_app:app", address="127.0.0.1", port=int(sys.argv[1]), interface=Interfaces.WSGI, workers=1,
           blocking_threads=8, log_level=LogLevels.error).serve()
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
local codes = {%s}
local i = 0
init = function(args)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
end
request = function()
  i = (i %% #paths) + 1
  local code = codes[math.random(#codes)]
  return wrk.format("GET", (paths[i]:gsub("%%%%7Bcode%%%%7D", code)), {["Accept"] = accepts[i]})
end
"""


def wrk_run(wrk: str, base: str, paths: list[str], accepts: list[str], clients: int, seconds: int, work: Path,
            codes: list[str]) -> dict:
    """wrk over ``paths`` in turn; ``{code}`` in a path (URL-encoded) becomes a random code on every request."""
    script = work / "mix.lua"
    script.write_text(LUA % (", ".join(json.dumps(p) for p in paths), ", ".join(json.dumps(a) for a in accepts),
                             ", ".join(json.dumps(c) for c in codes)))
    done = subprocess.run([wrk, "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script), base],
                          capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed on {base}: {done.stdout[-500:]} {done.stderr[-500:]}")
    out = done.stdout

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
    data, store, nt = work / "data", Path(args.store) if args.store else work / "store", work / "all.nt"
    if not args.store:
        subprocess.run([sys.executable, "-m", "kgapp", "synth", "--codes", str(codes), "--out", str(data)],
                       check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "kgapp", "build", "--data", str(data), "--store", str(store)],
                       check=True, capture_output=True)
    if args.peers:
        subprocess.run([sys.executable, "-m", "kgapp", "export", "--store", str(store), "--format", "ntriples",
                        "--inferred", "-o", str(nt)], check=True, capture_output=True)
        triples = sum(1 for _ in open(nt, "rb"))
    else:
        out = subprocess.run([sys.executable, "-m", "kgapp", "query", "--store", str(store), "--format", "csv",
                              "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"], check=True, capture_output=True, text=True)
        triples = int(out.stdout.split()[-1])
    notations = [f"{10000 + i}" for i in range(codes)]
    servers: list[Server] = []
    results = []
    try:
        (work / "hello_app.py").write_text(HELLO)
        for http in ("granian", "waitress"):
            port = free_port()
            servers.append(Server(f"hello (HTTP floor, {http})", [sys.executable, "hello_app.py", str(port), http],
                                  f"http://127.0.0.1:{port}/hello", f"http://127.0.0.1:{port}/", cwd=work))
        # All wrk connections come from 127.0.0.1, one client to kgapp's fairness: its per-client limit is
        # set to the slot count and its extra queries are not sent to the low-priority (SCHED_IDLE) pool,
        # so the peers are compared on the same 8 concurrent queries from what stands for 8 users.
        kg_env = {**os.environ, "KGAPP_MAX_QUERIES_PER_CLIENT": "8", "KGAPP_LOW_PRIORITY_NICE": "0"}
        off = {"KGAPP_RESULT_CACHE": "false", "KGAPP_PAGE_CACHE": "false"}
        # The cache-on server renders the build's pages ahead (kgapp.web.prerender) only when they are measured,
        # and then before any run: a start's one-off background work is not what the other runs measure.
        ahead = {"KGAPP_PRERENDER_PAGES": "true" if "pages" in args.runs.split(",") else "false"}
        variants = [("kgapp (cache off)", off), ("kgapp (cache on)", ahead),
                    ("kgapp (cache off, waitress)", {**off, "KGAPP_SERVER": "waitress"})]
        if args.baseline:
            variants.append(("kgapp before (cache off)", {**off, "PYTHONPATH": args.baseline}))
        for name, extra_env in variants:
            port = free_port()
            # `python -m` puts the working directory first on sys.path: run each kgapp in its own checkout
            servers.append(Server(name, [sys.executable, "-m", "kgapp", "serve", "--store", str(store), "--port",
                                         str(port), "--threads", "8"], f"http://127.0.0.1:{port}/sparql",
                                  f"http://127.0.0.1:{port}/healthz", env={**kg_env, **extra_env},
                                  cwd=extra_env.get("PYTHONPATH", str(ROOT))))
        exe = ensure_rdflib_endpoint() if args.peers else None
        for store_name in ("default", "Oxigraph") if args.peers else ():
            port = free_port()
            servers.append(Server(f"rdflib-endpoint ({store_name} store)",
                                  [str(exe), "serve", str(nt), "--host", "127.0.0.1", "--port", str(port),
                                   "--store", store_name], f"http://127.0.0.1:{port}/",  # it serves SPARQL at /
                                  f"http://127.0.0.1:{port}/?query=ASK%7B%7D", cwd=work))
        virtuoso = start_virtuoso(nt, work / "virtuoso") if args.peers else None
        if virtuoso:
            server, graph = virtuoso
            results_extra = "default-graph-uri=" + urllib.parse.quote(graph) + "&"
            servers.append(type("V", (), {"name": "Virtuoso 7 (Debian)", "url": server.url + "/sparql",
                                          "extra": results_extra, "stop": server.stop, "startup": None,
                                          "proc": None})())
        wanted = args.runs.split(",")
        if "pages" in wanted:
            wait_prerendered(store)
        runs = [(name, "all" if name == "mix" else name, args.seconds) for name in ("mix", "lookups") if name in wanted]
        runs += [(name, name, args.query_seconds) for name, _, _ in QUERIES if "queries" in wanted]
        runs += [("code page", "page", args.seconds)] if "pages" in wanted else []
        runs += [(WIDE_LABEL, "lookups", args.seconds)] if "wide" in wanted else []
        for label, kind, seconds in runs:
            queries = mix(kind)
            expected = None
            # --rounds: every server once per round, in turn, so that a change of the machine's speed over
            # minutes falls on all of them alike; each figure is then the median of its rounds.
            for s in [s for _ in range(args.rounds) for s in servers]:
                if s.name.startswith("hello"):
                    if label not in ("mix", "lookups", "code page"):
                        continue
                    paths, accepts = ["/hello"], ["*/*"]
                elif kind == "page":  # an entity page (HTML) of a random code: kgapp only
                    if not s.name.startswith("kgapp"):
                        continue
                    paths, accepts = ["/id/code/cpt/%7Bcode%7D"], ["text/html"]
                else:
                    counts = [rows(s.url, q.replace(CODE, notations[0]), a, s.extra) for q, a in queries]
                    expected = expected or counts
                    if counts != expected:
                        print(f"warning: {s.name} answers differ: {counts} vs {expected}", file=sys.stderr)
                    path = urllib.parse.urlparse(s.url).path
                    paths = [f"{path}?{s.extra}query={urllib.parse.quote(q)}" for q, _ in queries]
                    accepts = [a for _, a in queries]
                base = "/".join(s.url.split("/")[:3])
                if kind == "page" and not s.name.startswith("hello"):
                    check = urllib.request.urlopen(urllib.request.Request(
                        f"{base}/id/code/cpt/{notations[0]}", headers={"Accept": "text/html"}), timeout=60)
                    assert check.status == 200 and b"<html" in check.read()
                if label == WIDE_LABEL and s.name.startswith("rdflib"):
                    continue  # minutes for one wide answer: nothing to compare
                print(f"{codes} codes, {label}: {s.name} …", file=sys.stderr, flush=True)
                beside = None
                if label == WIDE_LABEL:  # one client asking the wide star back to back, all through the run
                    wide = f"{base}{urllib.parse.urlparse(s.url).path}?{s.extra}query={urllib.parse.quote(WIDE)}"
                    beside = subprocess.Popen([wrk, "-t1", "-c1", f"-d{seconds}s", "-H", f"Accept: {JSON_}", wide],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                r = wrk_run(wrk, base, paths, accepts, args.clients, seconds, work, notations)
                if beside is not None:
                    beside.wait(timeout=60)
                results.append({"codes": codes, "triples": triples, "mix": label, "server": s.name,
                                "startup": s.startup, "rss": session_rss(s), **r})
    finally:
        for s in servers:
            s.stop()
    return medians(results)


def medians(results: list[dict]) -> list[dict]:
    """One row per size, mix and server: the median of its rounds' figures, and the range of its req/s."""
    rows: dict[tuple, list[dict]] = {}
    for r in results:
        rows.setdefault((r["codes"], r["mix"], r["server"]), []).append(r)
    out = []
    for runs in rows.values():
        row = dict(runs[0])
        for key in ("rps", "p50", "p99", "errors"):
            row[key] = statistics.median(r[key] for r in runs)
        row["range"] = (min(r["rps"] for r in runs), max(r["rps"] for r in runs), len(runs))
        out.append(row)
    return out


def wait_prerendered(store: Path, within: float = 900.0) -> None:
    """Wait until the cache-on server's background process has rendered the build's pages (kgapp.web.prerender):
    its figure is for pages read back; the cache-off servers render every page."""
    from kgapp.config import Config
    from kgapp.store.embedded import current_build
    from kgapp.web.prerender import file_for, is_complete

    path, began = file_for(Config.from_mapping({"store": store}), current_build(store)), time.monotonic()
    while not is_complete(path) and time.monotonic() - began < within:
        time.sleep(1)
    print(f"pages pre-rendered: {is_complete(path)} after {time.monotonic() - began:.0f} s", file=sys.stderr)


def session_rss(server) -> float | None:
    """MB of resident memory of a server's whole session (the server, its forkserver and query workers);
    shared pages count once per process, so this overstates the total."""
    proc = getattr(server, "proc", None)
    if proc is None:
        return None
    out = subprocess.run(["ps", "-o", "rss=", "-g", str(proc.pid)], capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", default="800,8000")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--query-seconds", type=int, default=4, help="each query of the mix alone (0: skip)")
    parser.add_argument("--baseline", help="a checkout of kgapp to serve beside this one (PYTHONPATH)")
    parser.add_argument("--runs", default="mix,lookups,queries", help="of mix,lookups,queries,pages,wide")
    parser.add_argument("--store", help="serve this built store (of --codes codes) instead of building one")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every server this many times, in turn, and report the medians")
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="kgapp and the floor only")
    args = parser.parse_args()
    wrk = ensure_wrk()
    results = []
    for codes in (int(c) for c in args.codes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            results += bench_size(codes, args, wrk, Path(tmp))
    rounds = f", medians of {args.rounds} rounds in turn (req/s: median (least–most))" if args.rounds > 1 else ""
    print(f"\n## Endpoint throughput ({args.clients} clients, {args.seconds} s each{rounds}, {time.strftime('%Y-%m-%d')})\n")
    print("| triples | mix | server | req/s | p50 ms | p99 ms | non-2xx | vs kgapp cache off (req/s) "
          "| ready after s | session RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        kg = next(x for x in results if x["codes"] == r["codes"] and x["mix"] == r["mix"]
                  and x["server"] == "kgapp (cache off)")
        low, high, n = r["range"]
        spread = f" ({low:,.0f}–{high:,.0f})" if n > 1 else ""
        print(f"| {r['triples']:,} | {r['mix']} | {r['server']} | {r['rps']:,.0f}{spread} | {r['p50']:.1f} | {r['p99']:.1f} "
              f"| {r['errors']} | {r['rps'] / kg['rps'] if kg['rps'] else float('inf'):.2f} | "
              + (f"{r['startup']:.1f} |" if r["startup"] is not None else "– |")
              + (f" {r['rss']:,.0f} |" if r["rss"] is not None else " – |"))


if __name__ == "__main__":
    main()
