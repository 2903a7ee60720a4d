from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LoginAttempt(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOGIN_ATTEMPT_UNSPECIFIED: _ClassVar[LoginAttempt]
    LOGIN_ATTEMPT_NEW: _ClassVar[LoginAttempt]
    LOGIN_ATTEMPT_SAME: _ClassVar[LoginAttempt]
    LOGIN_ATTEMPT_NONE: _ClassVar[LoginAttempt]
LOGIN_ATTEMPT_UNSPECIFIED: LoginAttempt
LOGIN_ATTEMPT_NEW: LoginAttempt
LOGIN_ATTEMPT_SAME: LoginAttempt
LOGIN_ATTEMPT_NONE: LoginAttempt

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

class PlaintextAccessKey(_message.Message):
    __slots__ = ("path", "line", "access_key_id", "user")
    PATH_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    path: str
    line: int
    access_key_id: str
    user: str
    def __init__(self, path: _Optional[str] = ..., line: _Optional[int] = ..., access_key_id: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class CollectorError(_message.Message):
    __slots__ = ("collector", "message")
    COLLECTOR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    collector: str
    message: str
    def __init__(self, collector: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ConfigEntry(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class PasswordAging(_message.Message):
    __slots__ = ("user", "password_state", "last_change_days", "min_days", "max_days", "warn_days", "inactive_days", "expire_days")
    USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_STATE_FIELD_NUMBER: _ClassVar[int]
    LAST_CHANGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    MIN_DAYS_FIELD_NUMBER: _ClassVar[int]
    MAX_DAYS_FIELD_NUMBER: _ClassVar[int]
    WARN_DAYS_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_DAYS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_DAYS_FIELD_NUMBER: _ClassVar[int]
    user: str
    password_state: str
    last_change_days: int
    min_days: int
    max_days: int
    warn_days: int
    inactive_days: int
    expire_days: int
    def __init__(self, user: _Optional[str] = ..., password_state: _Optional[str] = ..., last_change_days: _Optional[int] = ..., min_days: _Optional[int] = ..., max_days: _Optional[int] = ..., warn_days: _Optional[int] = ..., inactive_days: _Optional[int] = ..., expire_days: _Optional[int] = ...) -> None: ...

class LoginDefs(_message.Message):
    __slots__ = ("exists", "pass_max_days", "pass_min_days", "pass_warn_age", "pass_min_len", "encrypt_method", "settings")
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    PASS_MAX_DAYS_FIELD_NUMBER: _ClassVar[int]
    PASS_MIN_DAYS_FIELD_NUMBER: _ClassVar[int]
    PASS_WARN_AGE_FIELD_NUMBER: _ClassVar[int]
    PASS_MIN_LEN_FIELD_NUMBER: _ClassVar[int]
    ENCRYPT_METHOD_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    exists: bool
    pass_max_days: int
    pass_min_days: int
    pass_warn_age: int
    pass_min_len: int
    encrypt_method: str
    settings: _containers.RepeatedCompositeFieldContainer[ConfigEntry]
    def __init__(self, exists: _Optional[bool] = ..., pass_max_days: _Optional[int] = ..., pass_min_days: _Optional[int] = ..., pass_warn_age: _Optional[int] = ..., pass_min_len: _Optional[int] = ..., encrypt_method: _Optional[str] = ..., settings: _Optional[_Iterable[_Union[ConfigEntry, _Mapping]]] = ...) -> None: ...

class AccountsBaseline(_message.Message):
    __slots__ = ("uid0_accounts", "empty_password_accounts", "password_aging", "login_defs", "shadow_readable")
    UID0_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    EMPTY_PASSWORD_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_AGING_FIELD_NUMBER: _ClassVar[int]
    LOGIN_DEFS_FIELD_NUMBER: _ClassVar[int]
    SHADOW_READABLE_FIELD_NUMBER: _ClassVar[int]
    uid0_accounts: _containers.RepeatedScalarFieldContainer[str]
    empty_password_accounts: _containers.RepeatedScalarFieldContainer[str]
    password_aging: _containers.RepeatedCompositeFieldContainer[PasswordAging]
    login_defs: LoginDefs
    shadow_readable: bool
    def __init__(self, uid0_accounts: _Optional[_Iterable[str]] = ..., empty_password_accounts: _Optional[_Iterable[str]] = ..., password_aging: _Optional[_Iterable[_Union[PasswordAging, _Mapping]]] = ..., login_defs: _Optional[_Union[LoginDefs, _Mapping]] = ..., shadow_readable: _Optional[bool] = ...) -> None: ...

class FileFact(_message.Message):
    __slots__ = ("path", "role", "user", "exists", "file_type", "owner", "group", "mode", "error")
    PATH_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    FILE_TYPE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    path: str
    role: str
    user: str
    exists: bool
    file_type: str
    owner: str
    group: str
    mode: int
    error: str
    def __init__(self, path: _Optional[str] = ..., role: _Optional[str] = ..., user: _Optional[str] = ..., exists: _Optional[bool] = ..., file_type: _Optional[str] = ..., owner: _Optional[str] = ..., group: _Optional[str] = ..., mode: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class WindowsPasswordPolicy(_message.Message):
    __slots__ = ("min_length", "max_age_days", "min_age_days", "history_length", "complexity_required", "lockout_threshold", "lockout_duration_minutes", "lockout_window_minutes")
    MIN_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    MIN_AGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_LENGTH_FIELD_NUMBER: _ClassVar[int]
    COMPLEXITY_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    LOCKOUT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LOCKOUT_DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    LOCKOUT_WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    min_length: int
    max_age_days: int
    min_age_days: int
    history_length: int
    complexity_required: bool
    lockout_threshold: int
    lockout_duration_minutes: int
    lockout_window_minutes: int
    def __init__(self, min_length: _Optional[int] = ..., max_age_days: _Optional[int] = ..., min_age_days: _Optional[int] = ..., history_length: _Optional[int] = ..., complexity_required: _Optional[bool] = ..., lockout_threshold: _Optional[int] = ..., lockout_duration_minutes: _Optional[int] = ..., lockout_window_minutes: _Optional[int] = ...) -> None: ...

class AuditSetting(_message.Message):
    __slots__ = ("subcategory", "success", "failure")
    SUBCATEGORY_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    subcategory: str
    success: bool
    failure: bool
    def __init__(self, subcategory: _Optional[str] = ..., success: _Optional[bool] = ..., failure: _Optional[bool] = ...) -> None: ...

class WindowsBaseline(_message.Message):
    __slots__ = ("guest_enabled", "rdp_nla_required", "password_policy", "logon_audit")
    GUEST_ENABLED_FIELD_NUMBER: _ClassVar[int]
    RDP_NLA_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_POLICY_FIELD_NUMBER: _ClassVar[int]
    LOGON_AUDIT_FIELD_NUMBER: _ClassVar[int]
    guest_enabled: bool
    rdp_nla_required: bool
    password_policy: WindowsPasswordPolicy
    logon_audit: _containers.RepeatedCompositeFieldContainer[AuditSetting]
    def __init__(self, guest_enabled: _Optional[bool] = ..., rdp_nla_required: _Optional[bool] = ..., password_policy: _Optional[_Union[WindowsPasswordPolicy, _Mapping]] = ..., logon_audit: _Optional[_Iterable[_Union[AuditSetting, _Mapping]]] = ...) -> None: ...

class Baseline(_message.Message):
    __slots__ = ("sshd_config", "sshd_config_source", "accounts", "files", "windows", "errors")
    SSHD_CONFIG_FIELD_NUMBER: _ClassVar[int]
    SSHD_CONFIG_SOURCE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    sshd_config: _containers.RepeatedCompositeFieldContainer[ConfigEntry]
    sshd_config_source: str
    accounts: AccountsBaseline
    files: _containers.RepeatedCompositeFieldContainer[FileFact]
    windows: WindowsBaseline
    errors: _containers.RepeatedCompositeFieldContainer[CollectorError]
    def __init__(self, sshd_config: _Optional[_Iterable[_Union[ConfigEntry, _Mapping]]] = ..., sshd_config_source: _Optional[str] = ..., accounts: _Optional[_Union[AccountsBaseline, _Mapping]] = ..., files: _Optional[_Iterable[_Union[FileFact, _Mapping]]] = ..., windows: _Optional[_Union[WindowsBaseline, _Mapping]] = ..., errors: _Optional[_Iterable[_Union[CollectorError, _Mapping]]] = ...) -> None: ...

class InterfaceTraffic(_message.Message):
    __slots__ = ("name", "rx_bytes", "tx_bytes", "rx_packets", "tx_packets", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped", "has_rates", "rx_bits_per_second", "tx_bits_per_second", "rx_packets_per_second", "tx_packets_per_second")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    RX_PACKETS_FIELD_NUMBER: _ClassVar[int]
    TX_PACKETS_FIELD_NUMBER: _ClassVar[int]
    RX_ERRORS_FIELD_NUMBER: _ClassVar[int]
    TX_ERRORS_FIELD_NUMBER: _ClassVar[int]
    RX_DROPPED_FIELD_NUMBER: _ClassVar[int]
    TX_DROPPED_FIELD_NUMBER: _ClassVar[int]
    HAS_RATES_FIELD_NUMBER: _ClassVar[int]
    RX_BITS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    TX_BITS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    RX_PACKETS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    TX_PACKETS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    name: str
    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int
    rx_errors: int
    tx_errors: int
    rx_dropped: int
    tx_dropped: int
    has_rates: bool
    rx_bits_per_second: float
    tx_bits_per_second: float
    rx_packets_per_second: float
    tx_packets_per_second: float
    def __init__(self, name: _Optional[str] = ..., rx_bytes: _Optional[int] = ..., tx_bytes: _Optional[int] = ..., rx_packets: _Optional[int] = ..., tx_packets: _Optional[int] = ..., rx_errors: _Optional[int] = ..., tx_errors: _Optional[int] = ..., rx_dropped: _Optional[int] = ..., tx_dropped: _Optional[int] = ..., has_rates: _Optional[bool] = ..., rx_bits_per_second: _Optional[float] = ..., tx_bits_per_second: _Optional[float] = ..., rx_packets_per_second: _Optional[float] = ..., tx_packets_per_second: _Optional[float] = ...) -> None: ...

class Traffic(_message.Message):
    __slots__ = ("measured_at_ms", "interval_ms", "interfaces")
    MEASURED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    measured_at_ms: int
    interval_ms: int
    interfaces: _containers.RepeatedCompositeFieldContainer[InterfaceTraffic]
    def __init__(self, measured_at_ms: _Optional[int] = ..., interval_ms: _Optional[int] = ..., interfaces: _Optional[_Iterable[_Union[InterfaceTraffic, _Mapping]]] = ...) -> None: ...

class Package(_message.Message):
    __slots__ = ("name", "version", "arch", "source", "source_package", "vendor")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ARCH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PACKAGE_FIELD_NUMBER: _ClassVar[int]
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    arch: str
    source: str
    source_package: str
    vendor: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., arch: _Optional[str] = ..., source: _Optional[str] = ..., source_package: _Optional[str] = ..., vendor: _Optional[str] = ...) -> None: ...

class SshdFacts(_message.Message):
    __slots__ = ("password_authentication", "pubkey_authentication", "authorized_keys_file", "permit_root_login", "source", "kbd_interactive_authentication", "config_found", "errors")
    PASSWORD_AUTHENTICATION_FIELD_NUMBER: _ClassVar[int]
    PUBKEY_AUTHENTICATION_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZED_KEYS_FILE_FIELD_NUMBER: _ClassVar[int]
    PERMIT_ROOT_LOGIN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    KBD_INTERACTIVE_AUTHENTICATION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FOUND_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    password_authentication: bool
    pubkey_authentication: bool
    authorized_keys_file: _containers.RepeatedScalarFieldContainer[str]
    permit_root_login: str
    source: str
    kbd_interactive_authentication: bool
    config_found: bool
    errors: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, password_authentication: _Optional[bool] = ..., pubkey_authentication: _Optional[bool] = ..., authorized_keys_file: _Optional[_Iterable[str]] = ..., permit_root_login: _Optional[str] = ..., source: _Optional[str] = ..., kbd_interactive_authentication: _Optional[bool] = ..., config_found: _Optional[bool] = ..., errors: _Optional[_Iterable[str]] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("snapshot_id", "instance_id", "collected_at_ms", "host", "listeners", "authorized_keys", "errors", "sshd", "baseline", "traffic", "packages", "spool_dropped_events", "plaintext_access_keys")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZED_KEYS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    SSHD_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_FIELD_NUMBER: _ClassVar[int]
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    SPOOL_DROPPED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    PLAINTEXT_ACCESS_KEYS_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    instance_id: str
    collected_at_ms: int
    host: HostInfo
    listeners: _containers.RepeatedCompositeFieldContainer[Listener]
    authorized_keys: _containers.RepeatedCompositeFieldContainer[AuthorizedKeysFile]
    errors: _containers.RepeatedCompositeFieldContainer[CollectorError]
    sshd: SshdFacts
    baseline: Baseline
    traffic: Traffic
    packages: _containers.RepeatedCompositeFieldContainer[Package]
    spool_dropped_events: int
    plaintext_access_keys: _containers.RepeatedCompositeFieldContainer[PlaintextAccessKey]
    def __init__(self, snapshot_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., collected_at_ms: _Optional[int] = ..., host: _Optional[_Union[HostInfo, _Mapping]] = ..., listeners: _Optional[_Iterable[_Union[Listener, _Mapping]]] = ..., authorized_keys: _Optional[_Iterable[_Union[AuthorizedKeysFile, _Mapping]]] = ..., errors: _Optional[_Iterable[_Union[CollectorError, _Mapping]]] = ..., sshd: _Optional[_Union[SshdFacts, _Mapping]] = ..., baseline: _Optional[_Union[Baseline, _Mapping]] = ..., traffic: _Optional[_Union[Traffic, _Mapping]] = ..., packages: _Optional[_Iterable[_Union[Package, _Mapping]]] = ..., spool_dropped_events: _Optional[int] = ..., plaintext_access_keys: _Optional[_Iterable[_Union[PlaintextAccessKey, _Mapping]]] = ...) -> None: ...

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

class EventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class SnapshotDelta(_message.Message):
    __slots__ = ("base_snapshot_id", "changed", "replaced")
    BASE_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    base_snapshot_id: str
    changed: Snapshot
    replaced: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, base_snapshot_id: _Optional[str] = ..., changed: _Optional[_Union[Snapshot, _Mapping]] = ..., replaced: _Optional[_Iterable[str]] = ...) -> None: ...

class LoginEvent(_message.Message):
    __slots__ = ("user", "source_ip", "source_port", "method", "result", "service", "key_fingerprint", "raw", "repeat", "key_type", "pid", "source_host", "domain", "logon_type", "status", "sub_status", "process", "session", "attempt", "forgiven")
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
    SESSION_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    FORGIVEN_FIELD_NUMBER: _ClassVar[int]
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
    session: str
    attempt: LoginAttempt
    forgiven: bool
    def __init__(self, user: _Optional[str] = ..., source_ip: _Optional[str] = ..., source_port: _Optional[int] = ..., method: _Optional[str] = ..., result: _Optional[str] = ..., service: _Optional[str] = ..., key_fingerprint: _Optional[str] = ..., raw: _Optional[str] = ..., repeat: _Optional[int] = ..., key_type: _Optional[str] = ..., pid: _Optional[int] = ..., source_host: _Optional[str] = ..., domain: _Optional[str] = ..., logon_type: _Optional[int] = ..., status: _Optional[str] = ..., sub_status: _Optional[str] = ..., process: _Optional[str] = ..., session: _Optional[str] = ..., attempt: _Optional[_Union[LoginAttempt, str]] = ..., forgiven: _Optional[bool] = ...) -> None: ...
