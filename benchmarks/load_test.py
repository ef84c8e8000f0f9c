"""Load test of /sparql on 127.0.0.1: many clients run the competency questions with malicious queries mixed in.

    python benchmarks/load_test.py [--clients 50] [--seconds 60] [--report benchmarks/load_test_report.md] [--store PATH]
    python benchmarks/load_test.py --fairness [--clients 20] [--seconds 20] [--greedy 16] [--greedy-process [--polite] [--greedy-elsewhere]] [--rounds N]
    python benchmarks/load_test.py --overhead [--requests 2000] [--threads 8]

The first form serves a freshly built store with waitress in this process (8 threads, the app's default
limits except a 2 s query timeout), runs N keep-alive clients for a fixed time (bounded also by
--max-requests) and checks every answer: competency questions must equal what the store answers
directly; malicious queries must get their refusal (403 update/LOAD, 400 SERVICE or bad syntax, 413 too
long, 503 runaway, 200 and empty for a remote FROM, 200 truncated for a huge result). One extra client
sends runaway queries back to back, as an abusive client would. A loopback listener stands in for every
remote IRI and must see no connection. Memory (RSS, PSS and anonymous memory of the serving process, its
forkserver and all its query workers) is sampled every second; the expected answers are computed in a
child process beforehand, so that the serving process holds only what serving needs.

The --fairness form runs phases of --seconds each on one store, every client with its own address
(X-Forwarded-For, the server trusting 127.0.0.1 as a proxy): the clients alone (baseline); with a greedy
client (--greedy connections from one address sending heavy queries back to back, never waiting) and no
per-client limits; the same with limits (2 queries at once, 20 per second per client); each of these
once with one worker pool (low_priority_nice 0) and once with the default low-priority pool for a
client's extra queries; the baseline again; and the limits again while a new build is swapped in under
the load (kgapp build into the served store, then /readyz must name the new build); and the clients alone
beside a busy core (a process spinning at the lowest CPU priority, as the greedy client's query workers
run): what any work on the second of two cores costs the others, the bar a greedy phase is read against.
It reports the other clients' latencies per phase, and every status. The server is `kgapp serve` (granian)
in its own process, as users run it; --server waitress serves the app in this process instead (the
reports before 2026-11-29's eighth session). --phases picks phases by name. --greedy-process
runs the greedy client in a process of its own (a real one is not on the server's interpreter lock), and
--polite makes it honour Retry-After, which tells the cost of its refusals from that of its queries, and
--greedy-elsewhere runs that process SCHED_IDLE: on two shared cores its own reading of megabytes of
answers would otherwise compete with the server and the measured clients, which a remote client does not.

The last form measures what the worker pool costs per query: the same lookup query through the pool
and in the request thread. Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from ports import free_port  # noqa: E402  (the test suite's helpers)
from processes import descendants, stop_server, wait_ready  # noqa: E402
from processes import serve as serve_command  # noqa: E402

from kgapp.build import build
from kgapp.config import Config
from kgapp.queries import load_queries
from kgapp.store import current_build, open_store
from kgapp.web import close_app, create_app

JSON = "application/sparql-results+json"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
LOOKUP = ("SELECT ?label WHERE { <https://w3id.org/kgapp/id/code/cpt/64868> "
          "<http://www.w3.org/2004/02/skos/core#prefLabel> ?label }")


def canonical(body: bytes) -> list:
    """Solutions as a sorted list, so that answers compare regardless of row order."""
    data = json.loads(body)
    return sorted(json.dumps(b, sort_keys=True) for b in data["results"]["bindings"])


_EXPECTED_SETS: dict[int, frozenset] = {}


def _same_answer(got: list, expected: list, cut: bool) -> bool:
    """``got`` is the expected answer, or, when the row cap cut it, that many of the expected rows (on the
    big store some competency questions have more rows than the cap)."""
    if not cut:
        return got == expected
    rows = _EXPECTED_SETS.setdefault(id(expected), frozenset(expected))
    return len(got) < len(expected) and all(row in rows for row in got)


def malicious(sink: str, max_length: int) -> list[tuple[str, str, int, object]]:
    """(kind, query, expected status, check of the body or None)."""
    return [
        ("update", "INSERT DATA { <http://e/s> <http://e/p> 'o' }", 403, None),
        ("load", f"LOAD <{sink}/data.ttl>", 403, None),
        ("drop", "DROP ALL", 403, None),
        ("service", f"SELECT * WHERE {{ SERVICE <{sink}/sparql> {{ ?s ?p ?o }} }}", 400, None),
        ("remote-from", f"SELECT * FROM <{sink}/g> WHERE {{ ?s ?p ?o }}", 200, lambda b: canonical(b) == []),
        ("syntax", "SELECT * WHERE { ?s ?p }", 400, None),
        ("too-long", "ASK {} #" + "x" * max_length, 413, None),
        ("script-literal", "SELECT ?x WHERE { BIND('<script>alert(1)</script>' AS ?x) }", 200,
         lambda b: "<script>" in json.loads(b)["results"]["bindings"][0]["x"]["value"]),
        ("huge", "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c }", 200, "truncated"),
    ]


class Sink:
    """A loopback listener standing in for every remote IRI; counts connections (there must be none)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop.is_set():
            try:
                self.sock.accept()[0].close()
                self.connections += 1
            except TimeoutError:
                pass


