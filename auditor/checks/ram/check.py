"""RAM hygiene (account-wide, so a fleet check): users with both a console password and an
active AccessKey (auditor/model/ram/findings.py)."""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.checks.base import Evidence, Finding
from palisade.auditor.checks.inputs import FleetInput
from palisade.auditor.checks.ram.metadata import PASSWORD_AND_ACCESS_KEY
from palisade.auditor.checks.registry import fleet_check
from palisade.auditor.model.ram.findings import users_with_password_and_access_keys


@dataclass(frozen=True, kw_only=True)
class RamUserEvidence(Evidence):
    user_name: str
    access_key_ids: tuple[str, ...]


@fleet_check(PASSWORD_AND_ACCESS_KEY)
def user_password_and_access_key(inp: FleetInput) -> list[Finding]:
    return [
        PASSWORD_AND_ACCESS_KEY.finding(
            None,
            f.user_name,
            f"RAM user {f.user_name} has a console password and active AccessKey(s) "
            f"{', '.join(f.access_key_ids)}.",
            RamUserEvidence(user_name=f.user_name, access_key_ids=tuple(f.access_key_ids)),
        )
        for f in users_with_password_and_access_keys(inp.state.ram)
    ]
