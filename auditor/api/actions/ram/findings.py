"""RAM findings: ListRamFindings."""

from __future__ import annotations

from palisade.auditor.api.actions.ram.common import ram_arn
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.ram import users_with_password_and_access_keys


@action(
    "ListRamFindings",
    service="ram",
    writes=False,
    resources=lambda ctx, p: [ram_arn(ctx, "user", None)],
    params=("PageNumber", "PageSize"),
)
def list_ram_findings(ctx: ActionContext, p: Params) -> dict:
    """Users with both a console password and an active AccessKey: one access method per RAM
    user is enough."""
    findings = users_with_password_and_access_keys(ctx.state.ram)
    number, size = p.page(default_size=50)
    return {
        "TotalCount": len(findings),
        "PageNumber": number,
        "PageSize": size,
        "Findings": {
            "Finding": [
                {
                    "FindingType": "UserHasPasswordAndAccessKey",
                    "Resource": ram_arn(ctx, "user", f.user_name),
                    "UserName": f.user_name,
                    "AccessKeyIds": {"AccessKeyId": list(f.access_key_ids)},
                    "Advice": f.advice,
                }
                for f in paginate(findings, number, size)
            ]
        },
    }
