"""`palisade token create`: a single-use enrolment token for one instance."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from palisade.auditor.server.data_dir import DataDir

DEFAULT_TOKEN_TTL = "1h"


def _duration(text: str) -> int:
    """'90s', '15m', '1h', '7d' -> milliseconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 15m, 1h or 7d")
    return int(text[:-1]) * units[text[-1]] * 1000


def cmd_token_create(d: DataDir, args) -> int:
    instance_id = args.instance_id
    if (
        not instance_id
        or len(instance_id) > 128
        or not all(c.isalnum() or c in "-_." for c in instance_id)
    ):
        print(
            "error: --instance-id must be 1..128 letters, digits, '-', '_' or '.'", file=sys.stderr
        )
        return 2
    store = d.store()
    token = store.create_token(instance_id, int(time.time() * 1000), args.ttl)
    print(f"{token}.{d.ca().pin}")
    return 0


def add_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    """Registers `token create` on the `palisade` parser."""
    t = sub.add_parser("token", help="enrolment tokens")
    tsub = t.add_subparsers(dest="token_command", required=True)
    tc = tsub.add_parser("create", help="print a single-use enrolment token for one instance")
    tc.add_argument("--data-dir", default=argparse.SUPPRESS)
    tc.add_argument("--instance-id", required=True)
    tc.add_argument(
        "--ttl",
        type=_duration,
        default=_duration(DEFAULT_TOKEN_TTL),
        help="how long the token stays valid (default 1h)",
    )
    tc.set_defaults(func=lambda args: cmd_token_create(data_dir(args), args))
