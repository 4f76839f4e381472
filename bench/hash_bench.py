"""Benchmark ``adsbridge hash`` against the cheapest possible hashing loop over the same CSV.

Generates a seeded file of messy, realistic audience rows (all eight PII fields + countrycode +
externaluserid; mostly US; mixed case, stray spaces, punctuation, unit designators, directionals,
``+``-prefixed phones, ZIP+4, full state names, accents, some invalid/empty cells, some pre-hashed emails),
then times, in one run:

(a) ``adsbridge hash --input F --output G`` end to end as a subprocess (interpreter start-up included);
(b) a minimal loop: ``csv.reader`` → SHA-256 of each non-empty PII cell as it is → ``csv.writer``.

It prints rows/s for both and the ratio (a)/(b); it asserts nothing. The bar we hold ourselves to is
ratio ≥ 0.50 on a 2-core machine.

    .venv/bin/python bench/hash_bench.py [--rows 200000] [--repeat 3] [--seed 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from adsbridge_sandbox.demo.customers import PII, generate


def minimal_loop(src: Path, dst: Path) -> int:
    """The floor: read, SHA-256 each non-empty PII cell as it is, write."""
    sha256 = hashlib.sha256
    with src.open(encoding="utf-8", newline="") as fin, dst.open("w", encoding="utf-8", newline="") as fout:
        reader = csv.reader(fin)
        writer = csv.writer(fout, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        columns = [index for index, name in enumerate(header) if name.lower() in PII]
        rows = 0
        for row in reader:
            for index in columns:
                value = row[index]
                if value:
                    row[index] = sha256(value.encode()).hexdigest()
            writer.writerow(row)
            rows += 1
    return rows


def adsbridge_command() -> tuple[list[str], str]:
    """``adsbridge hash`` from the environment that runs this script."""
    return [str(Path(sys.executable).parent / "adsbridge"), "hash"], "entry point"


def run_cli(command: list[str], src: Path, dst: Path) -> None:
    subprocess.run([*command, "--input", str(src), "--output", str(dst)], check=True, stderr=subprocess.DEVNULL)


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=200_000, help="rows to generate (default 200000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each loop; best is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="directory to keep the generated and output files in")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="hash_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    src, ours, floor = folder / "input.csv", folder / "adsbridge.csv", folder / "minimal.csv"
    start = time.perf_counter()
    generate(src, args.rows, args.seed)
    size = src.stat().st_size
    print(f"input: {args.rows} rows, {size / 1e6:.1f} MB, generated in {time.perf_counter() - start:.1f} s ({src})")

    command, how = adsbridge_command()
    run_cli(command, src, ours)  # warm-up (page cache, .pyc)
    cli_times = timed(lambda: run_cli(command, src, ours), args.repeat)
    label = f"(a) adsbridge hash ({how}, subprocess)"
    floor_times = timed(lambda: minimal_loop(src, floor), args.repeat)

    cli_rate = args.rows / min(cli_times)
    floor_rate = args.rows / min(floor_times)
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}, repeat {args.repeat} (best shown, median in [])")
    print(f"{label}: {cli_rate:,.0f} rows/s [{args.rows / statistics.median(cli_times):,.0f}]")
    print(f"    command: {' '.join(command)} --input {src} --output {ours}")
    print(
        f"(b) minimal csv+sha256 loop (in-process): {floor_rate:,.0f} rows/s [{args.rows / statistics.median(floor_times):,.0f}]"
    )
    print(f"ratio (a)/(b): {cli_rate / floor_rate:.2f}  (bar: >= 0.50)")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
