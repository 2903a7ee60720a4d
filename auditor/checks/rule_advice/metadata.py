"""What the rule-advice checks are: id, title, severity, category, rationale and remediation.
Each finding's own severity is the analysis's (high: serious, medium: suspicious, low and
info: remind); the severity here is the usual one."""

from palisade.auditor.checks.base import CheckMeta

RULE_SHADOWED = CheckMeta(
    id="rules.shadowed",
    title="A security group rule never decides",
    severity="remind",
    category="rules",
    rationale="Stronger or earlier rules of the group cover all of this rule's traffic, so it "
    "never applies; a rule set with dead rules is harder to read and to audit.",
    remediation="Remove the rule, or give it a smaller priority number if it was meant to win.",
)
RULE_DUPLICATE = CheckMeta(
    id="rules.duplicate",
    title="A security group rule repeats another",
    severity="remind",
    category="rules",
    rationale="Two rules with the same direction, policy, protocol, ports, peer and priority "
    "count twice against the rule limit and do the work of one.",
    remediation="Remove one of the two rules.",
)
RULE_CONFLICT = CheckMeta(
    id="rules.conflict",
    title="An accept rule and a drop rule of equal priority overlap",
    severity="suspicious",
    category="rules",
    rationale="On equal priority drop wins: where the two rules overlap the accept rule does "
    "not apply, which is rarely what its author meant.",
    remediation="Remove one of the rules or give them different priorities.",
)
RULE_TOO_BROAD = CheckMeta(
    id="rules.too_broad",
    title="A rule accepts a port range or every protocol from the whole internet",
    severity="suspicious",
    category="rules",
    rationale="The ECS security guide: open single ports to the sources that need them (least "
    "privilege); a range or all protocols from 0.0.0.0/0 exposes whatever listens there.",
    remediation="Replace the rule by rules for single ports (e.g. 80/80) and narrow the source.",
)
RULE_NEAR_LIMIT = CheckMeta(
    id="rules.near_limit",
    title="A security group or NIC is near its limit",
    severity="remind",
    category="rules",
    rationale="A group holds at most 200 rules and a NIC is governed by at most 1,000 across "
    "its groups (and joins a limited number of groups); near the limit a needed rule cannot "
    "be added in an incident.",
    remediation="Remove redundant rules, merge groups with the same needs or split by tier.",
)
RULE_PRACTICE = CheckMeta(
    id="rules.practice",
    title="Security groups are not used as the ECS security guide advises",
    severity="remind",
    category="rules",
    rationale="The ECS security guide: groups are allow-lists starting from deny-all, tiers "
    "get their own groups, and instances with the same needs share one.",
    remediation="Start from deny-all and open what is needed; give each tier its own group; "
    "test changes on a clone of a production group first.",
)
