"""Run ``adsbridge export`` on the bundled sample file against the local Ads API emulator.

Everything real but Amazon: the CLI, settings validation, hashing, the HTTP client with auth and retries,
and an emulator that validates every request. Prints the report and the audience the emulator now holds.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from adsbridge.cli import main
from adsbridge_sandbox.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]


def run() -> int:
    with Emulator(pending_seconds=1.0) as emulator, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            ADSBRIDGE_API_URL=emulator.url,
            ADSBRIDGE_TOKEN_URL=emulator.token_url,
            ADSBRIDGE_CLIENT_ID=emulator.credentials.client_id,
            ADSBRIDGE_CLIENT_SECRET=emulator.credentials.client_secret,
            ADSBRIDGE_REFRESH_TOKEN=emulator.credentials.refresh_token,
            ADSBRIDGE_STATE_DIR=tmp,  # a fresh emulator each time: the user's saved runs and audiences are not its
        )
        report = Path(tmp) / "report.json"
        code = main(
            [
                "export",
                "--settings", str(ROOT / "samples/settings.json"),
                "--input", str(ROOT / "samples/customers.csv"),
                "--report-json", str(report),
                "--poll-interval", "0.5",
                "--accept-terms",
            ]
        )  # fmt: skip
        if code == 0:
            import json

            audience_id = json.loads(report.read_text())["audience_id"]
            members = emulator.audience_members(audience_id)
            print(f"\nThe emulator's audience {audience_id} now has {len(members)} members.")
        return code


if __name__ == "__main__":
    sys.exit(run())
