"""`palisade api ACTION Name=Value...`: one signed call to the running auditor; prints the
answer's JSON and exits 1 when the action failed. `palisade api --help [ACTION]` lists the
actions (or one action's parameters) from the action registry itself, so it cannot drift from
what the server accepts."""

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


def describe_actions() -> str:
    """Every action, grouped by the product that owns it, with the RAM action it needs."""
    from palisade.auditor.api.actions import ecs  # noqa: F401  (registers every action)
    from palisade.auditor.api.registry import PRODUCT_ACTIONS

    lines = [
        "Actions (`palisade api --help ACTION` for one action's parameters):",
    ]
    specs = PRODUCT_ACTIONS.values()
    for service in sorted({spec.service for spec in specs}):
        lines.append("")
        lines.append(f"{service}:")
        for spec in sorted(specs, key=lambda s: s.name):
            if spec.service == service:
                kind = "write" if spec.writes else "read "
                lines.append(f"  {spec.name:<40} {kind}  RAM action {spec.ram_action}")
    return "\n".join(lines)


def describe_action(name: str) -> str | None:
    """One action: its RAM action, whether it changes anything, its parameters and what its
    handler's docstring says; None when there is no such action."""
    import inspect

    from palisade.auditor.api.actions import ecs  # noqa: F401  (registers every action)
    from palisade.auditor.api.registry import ACTIONS

    spec = ACTIONS.get(name)
    if spec is None:
        return None
    lines = [
        f"{spec.name} ({spec.service})",
        f"  RAM action: {spec.ram_action}",
        f"  changes state: {'yes' if spec.writes else 'no'}",
        "  parameters: " + (", ".join(sorted(spec.params)) or "(none)"),
        "  lists: Name.1=..., Name.2=... or a JSON array in Name; Name=@FILE reads a file",
    ]
    doc = inspect.getdoc(spec.handler)
    if doc:
        lines += ["", *("  " + line for line in doc.splitlines())]
    return "\n".join(lines)


def cmd_help(action: str | None) -> int:
    if action is None:
        print(describe_actions())
        return 0
    text = describe_action(action)
    if text is None:
        return _error(
            "InvalidAction.NotFound", f"no action named {action!r}; see `palisade api --help`"
        )
    print(text)
    return 0


def write_output(path: Path, body: dict) -> None:
    """An export's `Document` (the file ImportSecurityGroupRules takes back), else the whole
    answer, written whole or not at all."""
    from palisade.shared.atomic_file import write_text_atomic

    document = body.get("Document")
    if isinstance(document, (dict, list)):
        text = json.dumps(document, indent=2, ensure_ascii=False)
    elif isinstance(document, str):
        text = document
    else:
        text = json.dumps(body, indent=2, ensure_ascii=False)
    write_text_atomic(path, text + ("" if text.endswith("\n") else "\n"))


def pick(body: object, path: str) -> object:
    """The value at a dotted `path` of an answer (`VpcId`, `InstanceIdSets.InstanceIdSet.0`:
    a number indexes a list); KeyError when there is none."""
    value = body
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(part)
    return value


def cmd_api(d: DataDir, args) -> int:
    from palisade.auditor.api.client import Credentials, call

    if args.help or not args.action:
        return cmd_help(args.action)
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
    if status == 200 and args.output:
        try:
            write_output(Path(args.output), body)
        except OSError as exc:
            return _error("OutputNotWritten", f"cannot write {args.output}: {exc}")
        print(json.dumps({"RequestId": body.get("RequestId", ""), "Output": args.output}, indent=2))
        return 0
    if status == 200 and args.get:
        try:
            value = pick(body, args.get)
        except KeyError as exc:
            return _error("InvalidField.NotFound", f"the answer has no {args.get} ({exc} missing)")
        print(value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False))
        return 0
    print(json.dumps(body, indent=2, ensure_ascii=False))
    return 0 if status == 200 else 1


def add_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    """Registers `api` on the `palisade` parser."""
    a = sub.add_parser(
        "api",
        help="call one ECS-style action, e.g. "
        "`palisade api DescribeSecurityGroups RegionId=cn-hangzhou`; "
        "`palisade api --help [ACTION]` lists them",
        add_help=False,  # --help takes an optional ACTION: our own, below
    )
    a.add_argument(
        "-h",
        "--help",
        action="store_true",
        help="list the actions, or with ACTION its RAM action and parameters",
    )
    a.add_argument("--data-dir", default=argparse.SUPPRESS)
    a.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the answer to FILE (an export's Document: the file its import takes back)",
    )
    a.add_argument(
        "--get",
        metavar="PATH",
        help="print only the answer's value at PATH, e.g. VpcId or "
        "InstanceIdSets.InstanceIdSet.0 (a string bare, for VPC=$(palisade api ... --get VpcId))",
    )
    a.add_argument("action", nargs="?")
    a.add_argument("params", nargs="*", metavar="Name=Value")
    a.set_defaults(func=lambda args: cmd_api(data_dir(args), args))
