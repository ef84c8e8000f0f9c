"""Export speed: kgapp's streamed export vs. rdflib's serializer on the same graph, side by side.

Usage: python benchmarks/export_speed.py [--codes 11000] [--store PATH]

Builds a synthetic store (about 1M triples for 11,000 codes) unless --store names a built one, then
for Turtle and N-Triples times `kgapp export` (written to /dev/null, in a child process so its
peak memory is its own; the first export of a build, then a repeat served from the build's export
cache) against rdflib serialising the same triples from an in-memory Graph. Prints seconds, the
speed ratios and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

KGAPP = r"""
import json, os, resource, shutil, sys, time
from kgapp.export import write_export
from kgapp.store import open_store
store = open_store(sys.argv[1])
shutil.rmtree(store.folder / "exports", ignore_errors=True)  # measure the first export, then the cached one
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
seconds = []
for _ in range(2):
    with open(os.devnull, "wb") as out:
        t = time.perf_counter(); write_export(store, sys.argv[2], out); seconds.append(time.perf_counter() - t)
print(json.dumps({"seconds": seconds[0], "cached": seconds[1], "rss_before_mb": before,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

RDFLIB = r"""
import json, resource, sys, time
from rdflib import Graph
g = Graph(); g.parse(sys.argv[1], format="nt")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter(); g.serialize(destination="/dev/null", format=sys.argv[2]); seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "triples": len(g), "rss_before_mb": before,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=11000)
    parser.add_argument("--store", help="an already built store folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store
        if not store:
            store = f"{tmp}/store"
            subprocess.run([sys.executable, "-m", "kgapp", "synth", "--codes", str(args.codes), "--out", f"{tmp}/data"],
                           check=True, capture_output=True)
            print("building the store …", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, "-m", "kgapp", "build", "--data", f"{tmp}/data", "--store", store],
                           check=True, capture_output=True)
        nt = Path(tmp) / "export.nt"
        subprocess.run([sys.executable, "-m", "kgapp", "export", "--store", store, "--format", "ntriples",
                        "-o", str(nt)], check=True, capture_output=True)
        rows = []
        for kg_name, rdflib_name in (("turtle", "turtle"), ("ntriples", "nt")):
            print(f"exporting {kg_name} …", file=sys.stderr, flush=True)
            k = child(KGAPP, store, kg_name)
            r = child(RDFLIB, str(nt), rdflib_name)
            rows.append((kg_name, r["triples"], k, r))
    print(f"\n## Export ({rows[0][1]:,} triples)\n")
    print("| format | rdflib s | kgapp first s | speed-up | kgapp repeat (cached) s | speed-up | "
          "kgapp peak RSS MB (at start) | rdflib peak RSS MB (graph loaded) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _n, k, r in rows:
        print(f"| {name} | {r['seconds']:.2f} | {k['seconds']:.2f} | {r['seconds'] / k['seconds']:.1f}x | "
              f"{k['cached']:.2f} | {r['seconds'] / k['cached']:.0f}x | {k['peak_rss_mb']:.0f} "
              f"({k['rss_before_mb']:.0f}) | {r['peak_rss_mb']:.0f} ({r['rss_before_mb']:.0f}) |")


if __name__ == "__main__":
    main()
