"""Export speed: kgapp's export vs. rdflib's serializer on the same graph, side by side.

Usage: python benchmarks/export_speed.py [--codes 11000 | --data FOLDER | --store PATH]
                                         [--formats turtle,ntriples,...] [--inferred]

Builds a store from synthetic data (about 1M triples for 11,000 codes; --data builds from an existing
synthetic folder instead, --store takes a built one), then for each format times `kgapp export` (written
to /dev/null, in a child process so its peak memory is its own; the first export of a build, then a
repeat) against rdflib serialising the same triples (or quads, for TriG and N-Quads) from an in-memory
Graph (Dataset). With --inferred the inferred exports are measured too, against rdflib serialising
those. Prints seconds, the speed ratios and peak RSS. A build that wrote its export files serves the
first export from them; an older build's first export is serialised from the store (and cached).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

FORMATS = ("turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads")
RDFLIB_NAMES = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "trig": "trig",
                "nquads": "nquads"}

KGAPP = r"""
import json, os, resource, shutil, sys, time
from kgapp.export import write_export
from kgapp.store import open_store
store = open_store(sys.argv[1])
exports = store.folder / "exports"
if not list(exports.glob("inferred.*")):  # an older build caches its exports on first use: start without
    shutil.rmtree(exports, ignore_errors=True)
inferred = sys.argv[3] == "1"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
seconds = []
for _ in range(2):
    with open(os.devnull, "wb") as out:
        t = time.perf_counter(); write_export(store, sys.argv[2], out, inferred=inferred)
        seconds.append(time.perf_counter() - t)
print(json.dumps({"seconds": seconds[0], "cached": seconds[1], "rss_before_mb": before,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

RDFLIB = r"""
import json, resource, sys, time
from rdflib import Dataset, Graph
if sys.argv[2] in ("trig", "nquads"):
    g = Dataset(); g.parse(sys.argv[1], format="nquads"); n = sum(1 for _ in g.quads((None, None, None, None)))
else:
    g = Graph(); g.parse(sys.argv[1], format="nt"); n = len(g)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter(); g.serialize(destination="/dev/null", format=sys.argv[2]); seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "statements": n, "rss_before_mb": before,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ratio(rdflib: float, kgapp: float) -> str:
    x = rdflib / kgapp
    return f"{x:.1f}x" if x < 10 else f"{x:,.0f}x"


def kgapp(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "kgapp", *args], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=11000)
    parser.add_argument("--data", help="a synthetic data folder (`kgapp synth`) to build from")
    parser.add_argument("--store", help="an already built store folder")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated kgapp format names")
    parser.add_argument("--inferred", action="store_true", help="also measure the --inferred exports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store
        if not store:
            store, data = f"{tmp}/store", args.data or f"{tmp}/data"
            if not args.data:
                kgapp("synth", "--codes", str(args.codes), "--out", data)
            print("building the store …", file=sys.stderr, flush=True)
            kgapp("build", "--data", data, "--store", store)
        rows = []
        for inferred in (False, True) if args.inferred else (False,):
            flag = ["--inferred"] if inferred else []
            sources = {kind: Path(tmp) / f"source-{int(inferred)}.{kind}" for kind in ("nt", "nq")}
            for kind, name in (("nt", "ntriples"), ("nq", "nquads")):
                kgapp("export", "--store", store, "--format", name, *flag, "-o", str(sources[kind]))
            for name in args.formats.split(","):
                print(f"exporting {name}{' --inferred' if inferred else ''} …", file=sys.stderr, flush=True)
                k = child(KGAPP, store, name, str(int(inferred)))
                source = sources["nq" if name in ("trig", "nquads") else "nt"]
                r = child(RDFLIB, str(source), RDFLIB_NAMES[name])
                rows.append((name + (" --inferred" if inferred else ""), r["statements"], k, r))
    print(f"\n## Export ({rows[0][1]:,} triples)\n")
    print("| format | statements | rdflib s | kgapp first s | speed-up | kgapp repeat s | speed-up | "
          "kgapp peak RSS MB (at start) | rdflib peak RSS MB (graph loaded) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, n, k, r in rows:
        print(f"| {name} | {n:,} | {r['seconds']:.2f} | {k['seconds']:.3f} | {ratio(r['seconds'], k['seconds'])} | "
              f"{k['cached']:.3f} | {ratio(r['seconds'], k['cached'])} | {k['peak_rss_mb']:.0f} "
              f"({k['rss_before_mb']:.0f}) | {r['peak_rss_mb']:.0f} ({r['rss_before_mb']:.0f}) |")


if __name__ == "__main__":
    main()
