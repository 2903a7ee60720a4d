"""Cross-checks of the cloud model against what the hosts report. Prowler style: one folder
per check family, its checks pure functions in check.py and their metadata in metadata.py;
base.py (CheckMeta, Finding), inputs.py (what a check reads) and registry.py (what runs them)
are shared. Importing this package registers every check; run them with
`run_instance_checks` / `run_fleet_checks`."""

from palisade.auditor.checks.base import CheckMeta, Finding
from palisade.auditor.checks.baseline import check as baseline  # noqa: F401  (registration on import)
from palisade.auditor.checks.ddos import check as ddos  # noqa: F401  (registration on import)
from palisade.auditor.checks.drift import check as drift  # noqa: F401  (registration on import)
from palisade.auditor.checks.exposure import check as exposure  # noqa: F401  (registration on import)
from palisade.auditor.checks.inputs import CheckInput, CheckSettings, FleetInput, InstanceHistory
from palisade.auditor.checks.keypairs import check as keypairs  # noqa: F401  (registration on import)
from palisade.auditor.checks.logins import check as logins  # noqa: F401  (registration on import)
from palisade.auditor.checks.ram import check as ram  # noqa: F401  (registration on import)
from palisade.auditor.checks.registry import (
    CHECK_ERROR,
    FLEET_CHECKS,
    INSTANCE_CHECKS,
    CheckRun,
    all_metas,
    evaluate_fleet,
    evaluate_instance,
    fleet_check,
    instance_check,
    run_fleet_checks,
    run_instance_checks,
)
from palisade.auditor.checks.rule_advice import check as rule_advice  # noqa: F401  (registration on import)
from palisade.auditor.checks.secrets import check as secrets  # noqa: F401  (registration on import)
from palisade.auditor.checks.vulnerabilities import check as vulnerabilities  # noqa: F401  (registration on import)

__all__ = [
    "CHECK_ERROR",
    "FLEET_CHECKS",
    "INSTANCE_CHECKS",
    "CheckInput",
    "CheckMeta",
    "CheckRun",
    "CheckSettings",
    "Finding",
    "FleetInput",
    "InstanceHistory",
    "all_metas",
    "evaluate_fleet",
    "evaluate_instance",
    "fleet_check",
    "instance_check",
    "run_fleet_checks",
    "run_instance_checks",
]
