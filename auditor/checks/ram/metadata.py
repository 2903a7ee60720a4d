"""What the RAM checks are: id, title, severity, category, rationale and remediation."""

from palisade.auditor.checks.base import CheckMeta
from palisade.auditor.model.ram.findings import ONE_LOGIN_METHOD_ADVICE

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
