"""Notification subscriptions (a category and levels -> channels): CreateSubscription,
DescribeSubscriptions, DeleteSubscription."""

from __future__ import annotations

from palisade.auditor.api.actions.sas.common import SERVICE, iso, list_values, resource
from palisade.auditor.api.actions.sas.notification_channels import get_channel
from palisade.auditor.api.actions.sas.notification_database import (
    now_ms,
    read_connection,
    record_audit,
    write_transaction,
)
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.notify import settings_repository
from palisade.auditor.notify.models import CATEGORIES, LEVELS, Subscription


def _subscription_view(sub: Subscription) -> dict:
    return {
        "SubscriptionId": sub.subscription_id,
        "Category": sub.category,
        "Levels": [lv for lv in LEVELS if lv in sub.levels],
        "ChannelIds": list(sub.channel_ids),
        "CreationTime": iso(sub.created_at_ms),
    }


@action(
    "CreateSubscription",
    service=SERVICE,
    writes="notifications",  # its own tables, not the cloud state
    resources=resource("subscription"),
    params=("Category", "Levels", "ChannelIds"),
)
def create_subscription(ctx: ActionContext, p: Params) -> dict:
    category = p.req("Category")
    if category not in CATEGORIES:
        raise invalid("Category", f"one of {', '.join(CATEGORIES)}")
    levels = list_values(p, "Levels") or list(LEVELS)
    for level in levels:
        if level not in LEVELS:
            raise invalid("Levels", f"{level[:32]!r} is not one of {', '.join(LEVELS)}")
    channel_ids = list(dict.fromkeys(list_values(p, "ChannelIds")))
    if not channel_ids:
        raise ApiError("MissingParameter", 'The input parameter "ChannelIds" is not supplied.')
    with write_transaction(ctx) as conn:
        for channel_id in channel_ids:
            get_channel(conn, ctx, channel_id)
        sub = Subscription(
            settings_repository.new_id("ns"),
            ctx.account_id,
            category,
            frozenset(levels),
            tuple(channel_ids),
            now_ms(ctx),
        )
        settings_repository.add_subscription(conn, sub, now_ms(ctx))
        record_audit(
            conn,
            ctx,
            "CreateSubscription",
            f"subscription/{sub.subscription_id}",
            None,
            _subscription_view(sub),
        )
    return {"SubscriptionId": sub.subscription_id}


@action(
    "DescribeSubscriptions",
    service=SERVICE,
    writes=False,
    resources=resource("subscription"),
    params=("Category", "PageNumber", "PageSize"),
)
def describe_subscriptions(ctx: ActionContext, p: Params) -> dict:
    category = p.str("Category")
    number, size = p.page(default_size=50, max_size=100)
    with read_connection(ctx) as conn:
        found = settings_repository.subscriptions(conn, ctx.account_id)
    if category:
        found = [s for s in found if s.category == category]
    page = found[(number - 1) * size : number * size]
    return {
        "Subscriptions": {"Subscription": [_subscription_view(s) for s in page]},
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
    }


@action(
    "DeleteSubscription",
    service=SERVICE,
    writes="notifications",  # its own tables, not the cloud state
    resources=resource("subscription", "SubscriptionId"),
    params=("SubscriptionId",),
)
def delete_subscription(ctx: ActionContext, p: Params) -> dict:
    subscription_id = p.req("SubscriptionId")
    with write_transaction(ctx) as conn:
        old = next(
            (
                s
                for s in settings_repository.subscriptions(conn, ctx.account_id)
                if s.subscription_id == subscription_id
            ),
            None,
        )
        if old is None:
            raise ApiError(
                "InvalidSubscriptionId.NotFound",
                f"the subscription {subscription_id[:64]} does not exist",
                404,
            )
        settings_repository.remove_subscription(conn, ctx.account_id, subscription_id)
        record_audit(
            conn,
            ctx,
            "DeleteSubscription",
            f"subscription/{subscription_id}",
            _subscription_view(old),
            None,
        )
    return {}
