"""The in-site inbox: a row in the store (once per delivery, even when re-sent)."""

from __future__ import annotations

from palisade.auditor.notify import inbox
from palisade.auditor.notify.messages import Delivery
from palisade.auditor.notify.models import InboxConfig
from palisade.auditor.store.database import Database


class InboxTransport:
    def __init__(self, store: Database):
        self.store = store

    def send(self, delivery: Delivery) -> None:
        config = delivery.channel.config
        assert isinstance(config, InboxConfig)
        with self.store.write_transaction() as conn:
            inbox.write(conn, delivery, config.user_name)
