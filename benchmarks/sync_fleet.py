"""`palisade sync` of an N-instance account: one `palisade serve` plays the cloud (its fleet
applied on its store: tests/helpers/fleet_documents.py), another is synced from it by the
real `palisade sync` process (official SDKs, V3 signatures, loopback). Prints the seconds of
the dry run, of the first sync (the dry-run plan, then the writes through the API), and of a
second sync that finds nothing to change (a `--watch` round's cost).

    .venv/bin/python benchmarks/sync_fleet.py [--instances 500] [--groups 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from palisade.auditor.api.client import Credentials
from tests.helpers.auditor_process import start_auditor
from tests.helpers.fleet_documents import fleet_document
from tests.helpers.stored_state import apply_in_store
from tests.helpers.system import BIN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--groups", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cloud = start_auditor(Path(tmp) / "cloud")
        target = start_auditor(Path(tmp) / "target")
        try:
            apply_in_store(cloud, fleet_document(args.instances, args.groups))
            creds = Credentials.resolve(cloud.data_dir)
            env = {
                **os.environ,
                "ALIBABA_CLOUD_ACCESS_KEY_ID": creds.access_key_id,
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET": creds.access_key_secret,
                "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
            }
            for label, extra in (
                ("dry run", ["--dry-run"]),
                ("first sync", []),
                ("unchanged sync", []),
            ):
                started = time.perf_counter()
                done = subprocess.run(
                    [
                        str(BIN / "palisade"),
                        "--data-dir",
                        str(target.data_dir),
                        "sync",
                        "--endpoint",
                        f"http://{cloud.http}",
                        "--json",
                        *extra,
                    ],  # fmt: skip
                    env=env,
                    capture_output=True,
                    text=True,
                )
                elapsed = time.perf_counter() - started
                if done.returncode:
                    sys.exit(f"{label} failed: {done.stdout}{done.stderr}")
                changes = done.stdout.count('"Action"')
                print(f"{label:15s} {elapsed:7.1f} s  {changes} change(s)")
        finally:
            cloud.stop()
            target.stop()
    print(f"{args.instances} instances, {args.groups} groups of 5 rules")


if __name__ == "__main__":
    main()
