from palisade.shared.proto import facts_pb2 as _facts_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnrollRequest(_message.Message):
    __slots__ = ("token", "csr_pem", "hostname", "agent_version")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    token: str
    csr_pem: bytes
    hostname: str
    agent_version: str
    def __init__(self, token: _Optional[str] = ..., csr_pem: _Optional[bytes] = ..., hostname: _Optional[str] = ..., agent_version: _Optional[str] = ...) -> None: ...

class EnrollResponse(_message.Message):
    __slots__ = ("instance_id", "certificate_pem", "ca_certificate_pem")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    certificate_pem: bytes
    ca_certificate_pem: bytes
    def __init__(self, instance_id: _Optional[str] = ..., certificate_pem: _Optional[bytes] = ..., ca_certificate_pem: _Optional[bytes] = ...) -> None: ...

class AgentMessage(_message.Message):
    __slots__ = ("message_id", "instance_id", "snapshot", "event", "events", "delta")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    instance_id: str
    snapshot: _facts_pb2.Snapshot
    event: _facts_pb2.Event
    events: _facts_pb2.EventBatch
    delta: _facts_pb2.SnapshotDelta
    def __init__(self, message_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., snapshot: _Optional[_Union[_facts_pb2.Snapshot, _Mapping]] = ..., event: _Optional[_Union[_facts_pb2.Event, _Mapping]] = ..., events: _Optional[_Union[_facts_pb2.EventBatch, _Mapping]] = ..., delta: _Optional[_Union[_facts_pb2.SnapshotDelta, _Mapping]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("message_id", "duplicate", "need_full_snapshot", "role")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    NEED_FULL_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    duplicate: bool
    need_full_snapshot: bool
    role: RoleBinding
    def __init__(self, message_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., need_full_snapshot: _Optional[bool] = ..., role: _Optional[_Union[RoleBinding, _Mapping]] = ...) -> None: ...

class RoleBinding(_message.Message):
    __slots__ = ("role_name", "generation")
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    generation: int
    def __init__(self, role_name: _Optional[str] = ..., generation: _Optional[int] = ...) -> None: ...

class RevokeRequest(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class RevokeResponse(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class RoleCredentialsRequest(_message.Message):
    __slots__ = ("role_name",)
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    def __init__(self, role_name: _Optional[str] = ...) -> None: ...

class RoleCredentialsResponse(_message.Message):
    __slots__ = ("role_name", "access_key_id", "access_key_secret", "security_token", "expiration_ms", "last_updated_ms", "binding_generation")
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCESS_KEY_SECRET_FIELD_NUMBER: _ClassVar[int]
    SECURITY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_MS_FIELD_NUMBER: _ClassVar[int]
    BINDING_GENERATION_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    access_key_id: str
    access_key_secret: str
    security_token: str
    expiration_ms: int
    last_updated_ms: int
    binding_generation: int
    def __init__(self, role_name: _Optional[str] = ..., access_key_id: _Optional[str] = ..., access_key_secret: _Optional[str] = ..., security_token: _Optional[str] = ..., expiration_ms: _Optional[int] = ..., last_updated_ms: _Optional[int] = ..., binding_generation: _Optional[int] = ...) -> None: ...
