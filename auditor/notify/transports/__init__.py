"""Channels' transports: each hands one Delivery to the outside world, or raises.

A transport raises PermanentDeliveryError when retrying cannot help (the message was
refused for good); any other exception means "try again later".
"""

from __future__ import annotations

from typing import Protocol

from palisade.auditor.notify.messages import Delivery


class PermanentDeliveryError(Exception):
    pass


class Transport(Protocol):
    def send(self, delivery: Delivery) -> None: ...