def memory_kb(pids: list[int]) -> tuple[int, int, int]:
    """(RSS, PSS, anonymous RSS) in kB summed over ``pids``. RSS counts pages the processes share (the
    store's files, the forkserver's imports) once per process; PSS splits each shared page between them,
    so its sum is the memory they really hold together."""
    rss = pss = anon = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in ("Rss", "Pss", "Anonymous"):
                    kb = int(value.split()[0])
                    rss, pss, anon = rss + kb * (name == "Rss"), pss + kb * (name == "Pss"), anon + kb * (name == "Anonymous")
        except OSError:
            pass
    return rss, pss, anon


def expected_answers(store_path: str) -> tuple[int, dict]:
    """The store's own answers to the competency questions, computed in a child process so that the
    serving process's memory is its own."""
    store = open_store(store_path)
    return store.triple_count, {q.slug: (q.text, canonical(store.query(q.text).serialize(format=ox.QueryResultsFormat.JSON)))
                                for q in load_queries()}


def serve(app):
    from waitress.server import create_server

    # X-Forwarded-For reaches the app (which trusts it only from trusted_proxies), as `kgapp serve` does
    server = create_server(app, host="127.0.0.1", port=0, threads=8, ident="kgapp-load",
                           clear_untrusted_proxy_headers=False)
    threading.Thread(target=server.run, daemon=True).start()
    return server, server.effective_port


class _Served:
    """`kgapp serve` (granian, its default server) in its own process, with ``settings`` as KGAPP_* variables."""

    def __init__(self, settings: dict):
        self.port = free_port()
        self.process = serve_command(settings["store"], self.port, stderr=subprocess.DEVNULL,
                                     **{k: str(v) for k, v in settings.items() if k != "store"})
        wait_ready(self.port, 120)

    def close(self) -> None:
        stop_server(self.process)


def serve_process(settings: dict) -> tuple[_Served, int]:
    served = _Served(settings)
    return served, served.port


