"""What the exposure checks are: id, title, severity, category, rationale and remediation."""

from palisade.auditor.checks.base import CheckMeta

LISTENER_COMMON_PORT = CheckMeta(
    id="exposure.internet_listener_common_port",
    title="A service on a well-known port is reachable from the internet",
    severity="suspicious",
    category="exposure",
    rationale=(
        "Databases, caches and remote administration reachable from the whole internet are "
        "scanned within minutes and are the usual way in."
    ),
    remediation=(
        "Restrict the rule to the addresses that need the service (an office CIDR, another "
        "security group), or bind the service to 127.0.0.1 / the private address."
    ),
)

LISTENER_UNRECOGNISED_PORT = CheckMeta(
    id="exposure.internet_listener_unrecognised_port",
    title="A service on an unrecognised port is reachable from the internet",
    severity="suspicious",
    category="exposure",
    rationale=(
        "A listener nobody recognises that the internet can reach is often a forgotten debug "
        "server or a backdoor."
    ),
    remediation=(
        "Find the process (details: process, pid), stop it if unneeded, and narrow the rule "
        "that opens the port."
    ),
)

RULE_OPENS_UNUSED_PORTS = CheckMeta(
    id="exposure.rule_opens_unused_ports",
    title="A security group rule opens ports to the internet where nothing listens",
    severity="remind",
    category="exposure",
    rationale=(
        "Least privilege: a rule should open single ports that are in use. Open ports where "
        "nothing listens today let in whatever starts listening tomorrow."
    ),
    remediation="Revoke the rule, or narrow its port range to the ports in use.",
)

HIGH_RISK_PORT_WORLD_OPEN = CheckMeta(
    id="exposure.high_risk_port_open_to_world",
    title="A high-risk port is open to 0.0.0.0/0",
    severity="suspicious",
    category="exposure",
    rationale=(
        "The ECS security guide advises care with 0.0.0.0/0: database, cache, file-sharing "
        "and remote administration ports should only be open to known addresses."
    ),
    remediation=(
        "Replace 0.0.0.0/0 with the addresses that need access, or authorise a security group."
    ),
)
