"""Notifications, as Alertmanager's pipeline (stages.PIPELINE):

    enqueue (in the alert's transaction; subscriptions route it to channels, its group's
      timers - group wait, group interval - say when it is due) -> outbox (durable)
      -> dispatcher, when due, each stage judged again on the alerts as they are then:
         route (still open, still subscribed) -> group -> inhibit -> silence
         -> time window -> hourly cap -> digest
      -> transport (email / SMS hook / inbox) with retries and backoff

A row a stage stops is dropped with its reason, and the message of its group (or the next
digest) says so. The stages are pure modules (routing, inhibition, stages, window, rate_cap,
backoff, templates, messages); outbox, settings_repository, inbox, dispatcher and
transports/ do the I/O.
"""

from palisade.auditor.notify.dispatcher import Dispatcher
from palisade.auditor.notify.models import NotifyEvent
from palisade.auditor.notify.outbox import enqueue

__all__ = ["Dispatcher", "NotifyEvent", "enqueue", "default_transports"]


def default_transports(store, hook_policy=None):
    """The real transports: email (SMTP), the SMS hook (HTTP POST; `hook_policy`, a
    hook_targets.HookPolicy, says which hosts it may reach), the inbox (the store)."""
    from palisade.auditor.notify.transports.email import EmailTransport
    from palisade.auditor.notify.transports.inbox import InboxTransport
    from palisade.auditor.notify.transports.sms_hook import SmsHookTransport

    return {
        "email": EmailTransport(),
        "sms_hook": SmsHookTransport(hook_policy),
        "inbox": InboxTransport(store),
    }