def request(conn: http.client.HTTPConnection, query: str, client: str | None = None):
    body = urllib.parse.urlencode({"query": query})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": JSON}
    if client:
        headers["X-Forwarded-For"] = client
    conn.request("POST", "/sparql", body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.getheader("X-KGApp-Truncated"), response.read()


def load_test(args) -> str:
    if args.store:  # a store built beforehand (e.g. 11,000 synthetic codes, ~1M triples) for the memory target
        store_path = Path(args.store)
    else:
        store_path = Path(tempfile.mkdtemp(prefix="kgapp-load-")) / "store"
        build(Config(store=store_path))
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        args.triples, cqs = pool.apply(expected_answers, (str(store_path),))
    sink = Sink()
    # every client has its own address (X-Forwarded-For from the trusted loopback), as real clients would
    config = Config.from_mapping({"store": store_path, "query_timeout": 2.0, "max_rows": 10_000,  # KGAPP_* for the rest
                                  "trusted_proxies": "127.0.0.1"})
    bad = malicious(sink.url, config.max_query_length)
    app = create_app(config)
    server, port = serve(app)

    stats: dict[str, list[float]] = defaultdict(list)
    statuses: Counter = Counter()
    problems: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds
    budget = [args.max_requests]

    def record(kind: str, seconds: float, status: int, problem: str | None):
        with lock:
            stats[kind].append(seconds)
            statuses[(kind if kind in ("runaway",) or kind in {b[0] for b in bad} else "cq", status)] += 1
            if problem and len(problems) < 50:
                problems.append(problem)
            budget[0] -= 1

    def client(seed: int, abusive: bool = False):
        rng = random.Random(seed)
        who = "10.66.0.1" if abusive else f"10.0.{seed // 250}.{seed % 250 + 1}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at and budget[0] > 0:
            if abusive:
                kind, query, expect, check = "runaway", RUNAWAY, 503, None
            elif rng.random() < 0.15:
                kind, query, expect, check = rng.choice(bad)
            else:
                kind = rng.choice(sorted(cqs))
                query, expect, check = cqs[kind][0], 200, cqs[kind][1]
            started = time.perf_counter()
            try:
                status, truncated, body = request(conn, query, who)
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                record(kind, time.perf_counter() - started, 0, f"{kind}: {e!r}")
                continue
            ok = status == expect
            if ok and check == "truncated":
                ok = truncated == "true"
            elif ok and callable(check):
                ok = check(body)
            elif ok and isinstance(check, list):
                ok = _same_answer(canonical(body), check, truncated == "true")
            record(kind, time.perf_counter() - started, status,
                   None if ok else f"{kind}: status {status} (expected {expect}) {body[:120]!r}")
        conn.close()

    memory: list[tuple[float, int, int, int]] = []
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    threads.append(threading.Thread(target=client, args=(-1, True)))
    began = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        # the serving process, its forkserver and every query worker (starting, busy or idle)
        memory.append((time.monotonic() - began, *memory_kb(descendants(os.getpid()))))
        time.sleep(1)
    elapsed = time.monotonic() - began
    time.sleep(0.5)
    sink.stop.set()
    server.close()
    close_app(app)
    return report(args, elapsed, stats, statuses, problems, memory, sink.connections, config)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] * 1000


