"""sshd's, PAM's and Dropbear's login messages as data: one row per message shape, like a
fail2ban filter. Written from the programs' own sources (OpenSSH portable, linux-pam, Dropbear);
tests/data/logins/*.log holds a sample of every row, and the file/function each family comes
from.

Each row's regex is matched (fullmatch) against the message text after the syslog header, with
a trailing " [preauth]", a leading "error: " / "fatal: ", a Solaris "[ID 800047 auth.info] "
and Dropbear's own "[pid] Mon dd hh:mm:ss " already removed (`sshd.py` does that). Named groups
fill the event: `user`, `src` (address or host name), `port`, `method`, `key_type`, `fp`. The
row gives:

- `result` (see the package docstring) and `result_preauth`, the result when the message
  carried "[preauth]" (the same words end a session otherwise);
- `method` / `user` where the message implies them;
- `attempt`: how the line counts toward attempts (`sessions.py` decides with the session):
  ATTEMPT   a verdict on one try ("Failed password ...", Dropbear's "Bad password attempt");
  ANNOUNCE  a line logged before, or instead of, the verdict of the same try (a PAM failure,
            "Invalid user", an AllowUsers refusal): a new attempt unless one is already
            announced in its session, and the verdict that follows belongs to it;
  None      not an attempt (a close, a summary such as "PAM 2 more authentication failures");
- `event`: False for lines that only tell the session something ("Connection from H port N",
  "Postponed ..."): they feed the session tracker and produce no event.

User names in messages about invalid users are chosen by the remote party, so those rows use a
greedy `user` group against a suffix the program always writes last (" from IP port N ..."): a
name containing " from 6.6.6.6 port 1" cannot move the source. Text a client chooses that sits
after the address (a banner, an offer) is matched by a lazy `src` that stops at the first
address. Rows are tried in order within the group sharing their first three characters, so
the more specific row comes first. Every row must start with three literal characters.

Messages no row matches produce no event (session opened/closed, Server listening, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

ATTEMPT = "attempt"
ANNOUNCE = "announce"


@dataclass(frozen=True)
class SshdPattern:
    name: str
    regex: str
    result: str
    result_preauth: str | None = None
    method: str | None = None
    user: str | None = None
    attempt: str | None = None
    event: bool = True
    opens_session: bool = False


_PORT = r"(?: port (?P<port>\d+))?"
_FROM = r" from (?P<src>\S+)" + _PORT
_PEER = r" (?P<src>\S+) port (?P<port>\d+)"  # "... user X 1.2.3.4 port 22": no "from"
_METHOD = r"(?P<method>[\w-]+)(?:/[\w-]+)?"  # "keyboard-interactive/pam" -> keyboard-interactive
# ": ED25519 SHA256:abc" or a certificate: ": RSA-CERT SHA256:abc ID x (serial 1) CA RSA SHA256:d"
_KEY = r"(?:: (?P<key_type>[\w@.-]+) (?P<fp>(?:SHA256|MD5):[\w+/=:]+)(?: ID .*)?)?"
_SSH2 = r"(?: ssh[12])?"
_WHO = r"(?:(?:authenticating|invalid) user (?P<user>.*) )?"  # packet.c's log preamble
# Dropbear's "host:port" (IPv6 unbracketed: the port follows the last colon)
_DB_PEER = r"(?P<src>[^\s<>]+):(?P<port>\d+)"
_PAM_FIELDS = r"logname=\S* uid=\d* euid=\d* tty=\S* ruser=\S* rhost=(?P<src>\S*)"

SSHD_PATTERNS: tuple[SshdPattern, ...] = (
    # -- OpenSSH auth.c auth_log(): "%s %s%s%s for %s%.100s from %.200s port %d ssh2%s%s" -----
    SshdPattern(
        "accepted",
        r"Accepted " + _METHOD + r" for (?P<user>.*?)" + _FROM + _SSH2 + _KEY,
        "success",
    ),
    SshdPattern(
        "failed_invalid_user",
        r"Failed " + _METHOD + r" for (?:invalid|illegal) user (?P<user>.*)" + _FROM + _SSH2 + _KEY,
        "invalid_user",
        attempt=ATTEMPT,
    ),
    SshdPattern(
        "failed",
        r"Failed " + _METHOD + r" for (?P<user>.*?)" + _FROM + _SSH2 + _KEY,
        "failure",
        attempt=ATTEMPT,
    ),
    SshdPattern(
        "partial",
        r"Partial " + _METHOD + r" for (?:invalid user )?(?P<user>.*?)" + _FROM + _SSH2 + _KEY,
        "partial",
    ),
    SshdPattern(  # the same line when a method waits for more (keyboard-interactive rounds)
        "postponed",
        r"Postponed " + _METHOD + r" for (?:invalid user )?(?P<user>.*?)" + _FROM + _SSH2 + _KEY,
        "partial",
        event=False,
    ),
    # -- auth.c getpwnamallow(): "Invalid user %.100s from %.100s port %d"; < 3.8 "Illegal" --
    SshdPattern(
        "invalid_user",
        r"Invalid user (?P<user>.*)" + _FROM,
        "invalid_user",
        attempt=ANNOUNCE,
    ),
    SshdPattern(
        "illegal_user",
        r"Illegal user (?P<user>.*)" + _FROM,
        "invalid_user",
        attempt=ANNOUNCE,
    ),
    # auth2.c input_userauth_request() before 7.x: no address (the session gives it)
    SshdPattern(
        "userauth_request_invalid_user",
        r"input_userauth_request: (?:invalid|illegal) user (?P<user>.*)",
        "invalid_user",
        attempt=ANNOUNCE,
    ),
    # -- auth.c allowed_user(): the account exists but the configuration bars it -------------
    SshdPattern(
        "user_not_allowed",
        r"User (?P<user>.*?) from (?P<src>\S+) not allowed because .*",
        "refused",
        attempt=ANNOUNCE,
    ),
    SshdPattern(
        "user_not_allowed_no_source",  # shell missing, account locked; older versions
        r"User (?P<user>\S+) not allowed because .*",
        "refused",
        attempt=ANNOUNCE,
    ),
    # auth.c auth_root_allowed(): the right credentials, but PermitRootLogin says no
    SshdPattern(
        "root_refused",
        r"ROOT LOGIN REFUSED FROM (?P<src>\S+?)" + _PORT,
        "refused",
        user="root",
        attempt=ANNOUNCE,
    ),
    # -- auth-pam.c: error("PAM: %s for %s%.100s from %.100s", pam_strerror, "illegal user ", ..)
    SshdPattern(
        "pam_error_invalid_user",
        r"PAM: [A-Za-z][\w ,;'-]*? for (?:illegal|invalid) user (?P<user>.*) from (?P<src>\S+)",
        "invalid_user",
        method="pam",
        attempt=ANNOUNCE,
    ),
    SshdPattern(
        "pam_error_failure",
        r"PAM: [A-Za-z][\w ,;'-]*? for (?P<user>.*?) from (?P<src>\S+)",
        "failure",
        method="pam",
        attempt=ANNOUNCE,
    ),
    # -- linux-pam modules, through sshd's log: pam_unix support.c _unix_verify_password(),
    # pam_sss, pam_ldap ... "authentication failure; logname= uid= euid= tty= ruser= rhost="
    # (no user= when the account is unknown)
    SshdPattern(
        "pam_auth_failure",
        r"pam_\w+\(sshd:auth\): authentication failure; " + _PAM_FIELDS + r"\s+user=(?P<user>.+)",
        "failure",
        method="pam",
        attempt=ANNOUNCE,
    ),
    SshdPattern(
        "pam_auth_failure_unknown_user",
        r"pam_\w+\(sshd:auth\): authentication failure; " + _PAM_FIELDS + r"\s*",
        "invalid_user",
        method="pam",
        attempt=ANNOUNCE,
    ),
    # pam_unix _unix_blankpasswd()/_unix_verify_password(): "check pass; user unknown"
    SshdPattern(
        "pam_unix_user_unknown",
        r"pam_unix\(sshd:auth\): check pass; user unknown",
        "invalid_user",
        method="pam",
        attempt=ANNOUNCE,
    ),
    # pam_faillock.c: "User unknown"; "Consecutive login failures for user %s account
    # temporarily locked"
    SshdPattern(
        "pam_faillock_user_unknown",
        r"pam_faillock\(sshd:auth\): User unknown",
        "invalid_user",
        method="pam",
        attempt=ANNOUNCE,
    ),
    SshdPattern(
        "pam_faillock_locked",
        r"pam_faillock\(sshd:auth\): Consecutive login failures for user (?P<user>\S+)"
        r" account temporarily locked",
        "refused",
        method="pam",
    ),
    # pam_tally2.c / pam_tally.c tally_check(): "user %s (%lu) tally %hu, deny %hu"
    SshdPattern(
        "pam_tally_deny",
        r"pam_tally2?\(sshd:auth\): user (?P<user>\S+) \(\d+\) tally \d+, deny \d+",
        "refused",
        method="pam",
    ),
    # pam_unix account management: "account %s has expired (account expired)" and friends
    SshdPattern(
        "pam_account_expired",
        r"pam_unix\(sshd:account\): account (?P<user>\S+) has expired .*",
        "refused",
        method="pam",
    ),
    # pam_sss: "received for user %s: %d (%s)" after its authentication failure line
    SshdPattern(
        "pam_sss_received",
        r"pam_sss\(sshd:auth\): received for user (?P<user>\S+): \d+ \(Authentication failure\)",
        "failure",
        method="pam",
        attempt=ANNOUNCE,
    ),
    # libpam pam_unix _cleanup_failures(): "%d more authentication failure%s; logname=..."
    # (the tries were counted one by one already: a summary, not an attempt)
    SshdPattern(
        "pam_more_failures",
        r"PAM \d+ more authentication failures?; " + _PAM_FIELDS + r"(?:\s+user=(?P<user>.+))?",
        "failure",
        method="pam",
    ),
    # RHEL 4 era: the module in the program name, "sshd(pam_unix)[1]: authentication failure;"
    SshdPattern(
        "pam_auth_failure_old",
        r"authentication failure; " + _PAM_FIELDS + r"(?:\s+user=(?P<user>.+))?",
        "failure",
        method="pam",
        attempt=ANNOUNCE,
    ),
    # -- auth2.c / auth.c auth_maxtries_exceeded(): "maximum authentication attempts exceeded
    # for %s%.100s from %.200s port %d ssh2"
    SshdPattern(
        "max_auth_attempts",
        r"maximum authentication attempts exceeded for (?:invalid user )?(?P<user>.*)"
        + _FROM
        + _SSH2,
        "too_many_failures",
    ),
    # packet.c sshpkt_disconnect() "Disconnecting %s: %s" with the log preamble
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
    SshdPattern(
        "disconnecting_protocol",  # "Change of username or service not allowed", "Packet corrupt"
        r"Disconnecting " + _WHO + r"(?P<src>\S+) port (?P<port>\d+): .*",
        "protocol_error",
    ),
    SshdPattern(
        "disconnecting_protocol_old",  # "Disconnecting: Bad packet length", "Corrupted MAC ..."
        r"Disconnecting: .*",
        "protocol_error",
    ),
    # -- sshd.c (sshd-session.c from 9.8) at LogLevel VERBOSE: the connection's first line ----
    SshdPattern(
        "connection_from",
        r"Connection from (?P<src>\S+) port (?P<port>\d+)(?: on \S+ port \d+.*)?",
        "preauth_close",
        event=False,
        opens_session=True,
    ),
    # packet.c sshpkt_fatal(): "Connection closed by %s", "Connection reset by %s",
    # "Disconnected from %s", with the peer as "[authenticating |invalid ]user X IP port N"
    # once sshd knows the user ("user X" after authentication), "IP port N" before that.
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
        r"Connection closed by (?P<src>\S+?)" + _PORT,
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
        r"Connection reset by (?P<src>\S+?)" + _PORT,
        "preauth_close",
    ),
    SshdPattern(  # SSH_ERR_CONN_TIMEOUT: "Connection from %s timed out"
        "connection_timed_out",
        r"Connection from " + _WHO + r"(?P<src>\S+) port (?P<port>\d+) timed out",
        "preauth_close",
    ),
    # packet.c / old packet_read_seqnr(): the peer went away, no address on the line
    SshdPattern(
        "read_from_socket_failed",
        r"Read from socket failed: .*",
        "preauth_close",
    ),
    SshdPattern(
        "write_failed",
        r"Write failed: .*",
        "preauth_close",
    ),
    # packet.c ssh_packet_process_read() (8.x+): "Read error from remote host %s port %d: %s"
    SshdPattern(
        "read_error",
        r"Read error from remote host (?P<src>\S+) port (?P<port>\d+): .*",
        "disconnect",
        result_preauth="preauth_close",
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
    # serverloop.c client_alive_check(): an authenticated session that stopped answering
    SshdPattern(
        "client_not_responding",
        r"Timeout, client not responding(?: from (?:user (?P<user>\S+) )?(?P<src>\S+) port"
        r" (?P<port>\d+))?\.?",
        "disconnect",
    ),
    # -- sshd.c grace_alarm_handler() (sshd-session.c from 9.8): LoginGraceTime ran out -------
    SshdPattern(
        "timeout_preauth",
        r"Timeout before authentication for (?P<src>\S+?)" + _PORT,
        "preauth_close",
    ),
    # -- pre-authentication scanners: sshd.c sshd_exchange_identification() (before 7.x),
    # kex.c kex_exchange_identification() (8.x+), sshpkt_fatal(ssh, "banner exchange", r)
    SshdPattern(
        "did_not_receive_identification",
        r"Did not receive identification string from (?P<src>\S+?)" + _PORT,
        "scan",
    ),
    SshdPattern(
        "bad_protocol_version",  # the client's text is in quotes: the address is the last
        r"Bad protocol version identification '.*' from (?P<src>\S+?)" + _PORT,
        "scan",
    ),
    SshdPattern(  # kex.c 8.x: the same without an address (the session gives it)
        "bad_remote_protocol_version",
        r"Bad remote protocol version identification: '.*'",
        "scan",
    ),
    SshdPattern(
        "protocol_major_versions_differ",
        r"Protocol major versions differ for (?P<src>\S+?)" + _PORT + r": .*",
        "scan",
    ),
    SshdPattern(
        "protocol_major_versions_differ_new",
        r"Protocol major versions differ: \d+ vs\. \d+",
        "scan",
    ),
    SshdPattern(
        "kex_exchange_identification",
        r"kex_exchange_identification: .*",
        "scan",
    ),
    SshdPattern(
        "banner_exchange",
        r"banner exchange: Connection from (?P<src>\S+?)" + _PORT + r": .*",
        "scan",
    ),
    # -- protocol errors: packet.c ssh_packet_read_poll2(), sshpkt_fatal() default case,
    # kex.c kex_protocol_error()
    SshdPattern(
        "dispatch_run_fatal",
        r"ssh_dispatch_run_fatal: Connection from " + _WHO + r"(?P<src>\S+) port (?P<port>\d+): .*",
        "protocol_error",
    ),
    SshdPattern(
        "corrupted_mac",
        r"Corrupted MAC on input\.?",
        "protocol_error",
    ),
    SshdPattern(
        "bad_packet_length",
        r"Bad packet length \d+\.?",
        "protocol_error",
    ),
    SshdPattern(
        "padding_error",
        r"padding error: need \d+ block \d+ mod \d+",
        "protocol_error",
    ),
    SshdPattern(
        "finished_discarding",
        r"Finished discarding for (?P<src>\S+?)" + _PORT,
        "protocol_error",
    ),
    SshdPattern(
        "kex_protocol_error",
        r"kex_protocol_error: type \d+ seq \d+",
        "protocol_error",
    ),
    # -- negotiation: sshpkt_fatal() SSH_ERR_NO_*_ALG_MATCH, kex.c choose_*() before 7.x ------
    SshdPattern(
        "unable_to_negotiate",
        r"Unable to negotiate with (?P<src>\S+?)" + _PORT + r": no matching .*",
        "negotiation_failure",
    ),
    SshdPattern(
        "unable_to_negotiate_kex",
        r"Unable to negotiate a key exchange method",
        "negotiation_failure",
    ),
    SshdPattern(
        "no_matching_alg",
        r"no matching (?:cipher|mac|comp) found: client .*",
        "negotiation_failure",
    ),
    SshdPattern(
        "no_hostkey_alg",
        r"no hostkey alg",
        "negotiation_failure",
    ),
    # -- sshd.c listener: tcp-wrappers (libwrap, before 6.7), MaxStartups and 9.8 penalties ---
    SshdPattern(
        "tcp_wrappers_refused",
        r"refused connect from (?:\S+ )?\((?P<src>[^()\s]+)\)",
        "refused",
    ),
    SshdPattern(
        "tcp_wrappers_refused_bare",
        r"refused connect from (?P<src>\S+)",
        "refused",
    ),
    SshdPattern(
        "drop_connection",
        r"drop connection #\d+ from \[(?P<src>[^\]]+)\]:(?P<port>\d+) on \[[^\]]*\]:\d+ .*",
        "refused",
    ),
    # -- Dropbear: svr-main.c, svr-auth.c, svr-authpasswd.c, svr-authpubkey.c, svr-session.c
    # svr_dropbear_exit() ("Exit before auth%s: (user '%s', %u fails): %s") -------------------
    SshdPattern(
        "dropbear_child_connection",
        r"Child connection from " + _DB_PEER,
        "preauth_close",
        event=False,
        opens_session=True,
    ),
    SshdPattern(
        "dropbear_bad_password",
        r"Bad password attempt for '(?P<user>.*)' from " + _DB_PEER,
        "failure",
        method="password",
        attempt=ATTEMPT,
    ),
    SshdPattern(
        "dropbear_nonexistent_user",
        r"Login attempt for nonexistent user(?: '(?P<user>.*)')? from " + _DB_PEER,
        "invalid_user",
        attempt=ATTEMPT,
    ),
    SshdPattern(
        "dropbear_password_success",
        r"Password auth succeeded for '(?P<user>.*)' from " + _DB_PEER,
        "success",
        method="password",
    ),
    SshdPattern(
        "dropbear_pubkey_partial",
        r"Pubkey auth succeeded for '(?P<user>.*)' with (?P<key_type>\S+) key (?P<fp>\S+) from "
        + _DB_PEER
        + r", extra auth required",
        "partial",
        method="publickey",
    ),
    SshdPattern(
        "dropbear_pubkey_success",
        r"Pubkey auth succeeded for '(?P<user>.*)' with (?:(?P<key_type>\S+) key (?P<fp>\S+)"
        r"|key (?:md5|sha1!!) \S+) from " + _DB_PEER,
        "success",
        method="publickey",
    ),
    SshdPattern(
        "dropbear_pubkey_bad_signature",
        r"Pubkey auth bad signature for '(?P<user>.*)' with (?:(?P<key_type>\S+) key (?P<fp>\S+)"
        r"|key (?:md5|sha1!!) \S+) from " + _DB_PEER,
        "failure",
        method="publickey",
        attempt=ATTEMPT,
    ),
    SshdPattern(
        "dropbear_account_locked",
        r"User account '(?P<user>.*)' is locked",
        "refused",
        attempt=ANNOUNCE,
    ),
    SshdPattern(
        "dropbear_user_rejected",  # "has blank password, rejected", "has invalid shell, rejected"
        r"User '(?P<user>.*)' has (?:blank password|invalid shell), rejected",
        "refused",
        attempt=ANNOUNCE,
    ),
    SshdPattern(
        "dropbear_root_rejected",
        r"root login rejected",
        "refused",
        user="root",
        attempt=ANNOUNCE,
    ),
    SshdPattern(
        "dropbear_max_tries",
        r"Exit before auth from <" + _DB_PEER + r">: \(user '(?P<user>.*)', \d+ fails\):"
        r" Max auth tries reached.*",
        "too_many_failures",
    ),
    SshdPattern(
        "dropbear_max_tries_old",
        r"Exit before auth(?: from <[^>]*>)?(?:: | \(user '[^']*', \d+ fails\): )Max auth tries"
        r" reached - user '(?P<user>.*)'(?: from " + _DB_PEER + r")?",
        "too_many_failures",
    ),
    SshdPattern(
        "dropbear_exit_before_auth_user",
        r"Exit before auth from <" + _DB_PEER + r">: \(user '(?P<user>.*)', \d+ fails\): .*",
        "preauth_close",
    ),
    SshdPattern(
        "dropbear_exit_before_auth",
        r"Exit before auth from <" + _DB_PEER + r">: .*",
        "preauth_close",
    ),
    SshdPattern(
        "dropbear_exit_before_auth_no_source",
        r"Exit before auth(?: \(user '(?P<user>.*)', \d+ fails\))?: .*",
        "preauth_close",
    ),
    SshdPattern(
        "dropbear_exit",
        r"Exit \((?P<user>[^)]*)\)(?: from <" + _DB_PEER + r">)?: .*",
        "disconnect",
    ),
)
