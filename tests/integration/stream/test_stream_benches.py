"""The stream benchmarks run end to end with tiny sizes, so a change to a handler, the v2 file writer or the cost
model that breaks them fails here rather than at the next ``make bench``. Their figures are printed, not checked:
only that each section ran and printed what it measures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_stream_bench_prices_the_three_deliveries_and_measures_the_catalog_and_the_views() -> None:
    out = run("stream_bench.py", "--messages", "40", "--runs", "1", "--files", "12", "--hours", "2",
              "--records-per-file", "30")  # fmt: skip
    assert re.search(r"v2 catalog, 12 files in batches of \d+: [\d,.]+ files/s .*; failed 0", out), out
    header, totals = out.split("cost per million records")[1].splitlines()[1:3]
    assert header.split() == ["v1/SQS", "v1/Firehose", "v2"], out
    assert len(re.findall(r"\$\d+\.\d{3}", totals)) == 3, out
    assert len(re.findall(r"kB per hour of data", out)) == 3, out  # latest, hourly, one hour


def test_the_ingest_bench_still_runs_on_the_shared_cost_model() -> None:
    out = run("ingest_bench.py", "--messages", "30", "--runs", "1", "--small", "5")
    assert "adsbridge at batch 30: $" in out and "Amazon's reference" in out, out
