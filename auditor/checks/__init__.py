"""Cross-checks of the cloud model against what the hosts report (Prowler style: one module
per check family, each check a pure function with its metadata). Importing this package
registers every check; run them with `run_instance_checks` / `run_fleet_checks`."""

from palisade.auditor.checks import (  # noqa: F401  (registration on import)
    baseline,
    ddos,
    exposure,
    keypairs,
    logins,
    ram,
    secrets,
    vulnerabilities,
)
from palisade.auditor.checks.base import (
    CHECK_ERROR,
    FLEET_CHECKS,
    INSTANCE_CHECKS,
    CheckInput,
    CheckMeta,
    CheckRun,
    CheckSettings,
    Finding,
    FleetInput,
    InstanceHistory,
    all_metas,
    evaluate_fleet,
    evaluate_instance,
    fleet_check,
    instance_check,
    run_fleet_checks,
    run_instance_checks,
)

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
