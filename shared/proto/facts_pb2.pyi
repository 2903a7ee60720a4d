from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HostInfo(_message.Message):
    __slots__ = ("instance_id", "hostname", "os_family", "os_name", "os_version", "kernel", "arch", "boot_time", "agent_version")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    OS_FAMILY_FIELD_NUMBER: _ClassVar[int]
    OS_NAME_FIELD_NUMBER: _ClassVar[int]
    OS_VERSION_FIELD_NUMBER: _ClassVar[int]
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    ARCH_FIELD_NUMBER: _ClassVar[int]
    BOOT_TIME_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    hostname: str
    os_family: str
    os_name: str
    os_version: str
    kernel: str
    arch: str
    boot_time: int
    agent_version: str
    def __init__(self, instance_id: _Optional[str] = ..., hostname: _Optional[str] = ..., os_family: _Optional[str] = ..., os_name: _Optional[str] = ..., os_version: _Optional[str] = ..., kernel: _Optional[str] = ..., arch: _Optional[str] = ..., boot_time: _Optional[int] = ..., agent_version: _Optional[str] = ...) -> None: ...

class Listener(_message.Message):
    __slots__ = ("protocol", "family", "address", "port", "pid", "process_name", "exe", "user", "unreadable")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    PROCESS_NAME_FIELD_NUMBER: _ClassVar[int]
    EXE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    UNREADABLE_FIELD_NUMBER: _ClassVar[int]
    protocol: str
    family: str
    address: str
    port: int
    pid: int
    process_name: str
    exe: str
    user: str
    unreadable: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, protocol: _Optional[str] = ..., family: _Optional[str] = ..., address: _Optional[str] = ..., port: _Optional[int] = ..., pid: _Optional[int] = ..., process_name: _Optional[str] = ..., exe: _Optional[str] = ..., user: _Optional[str] = ..., unreadable: _Optional[_Iterable[str]] = ...) -> None: ...

class AuthorizedKey(_message.Message):
    __slots__ = ("line_number", "options", "key_type", "key_blob", "comment", "fingerprint_sha256", "fingerprint_md5", "bits", "malformed", "error", "raw")
    LINE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_BLOB_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_SHA256_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_MD5_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    MALFORMED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    line_number: int
    options: str
    key_type: str
    key_blob: str
    comment: str
    fingerprint_sha256: str
    fingerprint_md5: str
    bits: int
    malformed: bool
    error: str
    raw: str
    def __init__(self, line_number: _Optional[int] = ..., options: _Optional[str] = ..., key_type: _Optional[str] = ..., key_blob: _Optional[str] = ..., comment: _Optional[str] = ..., fingerprint_sha256: _Optional[str] = ..., fingerprint_md5: _Optional[str] = ..., bits: _Optional[int] = ..., malformed: _Optional[bool] = ..., error: _Optional[str] = ..., raw: _Optional[str] = ...) -> None: ...

class AuthorizedKeysFile(_message.Message):
    __slots__ = ("user", "path", "exists", "owner", "mode", "error", "keys")
    USER_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    user: str
    path: str
    exists: bool
    owner: str
    mode: int
    error: str
    keys: _containers.RepeatedCompositeFieldContainer[AuthorizedKey]
    def __init__(self, user: _Optional[str] = ..., path: _Optional[str] = ..., exists: _Optional[bool] = ..., owner: _Optional[str] = ..., mode: _Optional[int] = ..., error: _Optional[str] = ..., keys: _Optional[_Iterable[_Union[AuthorizedKey, _Mapping]]] = ...) -> None: ...

class CollectorError(_message.Message):
    __slots__ = ("collector", "message")
    COLLECTOR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    collector: str
    message: str
    def __init__(self, collector: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("snapshot_id", "instance_id", "collected_at_ms", "host", "listeners", "authorized_keys", "errors")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZED_KEYS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    instance_id: str
    collected_at_ms: int
    host: HostInfo
    listeners: _containers.RepeatedCompositeFieldContainer[Listener]
    authorized_keys: _containers.RepeatedCompositeFieldContainer[AuthorizedKeysFile]
    errors: _containers.RepeatedCompositeFieldContainer[CollectorError]
    def __init__(self, snapshot_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., collected_at_ms: _Optional[int] = ..., host: _Optional[_Union[HostInfo, _Mapping]] = ..., listeners: _Optional[_Iterable[_Union[Listener, _Mapping]]] = ..., authorized_keys: _Optional[_Iterable[_Union[AuthorizedKeysFile, _Mapping]]] = ..., errors: _Optional[_Iterable[_Union[CollectorError, _Mapping]]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("event_id", "instance_id", "time_ms", "login")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    instance_id: str
    time_ms: int
    login: LoginEvent
    def __init__(self, event_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., time_ms: _Optional[int] = ..., login: _Optional[_Union[LoginEvent, _Mapping]] = ...) -> None: ...

class LoginEvent(_message.Message):
    __slots__ = ("user", "source_ip", "source_port", "method", "result", "service", "key_fingerprint", "raw", "repeat", "key_type", "pid", "source_host", "domain", "logon_type", "status", "sub_status", "process")
    USER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PORT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    REPEAT_FIELD_NUMBER: _ClassVar[int]
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_HOST_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    LOGON_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUB_STATUS_FIELD_NUMBER: _ClassVar[int]
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    user: str
    source_ip: str
    source_port: int
    method: str
    result: str
    service: str
    key_fingerprint: str
    raw: str
    repeat: int
    key_type: str
    pid: int
    source_host: str
    domain: str
    logon_type: int
    status: str
    sub_status: str
    process: str
    def __init__(self, user: _Optional[str] = ..., source_ip: _Optional[str] = ..., source_port: _Optional[int] = ..., method: _Optional[str] = ..., result: _Optional[str] = ..., service: _Optional[str] = ..., key_fingerprint: _Optional[str] = ..., raw: _Optional[str] = ..., repeat: _Optional[int] = ..., key_type: _Optional[str] = ..., pid: _Optional[int] = ..., source_host: _Optional[str] = ..., domain: _Optional[str] = ..., logon_type: _Optional[int] = ..., status: _Optional[str] = ..., sub_status: _Optional[str] = ..., process: _Optional[str] = ...) -> None: ...
