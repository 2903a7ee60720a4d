"""Security Center (`sas`) actions: alerts, findings, silences, whitelist; notification
channels, subscriptions, window, inbox, outbox; the check settings; cloud drift reports.

RAM actions are `sas:<Action>` (Alibaba's Security Center owns alerts there), resources
`acs:sas:*:<account>:alert/<id>`, `.../silence/<id>`, `.../notification-channel/<id>`, ...

These actions change their own tables (the alert store, the notification settings), not the
cloud state, so a changing one is declared `writes="<its tables>"` (a reading one
`writes=False`): the pipeline runs it outside the cloud write transaction and never replays it
after a conflict (which would apply a change twice).
Each change writes its own audit-log row in the same transaction as the change. The alert
store comes from `ctx.services`: "alerts" (the auditor's AlertRepository, with its settings)
when the auditor provides it, else an AlertRepository over "store".
"""

from palisade.auditor.api.actions.sas import (  # noqa: F401  (registration on import)
    alerts,
    check_settings,
    drift,
    findings,
    inbox,
    notification_channels,
    notification_window,
    outbox,
    silences,
    subscriptions,
    whitelist,
)
