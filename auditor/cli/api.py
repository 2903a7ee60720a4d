"""`palisade api ACTION Name=Value...`: one signed call to the running auditor; prints the
answer's JSON and exits 1 when the action failed."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from palisade.auditor.server.data_dir import DataDir


def _error(code: str, message: str) -> int:
    print(json.dumps({"Code": code, "Message": message, "RequestId": ""}, indent=2))
    return 1


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`Name=Value` pairs; `Name=@FILE` reads the value from FILE (`@@` for a literal @)."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"{item!r} is not Name=Value")
        if value.startswith("@@"):
            value = value[1:]
        elif value.startswith("@"):
            value = Path(value[1:]).read_text()
        if name in params:
            raise ValueError(f"{name} is given twice")
        params[name] = value
    return params


def cmd_api(d: DataDir, args) -> int:
    from palisade.auditor.api.client import Credentials, call

    try:
        params = parse_assignments(args.params)
    except (ValueError, OSError) as exc:
        return _error("InvalidParameter", str(exc))
    endpoint = d.state().get("http")
    if not endpoint:
        return _error(
            "AuditorNotFound",
            f"no auditor has written {d.state_file}: is "
            "`palisade serve` running with this --data-dir?",
        )
    try:
        credentials = Credentials.resolve(d.path)
    except LookupError as exc:
        return _error("MissingCredentials", str(exc))
    try:
        status, body = call(endpoint, credentials, args.action, params)
    except OSError as exc:
        return _error("AuditorUnreachable", f"cannot reach the auditor at {endpoint}: {exc}")
    print(json.dumps(body, indent=2, ensure_ascii=False))
    return 0 if status == 200 else 1


def add_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    """Registers `api` on the `palisade` parser."""
    a = sub.add_parser(
        "api",
        help="call one ECS-style action, e.g. "
        "`palisade api DescribeSecurityGroups RegionId=cn-hangzhou`",
    )
    a.add_argument("--data-dir", default=argparse.SUPPRESS)
    a.add_argument("action")
    a.add_argument("params", nargs="*", metavar="Name=Value")
    a.set_defaults(func=lambda args: cmd_api(data_dir(args), args))
