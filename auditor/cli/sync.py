"""`palisade sync`: read a cloud account through the official SDKs (read-only) and make the
auditor's model hold it, through the API actions `palisade apply` uses (auditor/sync/).

Like `apply`, every round is first planned by the auditor on a copy of its model (DescribeSyncPlan,
nothing stored): that plan is the difference `--dry-run` prints, and a round that would fail
anywhere changes nothing. Bad credentials or an unreachable endpoint stop before anything
is written."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable

from palisade.auditor.cli.fleet import (
    _fail,
    _print_result,
    own_account,
    remote_api,
    remote_plan,
)
from palisade.auditor.fleetspec.apply import ApiCallError, ApplyResult
from palisade.auditor.server.data_dir import DataDir


class _Stop(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def cmd_sync(args, data_dir: Callable[[argparse.Namespace], DataDir]) -> int:
    from palisade.auditor.sync.credentials import CredentialsError, credential_client
    from palisade.auditor.sync.reader import Endpoint, Reader, SyncError
    from palisade.auditor.sync.run import sync_once, watch

    d = data_dir(args)
    # the SDK's metadata provider schedules refreshes through APScheduler, which logs each one
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        credential = credential_client(args.profile, args.metadata)
    except CredentialsError as err:
        return _fail("InvalidCredentials", f"{err} (nothing was changed)")
    reader = Reader(credential, Endpoint(args.endpoint))

    def one_round() -> ApplyResult:
        try:
            snapshot = reader.snapshot(args.region or [])
        except SyncError as err:
            message = f"reading the cloud: {err.message} (nothing was changed)"
            raise _Stop(_fail(err.code, message)) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # an answer's shape
            message = f"reading the cloud: unexpected answer {exc!r:.200} (nothing was changed)"
            raise _Stop(_fail("InvalidCloudAnswer", message)) from None
        try:
            planned = remote_plan(d, "DescribeSyncPlan", "Snapshot", snapshot)
        except ApiCallError as err:
            if err.action == "-":  # no auditor, or no credentials for it
                raise _Stop(_fail(err.code, err.message)) from None
            message = f"{err.action}: {err.message} (nothing was changed)"
            raise _Stop(_fail(err.code, message)) from None
        if args.dry_run or not planned.changes:
            return planned
        try:
            return sync_once(snapshot, remote_api(d), own_account(d))
        except ApiCallError as err:
            raise _Stop(_fail(err.code, f"{err.action}: {err.message}")) from None

    def report(n: int, result: ApplyResult) -> None:
        if n and result.changes:
            for c in result.changes:
                print(f"drift: {c}")
            if not args.dry_run:
                _report_drift(d, result, args.endpoint)
        _print_result(result, args.json, args.dry_run)
        sys.stdout.flush()

    rounds_done = 0

    def watched_round() -> ApplyResult:
        """A failed round after the first (the cloud unreachable for a while) is printed and
        the watch goes on; the first one's failure ends it (credentials, endpoint)."""
        nonlocal rounds_done
        rounds_done += 1
        try:
            return one_round()
        except _Stop:
            if rounds_done == 1:
                raise
            return ApplyResult(notes=["this round failed (above); the next one tries again"])

    try:
        if args.watch is None:
            report(0, one_round())
        else:
            watch(watched_round, args.watch, report)
    except _Stop as stop:
        return stop.code
    except KeyboardInterrupt:
        return 130
    return 0


def _report_drift(d: DataDir, result: ApplyResult, endpoint: str | None) -> None:
    """Hand a round's drift to the auditor (ReportCloudDrift): one `cloud.drift` alert per
    changed resource. A failure is printed; the watch goes on."""
    changes = [{"Resource": c.resource, "Change": str(c)} for c in result.changes]
    params = {"Changes": json.dumps(changes), "Source": endpoint or "the cloud's endpoints"}
    try:
        body = remote_api(d)("ReportCloudDrift", params)
    except ApiCallError as err:
        print(f"drift not reported: {err.code}: {err.message}", file=sys.stderr)
        return
    print(f"drift reported: {body.get('Resources', 0)} resource(s), cloud.drift alerts")


def add_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    s = sub.add_parser(
        "sync",
        help="read a cloud account through the official SDKs and make the model hold it",
    )
    s.add_argument("--data-dir", default=argparse.SUPPRESS)
    s.add_argument(
        "--endpoint",
        help="one endpoint for every product, e.g. http://127.0.0.1:8080 (another Palisade "
        "auditor); default: the cloud's regional endpoints",
    )
    s.add_argument("--region", action="append", help="a region to read (repeatable; default: all)")
    s.add_argument("--profile", help="an aliyun CLI profile (~/.aliyun/config.json)")
    s.add_argument(
        "--metadata",
        metavar="URL",
        help="the instance metadata endpoint whose RAM role to use (e.g. the agent's "
        "http://127.0.0.1:51100)",
    )
    s.add_argument("--dry-run", action="store_true", help="print the difference, change nothing")
    s.add_argument(
        "--watch", type=float, metavar="SECONDS", help="sync again every SECONDS (drift)"
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=lambda args: cmd_sync(args, data_dir))
