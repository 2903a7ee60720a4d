"""Peer accounts: AddAccount (Palisade's own: an account whose groups this account's rules may
authorise, for cross-account rules) and DescribeAccounts."""

from __future__ import annotations

from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action


@action(
    "AddAccount",
    writes=True,
    resources=lambda ctx, p: [f"acs:ecs:*:{p.str('AccountId') or '*'}:account/*"],
    params=("AccountId", "AccountName"),
)
def add_account(ctx: ActionContext, p: Params) -> dict:
    account_id = p.req("AccountId")
    name = p.str("AccountName", "") or ""
    cloud = ctx.state.cloud
    created = account_id not in cloud.accounts
    if created:
        cloud.add_account(account_id, name[:128])
        ctx.record(
            f"acs:ecs:*:{account_id}:account/{account_id}",
            None,
            {"AccountId": account_id, "AccountName": name[:128]},
        )
    return {"AccountId": account_id, "Created": created}


@action(
    "DescribeAccounts",
    writes=False,
    resources=lambda ctx, p: ["acs:ecs:*:*:account/*"],
    params=(),
)
def describe_accounts(ctx: ActionContext, p: Params) -> dict:
    """This auditor's account and the peer accounts modelled next to it."""
    accounts = ctx.state.cloud.accounts.values()
    return {
        "Accounts": {
            "Account": [
                {
                    "AccountId": a.account_id,
                    "AccountName": a.name,
                    "Own": a.account_id == ctx.account_id,
                }
                for a in accounts
            ]
        }
    }
