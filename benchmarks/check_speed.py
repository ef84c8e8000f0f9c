"""Claim-check speed: one check on the real graph and on a large synthetic store, and a 10,000-line batch.

Usage: python benchmarks/check_speed.py [--codes 10000] [--lines 10000] [--keep DIR]

Builds the shipped data and a synthetic graph of N codes (`kgapp synth`, about 100 triples a code) into
fresh stores, then times check_claim on a mix of lines that vary the code, modifiers, place of service,
payer and diagnoses (so no two consecutive lines are alike), and `kgapp check --file` on a CSV of
--lines lines. Prints the median and p95 per check and the batch's lines per second. Targets (issue 13):
one check ≤ 20 ms on both stores; 10,000 batch lines ≤ 30 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kgapp.build import build
from kgapp.build.synth import code_notation
from kgapp.check import check_claim, parse_claim
from kgapp.config import Config
from kgapp.store import open_store

MODIFIERS = ["", "50", "LT", "LT RT", "59", "80", "62", "24", "XS", "51"]
POS = ["", "11", "19", "21", "22", "24"]
PAYERS = ["", "aetna", "cigna", "medicare", "unitedhealthcare", "acme"]
DX = ["", "G51.0", "G51.0 R29.810", "G51.31", "S04.51", "S04.51XA", "G50.0", "Z99.999", "J45.909"]


def lines(codes: list[str], n: int, seed: int = 7) -> list[tuple[str, str, str, str, str]]:
    rnd = random.Random(seed)
    return [(rnd.choice(codes), rnd.choice(MODIFIERS), rnd.choice(POS), rnd.choice(PAYERS), rnd.choice(DX))
            for _ in range(n)]


def time_checks(store_path: Path, codes: list[str], cache: bool, n: int = 300) -> tuple[float, float, int]:
    store = open_store(store_path)
    sample = lines(codes, n)
    check_claim(store, parse_claim(*sample[0]), cache)  # load the rules and warm the store
    times = []
    for line in sample:
        t = time.perf_counter()
        check_claim(store, parse_claim(line[0], line[1], line[2], line[3], line[4]), cache)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)], store.triple_count


def time_batch(store_path: Path, codes: list[str], n: int, folder: Path, cache: bool) -> float:
    csv = folder / "claims.csv"
    csv.write_text("code,modifiers,pos,payer,dx\n" + "".join(",".join(line) + "\n" for line in lines(codes, n, 11)))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kgapp", "check", "--store", str(store_path), "--file", str(csv),
                    "--format", "csv"] + ([] if cache else ["--no-cache"]), stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="reuse/keep the stores in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="kgapp-check-bench-"))
    real, big, data = folder / "real", folder / f"synth-{args.codes}", folder / f"data-{args.codes}"
    if not (real / "current").exists():
        build(Config(store=real))
    if not (big / "current").exists():
        if not data.exists():
            subprocess.run([sys.executable, "-m", "kgapp", "synth", "--codes", str(args.codes), "--out", str(data)],
                           check=True, stdout=subprocess.DEVNULL)
        build(Config(store=big, data_dirs=(data,)))
    real_codes = ["64600", "64612", "64864", "64866", "64868", "64869", "J0585"]
    synth_codes = [code_notation(i) for i in range(0, args.codes, max(1, args.codes // 500))] + ["64868"]
    print("| store | triples | rule cache | median ms per check | p95 ms | target |")
    print("|---|---|---|---|---|---|")
    for name, path, codes in (("shipped data", real, real_codes), (f"synthetic, {args.codes} codes", big, synth_codes)):
        for cache in (False, True):
            median, p95, triples = time_checks(path, codes, cache)
            print(f"| {name} | {triples:,} | {'on' if cache else 'off'} | {median:.1f} | {p95:.1f} | ≤ 20 ms |")
    print("\n| batch (`kgapp check --file`, shipped data) | lines | rule cache | seconds | lines/s | target |")
    print("|---|---|---|---|---|---|")
    for cache in (False, True):
        seconds = time_batch(real, real_codes, args.lines, folder, cache)
        print(f"| | {args.lines:,} | {'on' if cache else 'off'} | {seconds:.1f} | {args.lines / seconds:,.0f} | ≤ 30 s |")


if __name__ == "__main__":
    main()
