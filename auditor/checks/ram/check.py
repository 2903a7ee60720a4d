"""RAM hygiene (account-wide, so a fleet check): users with both a console password and an
active AccessKey (auditor/model/ram/findings.py)."""

from __future__ import annotations

from palisade.auditor.checks.base import CheckMeta, Finding, FleetInput, fleet_check
from palisade.auditor.model.ram.findings import (
    ONE_LOGIN_METHOD_ADVICE,
    users_with_password_and_access_keys,
)

PASSWORD_AND_ACCESS_KEY = CheckMeta(
    id="ram.user_password_and_access_key",
    title="A RAM user has both a console password and an AccessKey",
    severity="remind",
    category="ram",
    rationale=ONE_LOGIN_METHOD_ADVICE,
    remediation=(
        "Give the user one access method: delete its login profile (people) or its AccessKeys "
        "(programs)."
    ),
)


@fleet_check(PASSWORD_AND_ACCESS_KEY)
def user_password_and_access_key(inp: FleetInput) -> list[Finding]:
    return [
        PASSWORD_AND_ACCESS_KEY.finding(
            None,
            f.user_name,
            f"RAM user {f.user_name} has a console password and active AccessKey(s) "
            f"{', '.join(f.access_key_ids)}.",
            {"user_name": f.user_name, "access_key_ids": list(f.access_key_ids)},
        )
        for f in users_with_password_and_access_keys(inp.state.ram)
    ]