def report(args, elapsed, stats, statuses, problems, memory, connections, config) -> str:
    total = sum(len(v) for v in stats.values())
    five = sum(n for (kind, status), n in statuses.items() if status >= 500 and kind != "runaway")
    runaway_503 = statuses[("runaway", 503)]
    lines = [
        "# Load test report", "",
        f"Command: `python benchmarks/load_test.py --clients {args.clients} --seconds {args.seconds}"
        + (" --store STORE" if args.store else "") + "` "
        f"(machine: {os.cpu_count()} cores; server: waitress 8 threads, {config.max_concurrent_queries} query slots, "
        f"query timeout {config.query_timeout:g} s, max rows {config.max_rows}; all on 127.0.0.1).", "",
        f"- store: {getattr(args, 'triples', 0):,} triples",
        f"- clients: {args.clients} concurrent keep-alive clients + 1 abusive client sending runaway queries back to back",
        f"- duration: {elapsed:.1f} s, requests: {total}, throughput: {total / elapsed:.0f} requests/s",
        f"- 5xx other than the runaway queries' 503: **{five}**",
        f"- runaway queries stopped with 503: {runaway_503} of {len(stats['runaway'])}",
        f"- wrong answers (status or body differs from the expected one): **{len(problems)}**",
        f"- connections to the loopback stand-in for remote IRIs (SERVICE, FROM, LOAD): **{connections}**",
        f"- memory (server + workers RSS): start {memory[0][1] / 1024:.0f} MB, "
        f"max {max(m[1] for m in memory) / 1024:.0f} MB, end {memory[-1][1] / 1024:.0f} MB "
        f"({len(memory)} samples); PSS (shared pages counted once): max {max(m[2] for m in memory) / 1024:.0f} MB; "
        f"anonymous: max {max(m[3] for m in memory) / 1024:.0f} MB", "",
        "| kind | requests | status | p50 ms | p95 ms | p99 ms |", "|---|---:|---|---:|---:|---:|",
    ]
    for kind in sorted(stats):
        codes = ", ".join(f"{s}×{n}" for (k, s), n in sorted(statuses.items()) if k == kind) or \
            ", ".join(f"{s}×{n}" for (k, s), n in sorted(statuses.items()) if k == "cq" and kind.startswith("cq"))
        lines.append(f"| {kind} | {len(stats[kind])} | {codes if not kind.startswith('cq') else '200 expected'} | "
                     f"{pct(stats[kind], .5):.1f} | {pct(stats[kind], .95):.1f} | {pct(stats[kind], .99):.1f} |")
    lines += ["", "Competency-question statuses: " + ", ".join(
        f"{s}×{n}" for (k, s), n in sorted(statuses.items()) if k == "cq"), ""]
    lines += ["Memory samples (s: RSS/PSS MB): " + ", ".join(f"{m[0]:.0f}: {m[1] / 1024:.0f}/{m[2] / 1024:.0f}"
                                                           for m in memory[::3]), ""]
    if problems:
        lines += ["Problems (first 50):", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"


LIMITS = {"max_queries_per_client": 2, "rate_limit": 20.0, "rate_burst": 40, "max_query_time_per_client": 5.0}
NO_LIMITS = {"max_queries_per_client": 0}
ONE_POOL = {"low_priority_nice": 0}  # no lower CPU priority for a client's extra queries (as before issue 14's scheduling)
BUSY_CORE = "busy core"  # in place of a greedy client: a process spinning SCHED_IDLE (spin())
# (name, greedy client, settings, build swap)
PHASES = (("baseline", False, {}, False), ("baseline, limits on", False, LIMITS, False),
          ("greedy, no limits, one pool", True, {**NO_LIMITS, **ONE_POOL}, False),
          ("greedy, no limits", True, NO_LIMITS, False), ("greedy, limits on, one pool", True, {**LIMITS, **ONE_POOL}, False),
          ("greedy, limits on", True, LIMITS, False), ("baseline again", False, {}, False),
          ("greedy, limits on, build swap", True, LIMITS, True),
          # no greedy client, but a process spinning at the lowest CPU priority (as the greedy client's query workers
          # run): what any work on the second core costs the others on this machine, kgapp's part aside
          ("baseline beside a busy core", BUSY_CORE, {}, False))
# The greedy client's query: 10,000 rows (the cap), about a second of a worker's time on this machine.
HEAVY = "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c }"
EXTRA = '<http://example.org/load-test> <http://example.org/note> "a later build" .\n'


def fairness_test(args) -> str:
    """Each phase: N clients (own addresses) + maybe a greedy one; the others' latency and every status."""
    from kgapp.sources import resource_dir

    store_path = Path(tempfile.mkdtemp(prefix="kgapp-fair-")) / "store"
    build(Config(store=store_path))
    store = open_store(store_path)
    cqs = [(q.text, canonical(store.query(q.text).serialize(format=ox.QueryResultsFormat.JSON)))
           for q in load_queries()]
    rows = []
    chosen = [p for p in PHASES if not args.phases or any(p[0] == name.strip() for name in args.phases.split(";"))]
    # --rounds: the chosen phases again and again, in turn, so that the machine's drift falls on all alike
    for name, greedy, limits, swap in [phase for _ in range(args.rounds) for phase in chosen]:
        settings = {"store": store_path, "query_timeout": 2.0, "max_rows": 10_000, "trusted_proxies": "127.0.0.1",
                    **(limits or NO_LIMITS)}
        if "max_query_time_per_client" in limits:  # the phases with LIMITS: the time share as asked
            settings["max_query_time_per_client"] = args.max_query_time
        config = Config.from_mapping(settings)
        app = create_app(config) if args.server == "waitress" else None
        server, port = serve(app) if app is not None else serve_process(settings)
        warm_up(port, config.max_concurrent_queries)
        warm_answers(port, [text for text, _ in cqs])
        times: list[float] = []
        statuses: Counter = Counter()
        problems: list[str] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def client(index: int, is_greedy: bool):
            rng = random.Random(index)
            who = "10.66.0.1" if is_greedy else f"10.0.{index // 250}.{index % 250 + 1}"
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while time.monotonic() < stop_at:
                query, expected = rng.choice(cqs) if not is_greedy else (HEAVY, None)
                started = time.perf_counter()
                try:
                    status, _, body = request(conn, query, who)
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    status, body = 0, repr(e).encode()
                with lock:
                    statuses[("greedy" if is_greedy else "others", status)] += 1
                    if not is_greedy:
                        times.append(time.perf_counter() - started)
                        if (status != 200 or canonical(body) != expected) and len(problems) < 20:
                            problems.append(f"status {status}: {body[:100]!r}")
                if not is_greedy:
                    time.sleep(rng.uniform(0, 2 * args.think))  # a person or a polite tool; the greedy one never waits
            conn.close()

        threads = [threading.Thread(target=client, args=(i, False)) for i in range(args.clients)]
        outside = None
        if greedy == BUSY_CORE:
            import multiprocessing

            outside = multiprocessing.get_context("spawn").Pool(1)
            outside.apply_async(spin, (stop_at - time.monotonic(),))
        elif greedy and args.greedy_process:  # a real greedy client runs elsewhere, not on this process's GIL
            import multiprocessing

            outside = multiprocessing.get_context("spawn").Pool(1)
            greedy_result = outside.apply_async(greedy_client, (port, args.greedy, stop_at - time.monotonic(),
                                                               args.polite, args.greedy_elsewhere))
        threads += [threading.Thread(target=client, args=(i, True))
                    for i in range(args.greedy if greedy is True and not args.greedy_process else 0)]
        for t in threads:
            t.start()
        swapped = ""
        if swap:
            time.sleep(args.seconds / 3)
            data = Path(tempfile.mkdtemp(prefix="kgapp-fair-data-")) / "data"
            shutil.copytree(resource_dir("data"), data)
            (data / "zz-load-test.ttl").write_text(EXTRA, encoding="utf-8")
            began = time.monotonic()
            # `kgapp build` in its own process, as an operator runs it beside a serving `kgapp serve`
            subprocess.run([sys.executable, "-m", "kgapp", "build", "--store", str(store_path), "--data", str(data)],
                           check=True, capture_output=True, timeout=300)
            new = current_build(store_path).name
            built = time.monotonic() - began
            ready: dict = {}
            while ready.get("build") != new and time.monotonic() - began < 60:
                try:  # /readyz waits for a free waitress thread like every request under this load
                    ready = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10).read())
                except OSError:
                    pass
                time.sleep(0.1)
            swapped = (f"build {new} made in {built:.1f} s under load; /readyz named it "
                       f"{time.monotonic() - began - built:.1f} s later: {ready.get('build') == new}")
        for t in threads:
            t.join()
        if outside is not None:
            if greedy is True:
                statuses.update({("greedy", status): n for status, n in greedy_result.get(60).items()})
            outside.close()
            outside.join()
        server.close()
        if app is not None:
            close_app(app)
        rows.append((name, times, statuses, problems, swapped, [pct(times, .99)]))
        print(fairness_report(args, rows[-1:]).splitlines()[-2 if not (problems or swapped) else -3],
              file=sys.stderr, flush=True)  # each phase as it ends
    return fairness_report(args, pooled(rows))


