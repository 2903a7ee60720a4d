"""The in-site inbox: a row in the store (once per delivery, even when re-sent)."""

from __future__ import annotations

from palisade.auditor.notify import inbox
from palisade.auditor.notify.messages import Delivery
from palisade.auditor.notify.models import InboxConfig
from palisade.auditor.store.store import Store


class InboxTransport:
    def __init__(self, store: Store):
        self.store = store

    def send(self, delivery: Delivery) -> None:
        config = delivery.channel.config
        assert isinstance(config, InboxConfig)
        with self.store._writing(), self.store.engine.begin() as conn:  # noqa: SLF001
            inbox.write(conn, delivery, config.user_name)
