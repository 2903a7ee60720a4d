"""The agent's saved state: what `palisade-agent enroll` leaves in the state dir (instance id,
auditor addresses, key, certificate, CA) and `palisade-agent run` reads back.

EnrolmentError is defined here because AgentState.load raises it for a state dir that holds
no enrolment; palisade.agent.enrolment, which raises it for everything else, re-exports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import grpc

from palisade.shared import tls


class EnrolmentError(Exception):
    """The agent cannot enrol, or its state dir holds no enrolment; the message says why."""


@dataclass
class AgentState:
    """What `enroll` leaves in the state dir and `run` reads back."""

    directory: Path
    instance_id: str
    auditors: list[str]

    @property
    def key_path(self) -> Path:
        return self.directory / "agent.key"

    @property
    def cert_path(self) -> Path:
        return self.directory / "agent.crt"

    @property
    def ca_path(self) -> Path:
        return self.directory / "ca.crt"

    @classmethod
    def load(cls, directory: Path) -> AgentState:
        directory = Path(directory)
        try:
            data = json.loads((directory / "agent.json").read_text())
        except FileNotFoundError:
            raise EnrolmentError(
                f"{directory} holds no enrolment: run `palisade-agent enroll` first"
            ) from None
        return cls(directory, data["instance_id"], list(data["auditors"]))

    def save(self) -> None:
        tls.write_public(
            self.directory / "agent.json",
            (
                json.dumps({"instance_id": self.instance_id, "auditors": self.auditors}, indent=2)
                + "\n"
            ).encode(),
        )

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca_path.read_bytes(),
            private_key=self.key_path.read_bytes(),
            certificate_chain=self.cert_path.read_bytes(),
        )
