"""What the login checks are: id, title, severity, category, rationale and remediation."""

from palisade.auditor.checks.base import CheckMeta

BRUTE_FORCE = CheckMeta(
    id="login.brute_force",
    title="Brute-force login attempts",
    severity="suspicious",
    category="login",
    rationale="Many failed logins from one source in a short time is password guessing.",
    remediation=(
        "Block the source in the security group, disable password login (use a key pair), "
        "and consider fail2ban."
    ),
    kind="event",
)

BRUTE_FORCE_SUCCESS = CheckMeta(
    id="login.brute_force_success",
    title="Successful login after repeated failures from the same source",
    severity="serious",
    category="login",
    rationale="A success right after many failures from one source is a guessed password.",
    remediation=(
        "Treat the account as compromised: change its password, review the session and the "
        "host, and block the source."
    ),
    kind="event",
)

NEW_SOURCE = CheckMeta(
    id="login.new_source",
    title="Login from a source never seen for this instance",
    severity="suspicious",
    category="login",
    rationale="A successful login from an address the instance never saw before.",
    remediation="Confirm with the account's owner; if unknown, treat it as a compromise.",
    kind="event",
)

UNUSUAL_HOUR = CheckMeta(
    id="login.unusual_hour",
    title="Login at an unusual hour",
    severity="remind",
    category="login",
    rationale="A successful login at an hour of day when this instance never saw one.",
    remediation="Confirm with the account's owner.",
    kind="event",
)

UNUSUAL_ACCOUNT = CheckMeta(
    id="login.unusual_account",
    title="Login with an account never used on this instance",
    severity="suspicious",
    category="login",
    rationale="A successful login with an account that never logged in here before.",
    remediation="Confirm the account is expected; remove or lock accounts nobody uses.",
    kind="event",
)

SOURCE_DROPPED_BY_MODEL = CheckMeta(
    id="login.source_blocked_by_security_group",
    title="Successful login from a source the security groups would drop",
    severity="serious",
    category="login",
    rationale=(
        "The modelled security groups drop this source, yet it logged in: the model is out of "
        "date or something (another NIC, a tunnel, a port forward) bypasses it."
    ),
    remediation=(
        "Find how the connection got in (another NIC, a VPN, a forwarded port) and fix the "
        "model or close the path; review the session."
    ),
    kind="event",
)

FLEET_FAILURES = CheckMeta(
    id="login.source_failing_across_fleet",
    title="One source fails to log in on many instances",
    severity="suspicious",
    category="login",
    rationale="Failed logins from one source on several instances is a scan of the fleet.",
    remediation="Block the source in the security groups of the affected instances.",
    kind="event",
)

SSH_SCANNER = CheckMeta(
    id="login.ssh_scanner",
    title="SSH scanner or protocol abuse from one source",
    severity="remind",
    category="login",
    rationale=(
        "Many connections from one source that never tried to log in (no identification "
        "string, a garbage banner, protocol errors, failed negotiation, timeouts before "
        "authentication) is a scanner mapping the host's SSH service, not password guessing."
    ),
    remediation=(
        "Restrict the SSH port in the security group to the addresses that need it; if it "
        "must stay open, rate-limit new connections (sshd MaxStartups, PerSourcePenalties)."
    ),
    kind="event",
)
