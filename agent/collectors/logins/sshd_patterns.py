"""sshd's login messages as data: one row per message shape, like a fail2ban filter.

Each row's regex is matched (fullmatch) against the message text after the syslog header, with
a trailing " [preauth]" and a leading "error: " / "fatal: " already removed (`sshd.py` does
that). Named groups fill the event: `user`, `src` (address or host name), `port`, `method`,
`key_type`, `fp`. The row gives the `result` (see the package docstring), and may fix `method`
or `user` where the message implies them, and give `result_preauth`: the result when the
message carried "[preauth]" (the same words mean a pre-authentication hang-up there and the end
of a session otherwise).

User names in messages about invalid users are chosen by the remote party, so those rows use a
greedy `user` group against a suffix sshd always writes last (" from IP port N ..."): a name
containing " from 6.6.6.6 port 1" cannot move the source. Rows about existing accounts use a
lazy group. Rows are tried in order within the group sharing their first three characters, so
the more specific row comes first. Every row must start with three literal characters.

Messages no row matches produce no event (session opened/closed, Postponed, Server listening,
kex errors without a peer, ...).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SshdPattern:
    name: str
    regex: str
    result: str
    result_preauth: str | None = None
    method: str | None = None
    user: str | None = None


_FROM = r" from (?P<src>\S+) port (?P<port>\d+)"
_PEER = r" (?P<src>\S+) port (?P<port>\d+)"  # "... user X 1.2.3.4 port 22": no "from"
_METHOD = r"(?P<method>[\w-]+)(?:/[\w-]+)?"  # "keyboard-interactive/pam" -> keyboard-interactive
# ": ED25519 SHA256:abc" or a certificate: ": RSA-CERT SHA256:abc ID x (serial 1) CA RSA SHA256:d"
_KEY = r"(?:: (?P<key_type>[\w@.-]+) (?P<fp>(?:SHA256|MD5):[\w+/=:]+)(?: ID .*)?)?"

SSHD_PATTERNS: tuple[SshdPattern, ...] = (
    # auth.c auth_log(): "%s %s%s%s for %s%.100s from %.200s port %d ssh2%s%s"
    SshdPattern(
        "accepted",
        r"Accepted " + _METHOD + r" for (?P<user>.*?)" + _FROM + r"(?: ssh2)?" + _KEY,
        "success",
    ),
    SshdPattern(
        "failed_invalid_user",
        r"Failed " + _METHOD + r" for invalid user (?P<user>.*)" + _FROM + r"(?: ssh2)?" + _KEY,
        "invalid_user",
    ),
    SshdPattern(
        "failed",
        r"Failed " + _METHOD + r" for (?P<user>.*?)" + _FROM + r"(?: ssh2)?" + _KEY,
        "failure",
    ),
    SshdPattern(
        "partial",
        r"Partial " + _METHOD + r" for (?P<user>.*?)" + _FROM + r"(?: ssh2)?" + _KEY,
        "partial",
    ),
    # "Invalid user X from IP port N"; before 7.x without the port.
    SshdPattern(
        "invalid_user",
        r"Invalid user (?P<user>.*) from (?P<src>\S+)(?: port (?P<port>\d+))?",
        "invalid_user",
    ),
    SshdPattern(
        "illegal_user",  # OpenSSH < 3.8 wording, still in old archives
        r"Illegal user (?P<user>.*) from (?P<src>\S+)(?: port (?P<port>\d+))?",
        "invalid_user",
    ),
    # PAM modules log through sshd: pam_unix(sshd:auth), pam_sss(sshd:auth), ...
    SshdPattern(
        "pam_auth_failure",
        r"pam_\w+\(sshd:auth\): authentication failure; logname=\S* uid=\d* euid=\d* tty=\S*"
        r" ruser=\S* rhost=(?P<src>\S*)(?:\s+user=(?P<user>.*))?",
        "failure",
        method="pam",
    ),
    # RHEL: "error: PAM: Authentication failure for [illegal user ]X from HOST"
    SshdPattern(
        "pam_error_invalid_user",
        r"PAM: (?:User not known to the underlying authentication module|Authentication failure)"
        r" for (?:illegal|invalid) user (?P<user>.*) from (?P<src>\S+)",
        "invalid_user",
        method="pam",
    ),
    SshdPattern(
        "pam_error_failure",
        r"PAM: Authentication failure for (?P<user>.*?) from (?P<src>\S+)",
        "failure",
        method="pam",
    ),
    # auth.c: "ROOT LOGIN REFUSED FROM %.200s port %d"; older without the port.
    SshdPattern(
        "root_refused",
        r"ROOT LOGIN REFUSED FROM (?P<src>\S+?)(?: port (?P<port>\d+))?",
        "refused",
        user="root",
    ),
    # auth.c allowed_user(): the account exists but configuration bars it.
    SshdPattern(
        "user_not_allowed",
        r"User (?P<user>.*?) from (?P<src>\S+) not allowed because .*",
        "refused",
    ),
    SshdPattern(
        "user_not_allowed_no_source",
        r"User (?P<user>\S+) not allowed because .*",
        "refused",
    ),
    # auth2.c: "maximum authentication attempts exceeded for %s%.100s from %.200s port %d ssh2"
    SshdPattern(
        "max_auth_attempts",
        r"maximum authentication attempts exceeded for (?:invalid user )?(?P<user>.*)"
        + _FROM
        + r"(?: ssh2)?",
        "too_many_failures",
    ),
    # packet.c: "Disconnecting authenticating user root 1.2.3.4 port 22: Too many auth..."
    SshdPattern(
        "too_many_failures",
        r"Disconnecting (?:authenticating|invalid) user (?P<user>.*)"
        + _PEER
        + r": Too many authentication failures.*",
        "too_many_failures",
    ),
    SshdPattern(
        "too_many_failures_old",  # before 7.5: "Disconnecting: Too many ... for root"
        r"Disconnecting: Too many authentication failures(?: for (?:invalid user )?(?P<user>.*))?",
        "too_many_failures",
    ),
    # packet.c names the peer "[authenticating |invalid ]user X IP port N" once sshd knows the
    # user ("user X" only after authentication), "IP port N" before that.
    SshdPattern(
        "connection_closed_preauth_user",
        r"Connection closed by (?:authenticating|invalid) user (?P<user>.*)" + _PEER,
        "preauth_close",
    ),
    SshdPattern(
        "connection_closed_user",
        r"Connection closed by user (?P<user>.*)" + _PEER,
        "disconnect",
        result_preauth="preauth_close",
    ),
    SshdPattern(
        "connection_closed",
        r"Connection closed by (?P<src>\S+?)(?: port (?P<port>\d+))?",
        "preauth_close",
    ),
    SshdPattern(
        "connection_reset_preauth_user",
        r"Connection reset by (?:authenticating|invalid) user (?P<user>.*)" + _PEER,
        "preauth_close",
    ),
    SshdPattern(
        "connection_reset_user",
        r"Connection reset by user (?P<user>.*)" + _PEER,
        "disconnect",
        result_preauth="preauth_close",
    ),
    SshdPattern(
        "connection_reset",
        r"Connection reset by (?P<src>\S+?)(?: port (?P<port>\d+))?",
        "preauth_close",
    ),
    # "Received disconnect from IP port N:11: reason"; before 7.x "from IP: 11: reason".
    SshdPattern(
        "received_disconnect",
        r"Received disconnect from (?P<src>\S+) port (?P<port>\d+):\d+: ?.*",
        "disconnect",
        result_preauth="preauth_close",
    ),
    SshdPattern(
        "received_disconnect_old",
        r"Received disconnect from (?P<src>\S+): \d+: ?.*",
        "disconnect",
        result_preauth="preauth_close",
    ),
    SshdPattern(
        "disconnected_preauth_user",
        r"Disconnected from (?:authenticating|invalid) user (?P<user>.*)" + _PEER,
        "preauth_close",
    ),
    SshdPattern(
        "disconnected_user",
        r"Disconnected from user (?P<user>.*)" + _PEER,
        "disconnect",
        result_preauth="preauth_close",
    ),
    SshdPattern(
        "disconnected",
        r"Disconnected from (?P<src>\S+) port (?P<port>\d+)",
        "preauth_close",
    ),
    SshdPattern(
        "timeout_preauth",
        r"Timeout before authentication for (?P<src>\S+?)(?: port (?P<port>\d+))?",
        "preauth_close",
    ),
    SshdPattern(
        "did_not_receive_identification",
        r"Did not receive identification string from (?P<src>\S+?)(?: port (?P<port>\d+))?",
        "preauth_close",
    ),
    SshdPattern(
        "unable_to_negotiate",
        r"Unable to negotiate with (?P<src>\S+?)(?: port (?P<port>\d+))?: no matching .*",
        "preauth_close",
    ),
    SshdPattern(
        "banner_exchange",
        r"banner exchange: Connection from (?P<src>\S+?)(?: port (?P<port>\d+))?: .*",
        "preauth_close",
    ),
    # OpenSSH 9.8+ listener (PerSourcePenalties, MaxStartups):
    # "drop connection #0 from [1.2.3.4]:5 on [10.0.0.1]:22 penalty: failed authentication"
    SshdPattern(
        "drop_connection",
        r"drop connection #\d+ from \[(?P<src>[^\]]+)\]:(?P<port>\d+) on \[[^\]]*\]:\d+ .*",
        "refused",
    ),
)