def pooled(rows: list[tuple]) -> list[tuple]:
    """One row per phase name: its rounds' latencies and statuses together, and each round's p99."""
    by_name: dict[str, tuple] = {}
    for name, times, statuses, problems, swapped, p99s in rows:
        if name in by_name:
            _, t, st, pr, sw, ps = by_name[name]
            by_name[name] = (name, t + times, st + statuses, pr + problems, "; ".join(x for x in (sw, swapped) if x),
                             ps + p99s)
        else:
            by_name[name] = (name, list(times), Counter(statuses), list(problems), swapped, list(p99s))
    return list(by_name.values())


# Not a star (an aggregate): it runs in a worker, where LOOKUP would be answered in the request thread.
WARM = "SELECT (COUNT(*) AS ?n) WHERE { <https://w3id.org/kgapp/id/code/cpt/64868> ?p ?o }"


def spin(seconds: float) -> None:
    """Keep a core busy for ``seconds`` at the lowest CPU priority (SCHED_IDLE, as a low-priority query worker)."""
    os.nice(10)
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        pass


def greedy_client(port: int, connections: int, seconds: float, polite: bool = False, elsewhere: bool = False
                  ) -> Counter:
    """The greedy client in a process of its own (--greedy-process): heavy queries back to back, never waiting
    (``polite``: waiting as Retry-After says after a 429, to tell the refusals' cost from the queries').
    ``elsewhere``: the process runs SCHED_IDLE, so that reading its megabytes of answers takes no core the
    server or the other clients want, as when the greedy client runs on a machine of its own."""
    if elsewhere:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    statuses: Counter = Counter()
    stop_at = time.monotonic() + seconds

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            try:
                status = request(conn, HEAVY, "10.66.0.1")[0]
                if polite and status == 429:
                    time.sleep(1)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            statuses[status] += 1
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def warm_up(port: int, slots: int) -> None:
    """Start every query worker before measuring (a cold worker imports kgapp first: seconds on 2 busy cores)."""
    def one(i: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        deadline = time.monotonic() + 60
        while request(conn, WARM, f"10.99.0.{i}")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(slots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def warm_answers(port: int, queries: list[str]) -> None:
    """Ask each query once before measuring, so that a phase measures the steady state (answers kept per
    build) and not the first second of a fresh server, where 20 clients' first questions all miss at once."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for query in queries:
        request(conn, query, "10.99.1.1")
    conn.close()


def fairness_report(args, rows) -> str:
    lines = [f"Command: `python benchmarks/load_test.py --fairness --clients {args.clients} --seconds {args.seconds:g} "
             f"--greedy {args.greedy} --think {args.think:g}{' --greedy-process' if args.greedy_process else ''}{' --polite' if args.polite else ''}{' --greedy-elsewhere' if args.greedy_elsewhere else ''}{f' --rounds {args.rounds}' if args.rounds > 1 else ''} --server {args.server}` ({os.cpu_count()} cores, shared with other work; {args.server} 8 threads, 8 query "
             f"slots; limits when on: {LIMITS | {'max_query_time_per_client': args.max_query_time}}; one pool: {ONE_POOL}).", "",
             "| phase | others' requests | others p50 ms | p95 ms | p99 ms | p99 ms each round | others' statuses "
             "| greedy statuses |",
             "|---|---:|---:|---:|---:|---|---|---|"]
    notes = []
    for name, times, statuses, problems, swapped, p99s in rows:
        fmt = lambda who: ", ".join(f"{s}×{n}" for (w, s), n in sorted(statuses.items()) if w == who) or "-"  # noqa: E731
        lines.append(f"| {name} | {len(times)} | {pct(times, .5):.1f} | {pct(times, .95):.1f} | {pct(times, .99):.1f} | "
                     f"{', '.join(f'{p:.1f}' for p in p99s)} | {fmt('others')} | {fmt('greedy')} |")
        if swapped:
            notes.append(f"- {name}: {swapped}")
        if problems:
            notes.append(f"- {name}: {len(problems)} wrong answers for the other clients, e.g. {problems[0]}")
    return "\n".join(lines + [""] + notes) + "\n"


def overhead(args) -> str:
    """Requests per second and latency for one lookup query, through the pool and in the request thread."""
    store_path = Path(tempfile.mkdtemp(prefix="kgapp-overhead-")) / "store"
    build(Config(store=store_path))
    out = [f"Pool overhead: {args.requests} requests of a one-row lookup, {args.threads} client threads, "
           f"keep-alive, waitress 8 threads, {os.cpu_count()} cores", "", "| mode | req/s | p50 ms | p99 ms |",
           "|---|---:|---:|---:|"]
    for mode in ("in-thread", "pool", "in-thread", "pool"):
        app = create_app(Config(store=store_path))
        app.extensions["kgapp.serving"].current.executor.pooled = mode == "pool"
        server, port = serve(app)
        times: list[float] = []
        per_thread = args.requests // args.threads

        def run():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            request(conn, LOOKUP)  # warm: the worker, the connection
            for _ in range(per_thread):
                t = time.perf_counter()
                status, _, _ = request(conn, LOOKUP)
                assert status == 200
                times.append(time.perf_counter() - t)
            conn.close()

        threads = [threading.Thread(target=run) for _ in range(args.threads)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
        server.close()
        close_app(app)
        out.append(f"| {mode} | {len(times) / elapsed:.0f} | {statistics.median(times) * 1000:.2f} | "
                   f"{pct(times, .99):.2f} |")
    return "\n".join(out) + "\n"


def main() -> None:
    import logging

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is expected under load
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--report", type=Path)
    parser.add_argument("--store", help="serve this built store instead of building the shipped data")
    parser.add_argument("--overhead", action="store_true")
    parser.add_argument("--fairness", action="store_true")
    parser.add_argument("--greedy", type=int, default=16, help="connections of the greedy client (--fairness)")
    parser.add_argument("--think", type=float, default=0.1, help="mean pause between a client's queries (--fairness)")
    parser.add_argument("--phases", help="only these --fairness phases, separated by ';'")
    parser.add_argument("--max-query-time", type=float, default=5.0,
                        help="max_query_time_per_client when limits are on (--fairness; 0: no time limit)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the chosen phases this many times in turn (--fairness); each phase's figures pool its rounds")
    parser.add_argument("--polite", action="store_true", help="the greedy client (--greedy-process) honours Retry-After")
    parser.add_argument("--greedy-process", action="store_true",
                        help="run the greedy client in a process of its own, not as threads beside the server")
    parser.add_argument("--greedy-elsewhere", action="store_true",
                        help="--greedy-process at SCHED_IDLE: the greedy client's own reading of its answers off "
                             "the server's cores, as if it ran on another machine")
    parser.add_argument("--server", choices=("waitress", "granian"), default="granian",
                        help="--fairness: `kgapp serve` (granian) in its own process, or waitress in this one")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if not 0 < args.seconds <= 600 or not 0 < args.clients <= 200:
        sys.exit("bounded: --seconds up to 600, --clients up to 200")
    text = overhead(args) if args.overhead else fairness_test(args) if args.fairness else load_test(args)
    print(text)
    if args.report:
        args.report.write_text(text, encoding="utf-8")


if __name__ == "__main__":  # required: query workers re-import the main module (multiprocessing forkserver)
    main()
