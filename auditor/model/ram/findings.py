"""RAM hygiene the ECS security guide advises, as findings for the checks to raise."""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.model.ram.account import RamAccount
from palisade.auditor.model.ram.entities import AccessKeyStatus

ONE_LOGIN_METHOD_ADVICE = (
    "Give a RAM user one access method, console password or AccessKey: one of the two is "
    "enough, and a user who leaves the organisation could otherwise keep using the "
    "AccessKey (为了保障账号安全，建议仅为RAM用户选择一种登录方式)."
)


@dataclass(frozen=True)
class DualAccessFinding:
    user_name: str
    access_key_ids: tuple[str, ...]
    advice: str = ONE_LOGIN_METHOD_ADVICE


def users_with_password_and_access_keys(account: RamAccount) -> list[DualAccessFinding]:
    """Users holding both a console password and an active AccessKey."""
    findings = []
    for user in account.users.values():
        active = tuple(
            k.access_key_id for k in user.access_keys.values() if k.status is AccessKeyStatus.ACTIVE
        )
        if user.login_profile is not None and active:
            findings.append(DualAccessFinding(user.user_name, active))
    return findings
