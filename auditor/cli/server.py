"""`palisade serve` (run the auditor), `palisade up` and `palisade down` (an auditor and an
agent on this host, for trying Palisade out)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from palisade.auditor.api.http import DEFAULT_TIMEOUT_S
from palisade.auditor.api.instance_credentials import DEFAULT_TTL as DEFAULT_STS_TTL
from palisade.auditor.api.instance_credentials import MAX_TTL, MIN_TTL
from palisade.auditor.checks import CheckSettings, settings_schema
from palisade.auditor.ingest.server import DEFAULT_MAX_MESSAGE_BYTES
from palisade.auditor.notify import hook_targets
from palisade.auditor.server import config
from palisade.auditor.server.config import ConfigDocument, ConfigError
from palisade.auditor.server.serve import DataDir, serve

DEFAULT_GRPC = "127.0.0.1:50051"
DEFAULT_HTTP = "127.0.0.1:8080"
DEFAULT_MAX_MESSAGE = DEFAULT_MAX_MESSAGE_BYTES


def _sts_ttl(text: str) -> int:
    low, high = int(MIN_TTL.total_seconds()), int(MAX_TTL.total_seconds())
    if not text.isdigit() or not low <= int(text) <= high:
        raise argparse.ArgumentTypeError(f"must be {low} to {high} seconds")
    return int(text)


def _allowed_hook_hosts(args, from_file: list[str] | None = None) -> frozenset[str]:
    """--allow-hook-host (repeatable), else $PALISADE_ALLOW_HOOK_HOSTS (comma-separated),
    else the settings file's serve.allow_hook_hosts."""
    given = (
        args.allow_hook_host
        or ([os.environ[hook_targets.ALLOW_ENV]] if os.environ.get(hook_targets.ALLOW_ENV) else [])
        or from_file
        or []
    )
    try:
        return hook_targets.parse_allowed(given)
    except ValueError as exc:
        raise SystemExit(f"palisade serve: --allow-hook-host: {exc}") from None


def _http_timeout(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError("between 1 and 3600 seconds")
    return value


def _non_negative_seconds(text: str) -> int:
    if not text.isdigit() or int(text) > 10 * 365 * 86400:
        raise argparse.ArgumentTypeError("a number of seconds, 0 to 315360000")
    return int(text)


def _config(args) -> ConfigDocument:
    if not args.config:
        return ConfigDocument()
    try:
        return config.load(Path(args.config))
    except ConfigError as exc:
        raise SystemExit(f"palisade serve: --config {exc}") from None


class _Given(argparse.Action):
    """Stores the value and notes that the flag was given (it then wins over the file)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = getattr(namespace, "given", frozenset()) | {self.dest}


def serve_options(args) -> dict:
    """`serve`'s keyword arguments: a flag given on the command line, else the settings
    file's value, else the flag's default."""
    cfg = _config(args)
    given = getattr(args, "given", frozenset())

    def pick(dest: str, from_file):
        value = getattr(args, dest)
        return value if dest in given or from_file is None else from_file

    f = cfg.serve
    reopen_s = pick("handled_reopen_after", cfg.alerts.handled_reopen_after_s)
    return {
        "grpc_address": pick("grpc", f.grpc),
        "http_address": pick("http", f.http),
        "db": pick("db", f.db),
        "max_message_bytes": pick("max_message_bytes", f.max_message_bytes),
        "enroll_address": pick("enroll", f.enroll),
        "sts_ttl": dt.timedelta(seconds=pick("sts_ttl", f.sts_ttl_s)),
        "check_period_s": float(pick("check_period", f.check_period_s)),
        "allow_hook_hosts": _allowed_hook_hosts(args, f.allow_hook_hosts),
        "http_timeout_s": pick("http_timeout", f.http_timeout_s),
        "handled_reopen_after": dt.timedelta(seconds=reopen_s) if reopen_s else None,
        "check_settings": settings_schema.apply(CheckSettings(), cfg.checks),
        "limits": cfg.limits.model_dump(),
    }


def cmd_serve(d: DataDir, args) -> int:
    asyncio.run(serve(d.path, **serve_options(args)))
    return 0


def cmd_up(d: DataDir, args) -> int:
    from palisade.auditor.server.local_stack import up

    return up(d.path, args.grpc, args.http, args.interval)


def cmd_down(d: DataDir, args) -> int:
    from palisade.auditor.server.local_stack import down

    return down(d.path)


def add_serve_command(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    """Registers `serve` on the `palisade` parser."""
    s = sub.add_parser("serve", help="run the auditor")
    s.add_argument("--data-dir", default=argparse.SUPPRESS)
    s.add_argument(
        "--config",
        metavar="FILE",
        help="the settings file (TOML: [serve], [checks], [alerts]; README 'Settings file'); "
        "a flag given here wins over it",
    )
    s.add_argument(
        "--grpc",
        action=_Given,
        default=DEFAULT_GRPC,
        help="agent port (HOST:PORT, port 0 = any)",
    )
    s.add_argument(
        "--enroll", action=_Given, help="enrolment port (HOST:PORT; default: the --grpc port + 1)"
    )
    s.add_argument("--http", action=_Given, default=DEFAULT_HTTP, help="API and dashboard port")
    s.add_argument(
        "--db",
        action=_Given,
        help="database URL (default: SQLite in the data dir; "
        "postgresql://... for several replicas)",
    )
    s.add_argument("--max-message-bytes", action=_Given, type=int, default=DEFAULT_MAX_MESSAGE)
    s.add_argument(
        "--check-period",
        type=float,
        action=_Given,
        default=60.0,
        metavar="SECONDS",
        help="how often every instance is re-checked (they are also checked on every report)",
    )
    s.add_argument(
        "--handled-reopen-after",
        type=_non_negative_seconds,
        action=_Given,
        default=0,
        metavar="SECONDS",
        help="a handled alert whose condition is still reported this long after it was handled "
        "reopens (default 0: it stays 'handled, still present' until the condition clears)",
    )
    s.add_argument(
        "--http-timeout",
        type=_http_timeout,
        action=_Given,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"close an HTTP connection idle or stalled this long (default {DEFAULT_TIMEOUT_S})",
    )
    s.add_argument(
        "--sts-ttl",
        type=_sts_ttl,
        action=_Given,
        default=int(DEFAULT_STS_TTL.total_seconds()),
        metavar="SECONDS",
        help="lifetime of the STS credentials instances get for their RAM role "
        "(default 3600; 15 to 43200)",
    )
    s.add_argument(
        "--allow-hook-host",
        action="append",
        metavar="NAME",
        help="a host SMS hooks may reach although it is loopback, private or link-local "
        f"(repeatable; default: ${hook_targets.ALLOW_ENV}, comma-separated)",
    )
    s.set_defaults(func=lambda args: cmd_serve(data_dir(args), args))


def add_local_stack_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    """Registers `up` and `down` on the `palisade` parser."""
    u = sub.add_parser("up", help="start an auditor and an agent on this host (make run)")
    u.add_argument("--data-dir", default=argparse.SUPPRESS)
    u.add_argument("--grpc", default="127.0.0.1:50051")
    u.add_argument("--http", default="127.0.0.1:8080")
    u.add_argument("--interval", type=float, default=10.0, help="agent snapshot interval (s)")
    u.set_defaults(func=lambda args: cmd_up(data_dir(args), args))
    dn = sub.add_parser("down", help="stop what `palisade up` started")
    dn.add_argument("--data-dir", default=argparse.SUPPRESS)
    dn.set_defaults(func=lambda args: cmd_down(data_dir(args), args))
