"""What a request carries besides action and resource: the values condition keys look at."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

ContextScalar = str | bool | int | datetime | ipaddress.IPv4Address | ipaddress.IPv6Address

SOURCE_IP = "acs:SourceIp"
CURRENT_TIME = "acs:CurrentTime"
SECURE_TRANSPORT = "acs:SecureTransport"
MFA_PRESENT = "acs:MFAPresent"


@dataclass(frozen=True)
class RequestContext:
    """The request's condition values; a field left `None` is an absent key.

    `extra` holds any other key (`ecs:tag/env`, `ram:ServiceName`, ...); a sequence value is a
    multi-valued key. Keys are looked up case-insensitively, as RAM does.
    """

    current_time: datetime | None = None
    source_ip: str | None = None
    secure_transport: bool | None = None
    mfa_present: bool | None = None
    extra: Mapping[str, ContextScalar | Sequence[ContextScalar]] = field(default_factory=dict)

    def values(self, key: str) -> tuple[ContextScalar, ...]:
        """The values of `key` (empty when the request does not carry it)."""
        folded = key.casefold()
        builtin: ContextScalar | None = {
            SOURCE_IP.casefold(): self.source_ip,
            CURRENT_TIME.casefold(): self.current_time,
            SECURE_TRANSPORT.casefold(): self.secure_transport,
            MFA_PRESENT.casefold(): self.mfa_present,
        }.get(folded)
        if builtin is not None:
            return (builtin,)
        for name, value in self.extra.items():
            if name.casefold() == folded:
                # A str is one value, not a sequence of characters; so is a stray bytes,
                # which the type does not allow, hence the ignore.
                if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                    return (value,)  # type: ignore[return-value]
                return tuple(value)
        return ()
