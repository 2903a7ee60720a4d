"""`palisade-agent uninstall`: the agent leaves the host and the fleet.

    uninstall --state-dir DIR [--unit PATH] [--reason TEXT] [--force]

In this order: the service unit is stopped and disabled (systemd, when it runs the host); an
agent still running with the state dir stops the uninstall; the auditor revokes the
certificate (Ingest.Revoke over the agent's own mutual-TLS identity, so only the instance
itself can ask), after which it refuses that certificate for good; then the state dir (key,
certificate, spool, status) and the unit file are removed. Messages still waiting in the spool
would be lost: they stop the uninstall unless `--force`. An auditor that cannot be reached also
stops it unless `--force`, which then removes the local state without the revocation (and says
so: the certificate stays valid until the instance enrols again or an operator re-enrols it).

Exit status: 0 done, 1 refused or failed (nothing removed), 2 usage.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TextIO

import grpc

from palisade.agent import spool as spool_module
from palisade.agent.health import report
from palisade.agent.state import AgentState, EnrolmentError
from palisade.agent.transport import CHANNEL_OPTIONS
from palisade.shared.proto import agent_pb2, agent_pb2_grpc

DEFAULT_UNIT = Path("/etc/systemd/system/palisade-agent.service")
REVOKE_TIMEOUT_S = 15.0


class UninstallRefused(Exception):
    """Why the uninstall stopped before removing anything."""


def _systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def stop_unit(unit: Path, out: TextIO) -> None:
    """Stops and disables the unit when systemd manages this host (else there is nothing
    running it that we could ask)."""
    if unit.exists() and _systemd_running():
        done = subprocess.run(
            ["systemctl", "disable", "--now", unit.name], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise UninstallRefused(f"systemctl disable --now {unit.name}: {done.stderr.strip()}")
        print(f"stopped and disabled {unit.name}", file=out)


def revoke(state: AgentState, reason: str, timeout: float = REVOKE_TIMEOUT_S) -> str:
    """Asks the auditors in turn to revoke this certificate; the instance id on success.
    A certificate the auditor already refuses (revoked, or superseded by a re-enrolment)
    counts as revoked. Raises UninstallRefused when no auditor answered."""
    failures = []
    credentials = state.credentials()
    for address in state.auditors:
        with grpc.secure_channel(address, credentials, options=CHANNEL_OPTIONS) as channel:
            try:
                reply = agent_pb2_grpc.IngestStub(channel).Revoke(
                    agent_pb2.RevokeRequest(reason=reason), timeout=timeout
                )
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else None
                if code is grpc.StatusCode.PERMISSION_DENIED:
                    return state.instance_id  # the auditor no longer takes this certificate
                failures.append(f"{address}: {code.name if code else '?'} {exc.details()}")
                continue
        return reply.instance_id
    raise UninstallRefused(
        "no auditor revoked the certificate (" + ("; ".join(failures) or "none configured") + ")"
    )


def uninstall(
    state_dir: Path, unit: Path, reason: str, force: bool, out: TextIO, err: TextIO
) -> int:
    try:
        state = AgentState.load(state_dir)
    except EnrolmentError as exc:
        print(f"uninstall: {exc}", file=err)
        return 1
    try:
        stop_unit(unit, out)
        _code, facts, _lines = report(state_dir)
        if facts.get("running"):
            raise UninstallRefused(
                "an agent is still running with this state dir: stop it first "
                "(its service, or the `palisade-agent run` process)"
            )
        messages, _events, _dropped = spool_module.depth(state_dir / "spool")
        if messages and not force:
            raise UninstallRefused(
                f"{messages} message(s) in the spool were never delivered: run the agent until "
                "they are sent, or give --force to discard them"
            )
        try:
            revoked = revoke(state, reason)
            print(f"the auditor revoked the certificate of {revoked}", file=out)
        except UninstallRefused as exc:
            if not force:
                raise
            print(
                f"uninstall: {exc}; --force: removing the local state anyway (the certificate "
                "stays valid at the auditor until the instance enrols again)",
                file=err,
            )
    except UninstallRefused as exc:
        print(f"uninstall: {exc}; nothing was removed", file=err)
        return 1
    shutil.rmtree(state_dir)
    print(f"removed {state_dir}", file=out)
    if unit.exists():
        unit.unlink()
        print(f"removed {unit}", file=out)
        if _systemd_running():
            subprocess.run(["systemctl", "daemon-reload"], capture_output=True)
    return 0


def cmd_uninstall(args) -> int:
    return uninstall(
        Path(args.state_dir), Path(args.unit), args.reason, args.force, sys.stdout, sys.stderr
    )


def add_command(sub) -> None:
    u = sub.add_parser(
        "uninstall",
        help="revoke this agent's certificate at the auditor, remove its state dir and service",
    )
    u.add_argument("--state-dir", required=True)
    u.add_argument(
        "--unit", default=str(DEFAULT_UNIT), help=f"its systemd unit file (default {DEFAULT_UNIT})"
    )
    u.add_argument("--reason", default="palisade-agent uninstall", help="for the auditor's log")
    u.add_argument(
        "--force",
        action="store_true",
        help="discard undelivered messages; remove the local state even if no auditor answers",
    )
    u.set_defaults(func=cmd_uninstall)
