"""Benchmark (b): ``adsbridge export`` of a large file to the local Ads API emulator.

Prints rows/s and the export process's peak RSS for each size, so memory can be seen not to grow with
the file. The emulator runs in its own process (its ledger's memory is not ours); the export runs as the
real CLI in a child process and its own peak RSS is read with ``os.wait4`` when it exits.

    .venv/bin/python bench/export_bench.py                 # 100,000 and 1,000,000 rows
    .venv/bin/python bench/export_bench.py --rows 200000
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from adsbridge_sandbox.demo.customers import generate
from adsbridge_sandbox.emulator import Credentials

BIN = Path(sys.executable).parent
SETTINGS = {
    "type": "amazon_ads",
    "amc_instance_id": "amcbench0001",
    "region": "NA",
    "action": "CREATE",
    "upload_mode": "APPEND",
    "target": "AMC",
    "external_audience_id": "bench-audience",
    "audience_name": "adsbridge benchmark audience",
    "country_code": "US",
    "wait_until_finish": True,
    "max_wait_time": 10,
    # the generated file is mostly US/CA; UK/EEA rows carry no consent columns and are counted as skipped
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    emulator = subprocess.Popen(
        [str(BIN / "adsbridge"), "emulator", "--port", str(port), "--pending-seconds", "1", "--accept-terms"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/amc/audiences/connections/terms", timeout=1)
        except urllib.error.HTTPError:  # 401 without a token: it is up
            return emulator
        except OSError:
            time.sleep(0.1)
    emulator.kill()
    raise SystemExit("the emulator did not start")


def run_export(rows: int, workdir: Path) -> dict[str, float]:
    source = workdir / f"customers-{rows}.csv"
    t0 = time.perf_counter()
    generate(source, rows, seed=rows)
    generated = time.perf_counter() - t0
    settings = workdir / "settings.json"
    settings.write_text(json.dumps({**SETTINGS, "external_audience_id": f"bench-{rows}"}))
    report = workdir / f"report-{rows}.json"
    port = free_port()
    emulator = start_emulator(port)
    sandbox = Credentials()
    env = {
        **os.environ,
        "ADSBRIDGE_API_URL": f"http://127.0.0.1:{port}",
        "ADSBRIDGE_TOKEN_URL": f"http://127.0.0.1:{port}/auth/o2/token",
        "ADSBRIDGE_CLIENT_ID": sandbox.client_id,
        "ADSBRIDGE_CLIENT_SECRET": sandbox.client_secret,
        "ADSBRIDGE_REFRESH_TOKEN": sandbox.refresh_token,
        # a fresh audience registry per run: this emulator knows no audience an earlier bench recorded, and a
        # CREATE run reuses a recorded one (README, "Running a CREATE job again"), so the user's own would fail it
        "ADSBRIDGE_STATE_DIR": str(workdir / f"state-{rows}"),
    }
    try:
        t0 = time.perf_counter()
        export = subprocess.Popen(
            [str(BIN / "adsbridge"), "export", "--settings", str(settings), "--input", str(source),
             "--report-json", str(report), "--poll-interval", "1"],
            env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        _, status, usage = os.wait4(export.pid, 0)
        export.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - t0
        if export.returncode != 0:
            raise SystemExit(f"adsbridge export exited {export.returncode}")
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    result = json.loads(report.read_text())
    return {
        "rows": rows,
        "file_mb": source.stat().st_size / 1e6,
        "generate_s": generated,
        "export_s": elapsed,
        "rows_per_s": result["total_records"] / elapsed,
        "uploaded": result["uploaded_records"],
        "skipped": result["skipped_records"],
        "batches": result["total_batches"],
        "status": result["status"],
        "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    print(
        f"{'rows':>10} {'file MB':>8} {'export s':>9} {'rows/s':>9} {'uploaded':>9} {'skipped':>8} {'batches':>8} {'peak RSS MB':>12}  status"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            r = run_export(rows, Path(tmp))
            print(
                f"{r['rows']:>10,} {r['file_mb']:>8.1f} {r['export_s']:>9.1f} {r['rows_per_s']:>9,.0f} "
                f"{r['uploaded']:>9,} {r['skipped']:>8,} {r['batches']:>8} {r['peak_rss_mb']:>12.1f}  {r['status']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
