"""Login events: who tried to log in, from where, how, and what came of it.

Sources: sshd messages in syslog files (`syslog.py`) and journald (`journal.py`), the binary
login records wtmp/btmp (`utmp.py`), and the Windows Security log (`windows_security.py`). The
sshd messages are recognised by a table of patterns (`sshd_patterns.py`), like a fail2ban
filter; `tailer.py` follows files across rotation and restarts; `log_file.py` reads a whole file
of any of these formats (`palisade-agent parse-log`).

Every source yields `LoginEvent` (event.py). Its vocabulary:

`result`
    success            authenticated: "Accepted ...", Dropbear's "auth succeeded", a wtmp
                       USER_PROCESS record, 4624
    failure            credentials rejected for an existing (or not-said-to-be-unknown) account:
                       "Failed ...", a PAM "authentication failure", "Bad password attempt", a
                       btmp record, 4625
    invalid_user       the account does not exist: "Invalid user ...", "Failed ... for invalid
                       user ...", PAM's "user unknown", 4625 with status 0xC0000064
    refused            barred by policy whatever the credentials: "ROOT LOGIN REFUSED",
                       "User X from H not allowed because ...", pam_faillock / pam_tally2,
                       tcp-wrappers' "refused connect", OpenSSH 9.8+ "drop connection"
                       (penalty / MaxStartups), 4625 for a locked, disabled or expired account
    too_many_failures  the connection was cut after too many attempts: "maximum
                       authentication attempts exceeded", "Disconnecting ...: Too many
                       authentication failures", Dropbear's "Max auth tries reached"
    partial            one method of several required succeeded: "Partial ..."
    preauth_close      the peer went away (or timed out) before authenticating, after trying
    disconnect         an authenticated session ended (any close after a success)
    scan               a connection that never tried: no identification string, a garbage
                       banner (kex_exchange_identification, banner exchange), a pre-auth close,
                       reset or timeout of a session that named no user
    protocol_error     ssh_dispatch_run_fatal, corrupted MAC, bad packet length, ...
    negotiation_failure  "Unable to negotiate ...": no common algorithm

`method`
    sshd's own names: password, publickey, keyboard-interactive (logged as
    keyboard-interactive/pam), hostbased, gssapi-with-mic, gssapi-keyex, none; "pam" when a PAM
    module reported the failure; Windows: the authentication package in lower case (ntlm,
    kerberos, negotiate); None when the message does not say.

`service`
    "sshd" (program names sshd, sshd-session from OpenSSH 9.8, sshd-auth from 10.0), "login"
    (wtmp/btmp records not from sshd), or the Windows logon type ("rdp", "network",
    "interactive", ...).

Several messages can describe one attempt (a PAM failure and sshd's "Failed password"; an
"Invalid user" and the "Failed password for invalid user" after it); each is its own event.
The session tracker (`sessions.py`) groups a connection's lines, gives lines without an address
their session's, and says which event starts a new attempt (`attempt`) and which failures a
later success forgave (`forgiven`): consumers count attempts, not lines.
"""

# The running agent needs only the collector; the other readers (Windows XML, journald,
# whole files) load on first use, so their imports cost the agent no memory (PEP 562).
_EXPORTS = {
    "CONTRACT_FIELDS": "event",
    "FORMATS": "log_file",
    "FileIdentity": "tailer",
    "FileTailer": "tailer",
    "LINUX_SOURCES": "collector",
    "LogFileResult": "log_file",
    "LogFormatError": "log_file",
    "LoginEvent": "event",
    "LoginEventCollector": "collector",
    "NoJournalError": "log_file",
    "LoginLogSource": "collector",
    "METHODS": "event",
    "RESULTS": "event",
    "SSHD_PATTERNS": "sshd_patterns",
    "SSHD_PROGRAMS": "sshd",
    "SessionTracker": "sessions",
    "SshdMessageParser": "sshd",
    "SshdPattern": "sshd_patterns",
    "SyslogLineParser": "syslog",
    "TailPosition": "tailer",
    "TailStateStore": "tailer",
    "TailedUnit": "tailer",
    "UTMP_RECORD_SIZE": "utmp",
    "UtmpRecord": "utmp",
    "WindowsParseResult": "windows_security",
    "YearResolver": "year_inference",
    "detect_format": "log_file",
    "forgive": "sessions",
    "format_time": "event",
    "parse_journal_line": "journal",
    "parse_journal_lines": "journal",
    "parse_utmp": "utmp",
    "parse_utmp_records": "utmp",
    "parse_windows_events_xml": "windows_security",
    "read_journald": "log_file",
    "read_log_file": "log_file",
    "read_windows_security_log": "windows_security",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CONTRACT_FIELDS",
    "FORMATS",
    "LINUX_SOURCES",
    "METHODS",
    "RESULTS",
    "SSHD_PATTERNS",
    "SSHD_PROGRAMS",
    "UTMP_RECORD_SIZE",
    "FileIdentity",
    "FileTailer",
    "LogFileResult",
    "LogFormatError",
    "LoginEvent",
    "LoginEventCollector",
    "LoginLogSource",
    "NoJournalError",
    "SessionTracker",
    "SshdMessageParser",
    "SshdPattern",
    "SyslogLineParser",
    "TailPosition",
    "TailStateStore",
    "TailedUnit",
    "UtmpRecord",
    "WindowsParseResult",
    "YearResolver",
    "detect_format",
    "forgive",
    "format_time",
    "parse_journal_line",
    "parse_journal_lines",
    "parse_utmp",
    "parse_utmp_records",
    "parse_windows_events_xml",
    "read_journald",
    "read_log_file",
    "read_windows_security_log",
]
