"""Effective sshd settings: what sshd would use for a connection.

On the live host with an sshd binary, `sshd -T [-C ...]` is authoritative. Otherwise (a
mounted image, no binary, not root) the configuration is parsed with sshd's rules
(servconf.c): keywords are case-insensitive, the first value obtained wins, `Include`
expands globs relative to /etc/ssh, and `Match` blocks apply per connection, overriding
the global values. Parsing never raises on bad text: problems land in `SshdConfig.errors`.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

from palisade.agent.collectors import host_root as hr

MAX_INCLUDE_DEPTH = 16  # sshd's SERVCONF_MAX_DEPTH
_SSHD_TIMEOUT_S = 10
_WHITESPACE = " \t\r\n"

DEFAULTS: dict[str, tuple[str, ...]] = {
    "port": ("22",),
    "addressfamily": ("any",),
    "permitrootlogin": ("prohibit-password",),
    "pubkeyauthentication": ("yes",),
    "passwordauthentication": ("yes",),
    "kbdinteractiveauthentication": ("yes",),
    "permitemptypasswords": ("no",),
    "hostbasedauthentication": ("no",),
    "ignorerhosts": ("yes",),
    "authorizedkeysfile": (".ssh/authorized_keys", ".ssh/authorized_keys2"),
    "authorizedkeyscommand": ("none",),
    "authorizedkeyscommanduser": ("none",),
    "authorizedprincipalsfile": ("none",),
    "trustedusercakeys": ("none",),
    "strictmodes": ("yes",),
    "usepam": ("no",),
    "permituserenvironment": ("no",),
    "x11forwarding": ("no",),
    "allowtcpforwarding": ("yes",),
    "allowagentforwarding": ("yes",),
    "permittunnel": ("no",),
    "gatewayports": ("no",),
    "maxauthtries": ("6",),
    "maxsessions": ("10",),
    "logingracetime": ("120",),
    "clientaliveinterval": ("0",),
    "clientalivecountmax": ("3",),
    "loglevel": ("INFO",),
    "usedns": ("no",),
}

# Deprecated spellings sshd still accepts.
_ALIASES = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms",
    "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
    "authorizedkeysfile2": "authorizedkeysfile",
    "dsaauthentication": "pubkeyauthentication",
    "keepalive": "tcpkeepalive",
}

# Keywords whose lines add up instead of the first one winning.
_ACCUMULATING = frozenset(
    {
        "port",
        "listenaddress",
        "hostkey",
        "hostcertificate",
        "acceptenv",
        "allowusers",
        "denyusers",
        "allowgroups",
        "denygroups",
        "subsystem",
    }
)

_MATCH_CRITERIA = frozenset(
    {"user", "group", "host", "address", "localaddress", "localport", "rdomain"}
)


@dataclass(frozen=True)
class ConnectionContext:
    """What sshd knows about a connection when it evaluates `Match` (unknown: None)."""

    user: str
    groups: tuple[str, ...] = ()
    host: str | None = None
    address: str | None = None
    local_address: str | None = None
    local_port: int | None = None
    rdomain: str | None = None


@dataclass(frozen=True)
class MatchCondition:
    """One `Match` line: every (criterion, pattern list) must hold; () means `Match All`."""

    criteria: tuple[tuple[str, str], ...]
    valid: bool = True  # an invalid line never matches (sshd would refuse to start)

    def matches(self, ctx: ConnectionContext) -> bool:
        return self.valid and all(_criterion_matches(c, v, ctx) for c, v in self.criteria)


@dataclass(frozen=True)
class Directive:
    keyword: str  # lower-case, aliases resolved
    args: tuple[str, ...]
    path: str  # host path of the file it is in
    line: int
    conditions: tuple[MatchCondition, ...] = ()  # all must match; () = global


@dataclass(frozen=True)
class ConfigError:
    path: str
    line: int
    message: str


@dataclass(frozen=True)
class SshdSettings:
    values: dict[str, tuple[str, ...]]  # lower-case keyword -> arguments
    source: str  # "sshd -T" or the parsed config's path

    def args(self, keyword: str) -> tuple[str, ...]:
        return self.values.get(keyword.lower(), ())

    def get(self, keyword: str) -> str | None:
        """The arguments joined by a space, None when the keyword has no value."""
        args = self.args(keyword)
        return " ".join(args) if args else None

    def authorized_keys_files(self) -> tuple[str, ...]:
        """AuthorizedKeysFile templates (with %h, %u, ... unexpanded); () for `none`."""
        files = self.args("authorizedkeysfile")
        return () if files == ("none",) else files


@dataclass
class SshdConfig:
    path: str  # host path of the main file
    directives: list[Directive] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)
    exists: bool = True
    sshd_binary: str | None = None  # set on the live host: ask `sshd -T` first

    def settings_for(self, ctx: ConnectionContext | None = None) -> SshdSettings:
        """Effective settings for a connection (None: the global ones)."""
        if self.sshd_binary:
            settings = _cached_query(self.sshd_binary, self.path, tuple(self.directives), ctx)
            if settings is not None:
                return settings
        return self.evaluate(ctx)

    def evaluate(self, ctx: ConnectionContext | None = None) -> SshdSettings:
        """Effective settings from the parsed directives alone."""
        global_values: dict[str, tuple[str, ...]] = {}
        match_values: dict[str, tuple[str, ...]] = {}
        for d in self.directives:
            if not d.conditions:
                target = global_values
            elif ctx is not None and all(c.matches(ctx) for c in d.conditions):
                target = match_values
            else:
                continue
            if d.keyword in _ACCUMULATING:
                target[d.keyword] = target.get(d.keyword, ()) + d.args
            else:
                target.setdefault(d.keyword, d.args)
        # sshd re-parses only the Match blocks per connection and lays them over the globals.
        return SshdSettings({**DEFAULTS, **global_values, **match_values}, self.path)


def ssh_dir() -> str:
    """Where sshd_config lives; relative Include paths start here."""
    if sys.platform == "win32":
        return os.path.join(os.environ.get("ProgramData", r"C:\ProgramData"), "ssh")
    return "/etc/ssh"


def argv_split(text: str) -> list[str]:
    """Splits arguments like OpenSSH's argv_split(): quotes, backslash escapes, `#` comments.

    Raises ValueError on an unterminated quote.
    """
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in " \t":
            i += 1
            continue
        if text[i] == "#":
            break
        quote = ""
        arg: list[str] = []
        while i < n:
            ch = text[i]
            if (
                ch == "\\"
                and i + 1 < n
                and (text[i + 1] in "'\"\\" or (not quote and text[i + 1] == " "))
            ):
                arg.append(text[i + 1])
                i += 2
                continue
            if not quote and ch in " \t":
                break
            if not quote and ch in "\"'":
                quote = ch
            elif quote and ch == quote:
                quote = ""
            else:
                arg.append(ch)
            i += 1
        if quote:
            raise ValueError("unterminated quote")
        args.append("".join(arg))
    return args


def _split_keyword(line: str) -> tuple[str, str] | None:
    """(keyword, rest) of a config line; None for blank and comment lines."""
    text = line.rstrip(_WHITESPACE + "\f").lstrip(_WHITESPACE)
    end = 0
    while end < len(text) and text[end] not in _WHITESPACE + "=":
        end += 1
    keyword, rest = text[:end], text[end:].lstrip(_WHITESPACE)
    if not keyword or keyword.startswith("#"):
        return None
    if rest.startswith("="):  # `Keyword=value` and `Keyword = value`
        rest = rest[1:].lstrip(_WHITESPACE)
    return keyword, rest


def _parse_match(args: list[str]) -> tuple[MatchCondition, str | None]:
    """A Match line's condition and an error message (the condition is then invalid)."""
    if len(args) == 1 and args[0].lower() == "all":
        return MatchCondition(()), None
    if not args:
        return MatchCondition((), valid=False), "Match without criteria"
    if any(a.lower() == "all" for a in args[::2]):
        return MatchCondition((), valid=False), "'all' cannot be combined with other criteria"
    if len(args) % 2:
        return MatchCondition((), valid=False), f"Match {args[-1]!r} has no value"
    criteria = []
    for name, value in zip(args[::2], args[1::2], strict=True):
        name = name.lower()
        if name not in _MATCH_CRITERIA:
            return MatchCondition((), valid=False), f"unsupported Match criterion {name!r}"
        if name == "localport" and not _is_port(value):
            return MatchCondition((), valid=False), f"invalid LocalPort {value!r}"
        criteria.append((name, value))
    return MatchCondition(tuple(criteria)), None


def _is_port(value: str) -> bool:
    return value.isdigit() and 0 < int(value) <= 65535


def wildcard_match(text: str, pattern: str) -> bool:
    """OpenSSH match_pattern(): `*` and `?` only; linear-time backtracking, no regex blowup."""
    t = p = 0
    star_p, star_t = -1, 0
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            t += 1
            p += 1
        elif p < len(pattern) and pattern[p] == "*":
            star_p, star_t = p, t
            p += 1
        elif star_p >= 0:
            star_t += 1
            t, p = star_t, star_p + 1
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def match_pattern_list(text: str, patterns: str, lower: bool = False) -> int:
    """1 if a pattern matches, -1 if a negated (`!`) pattern matches, else 0."""
    if lower:
        text = text.lower()
    found = 0
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        pattern = pattern[1:] if negated else pattern
        if wildcard_match(text, pattern.lower() if lower else pattern):
            if negated:
                return -1
            found = 1
    return found


def addr_match_list(address: str, patterns: str) -> int:
    """OpenSSH addr_match_list(): CIDR entries, else wildcard entries; 1, 0 or -1."""
    try:
        addr = ipaddress.ip_address(address)
    except ValueError:
        return 0
    found = 0
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        pattern = pattern[1:] if negated else pattern
        try:
            hit = addr in ipaddress.ip_network(pattern, strict=True)
        except ValueError:
            # Not CIDR, or host bits set (sshd rejects the latter; never a match here).
            hit = "/" not in pattern and wildcard_match(address, pattern)
        if hit:
            if negated:
                return -1
            found = 1
    return found


def _criterion_matches(name: str, value: str, ctx: ConnectionContext) -> bool:
    if name == "user":
        return match_pattern_list(ctx.user, value) == 1
    if name == "group":
        results = [match_pattern_list(g, value) for g in ctx.groups]
        return -1 not in results and 1 in results
    if name == "localport":
        return ctx.local_port is not None and ctx.local_port == int(value)
    if name in ("address", "localaddress"):
        addr = ctx.address if name == "address" else ctx.local_address
        return addr is not None and addr_match_list(addr, value) == 1
    text = ctx.host if name == "host" else ctx.rdomain
    return text is not None and match_pattern_list(text, value, lower=name == "host") == 1


class _Parser:
    def __init__(self, host_root: str | None) -> None:
        self.host_root = host_root
        self.directives: list[Directive] = []
        self.errors: list[ConfigError] = []

    def parse_text(
        self, text: str, path: str, outer: tuple[MatchCondition, ...], depth: int
    ) -> None:
        current = outer  # a Match in an included file ends with that file
        for number, line in enumerate(text.split("\n"), start=1):
            split = _split_keyword(line)
            if split is None:
                continue
            keyword, rest = split
            try:
                args = argv_split(rest)
            except ValueError as exc:
                self.errors.append(ConfigError(path, number, str(exc)))
                continue
            key = keyword.lower()
            key = _ALIASES.get(key, key)
            if key == "match":
                condition, error = _parse_match(args)
                if error:
                    self.errors.append(ConfigError(path, number, error))
                current = outer + (condition,)
            elif not args:
                self.errors.append(ConfigError(path, number, f"no argument after {keyword!r}"))
            elif key == "include":
                self._include(args, path, number, current, depth)
            else:
                self.directives.append(Directive(key, tuple(args), path, number, current))

    def _include(
        self,
        patterns: list[str],
        path: str,
        number: int,
        conditions: tuple[MatchCondition, ...],
        depth: int,
    ) -> None:
        if depth + 1 > MAX_INCLUDE_DEPTH:
            self.errors.append(ConfigError(path, number, "too many recursive includes"))
            return
        if self.host_root is None:
            self.errors.append(ConfigError(path, number, "Include not followed (no host root)"))
            return
        for pattern in patterns:
            if not os.path.isabs(pattern) and not pattern.startswith("~"):
                pattern = os.path.join(ssh_dir(), pattern)
            for included in _glob_in_root(self.host_root, pattern):
                text, error = _read_text(self.host_root, included)
                if error:
                    self.errors.append(ConfigError(path, number, f"{included}: {error}"))
                else:
                    self.parse_text(text, included, conditions, depth + 1)


def _glob_in_root(host_root: str, pattern: str) -> list[str]:
    """Host paths matching a glob; the non-wildcard prefix is resolved inside the root."""
    if hr.is_live_root(host_root):
        return sorted(glob.glob(pattern))
    parts = pattern.split("/")
    fixed = 0
    while fixed < len(parts) - 1 and not glob.has_magic(parts[fixed]):
        fixed += 1
    prefix = "/".join(parts[:fixed]) or "/"
    try:
        local_prefix = hr.resolve(host_root, prefix)
    except OSError:
        return []
    rest = "/".join(parts[fixed:])
    local_matches = glob.glob(os.path.join(glob.escape(local_prefix), rest))
    host = [os.path.join(prefix, os.path.relpath(m, local_prefix)) for m in local_matches]
    return sorted(host)


def _read_text(host_root: str, host_path: str) -> tuple[str, str | None]:
    try:
        with open(hr.resolve(host_root, host_path), "rb") as f:
            return f.read().decode("utf-8", errors="replace"), None
    except OSError as exc:
        return "", exc.strerror or str(exc)


def parse(
    text: str, path: str = "/etc/ssh/sshd_config", host_root: str | None = None
) -> SshdConfig:
    """Parses sshd_config text; Include is followed only when host_root is given."""
    parser = _Parser(host_root)
    parser.parse_text(text, path, (), 0)
    return SshdConfig(path, parser.directives, parser.errors)


def find_sshd() -> str | None:
    return shutil.which("sshd") or next(
        (p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd") if os.access(p, os.X_OK)), None
    )


def load(host_root: str = "/", use_sshd: bool = True) -> SshdConfig:
    """The host's sshd configuration; `sshd -T` is used only on the live host."""
    path = os.path.join(ssh_dir(), "sshd_config")
    text, error = _read_text(host_root, path)
    config = parse(text, path, host_root)
    if error:
        config.exists = False
        config.errors.insert(0, ConfigError(path, 0, error))
    if use_sshd and hr.is_live_root(host_root):
        config.sshd_binary = find_sshd()
    return config


def parse_sshd_t(output: str) -> dict[str, tuple[str, ...]]:
    """`sshd -T` output (one `keyword value...` a line, repeated for lists) as values."""
    values: dict[str, tuple[str, ...]] = {}
    for line in output.splitlines():
        parts = line.split()
        if parts:
            key = parts[0].lower()
            values[key] = values.get(key, ()) + tuple(parts[1:])
    return values


# `sshd -T` answers per (binary, parsed configuration, connection): one process per account
# and snapshot would cost tens of milliseconds each. The parsed directives stand for the config
# files (an edited or newly included file changes them); failures are retried after a while
# (e.g. /run/sshd created later).
_SSHD_T_CACHE: dict[tuple, tuple[float, SshdSettings | None]] = {}
_SSHD_T_CACHE_MAX = 4096
_SSHD_T_FAILURE_RETRY_S = 60.0


def _cached_query(
    binary: str, path: str, directives: tuple[Directive, ...], ctx: ConnectionContext | None
) -> SshdSettings | None:
    try:
        st = os.stat(binary)
        binary_id = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        return None
    key = (binary, binary_id, path, directives, ctx)
    now = time.monotonic()
    cached = _SSHD_T_CACHE.get(key)
    if cached is not None and (cached[1] is not None or now - cached[0] < _SSHD_T_FAILURE_RETRY_S):
        return cached[1]
    settings = _query_sshd(binary, path, ctx)
    if len(_SSHD_T_CACHE) >= _SSHD_T_CACHE_MAX:
        _SSHD_T_CACHE.clear()
    _SSHD_T_CACHE[key] = (now, settings)
    return settings


def _query_sshd(binary: str, path: str, ctx: ConnectionContext | None) -> SshdSettings | None:
    cmd = [binary, "-T", "-f", path]
    if ctx is not None:
        spec = {
            "user": ctx.user,
            "host": ctx.host,
            "addr": ctx.address,
            "laddr": ctx.local_address,
            "lport": str(ctx.local_port) if ctx.local_port is not None else None,
            "rdomain": ctx.rdomain,
        }
        cmd += ["-C", ",".join(f"{k}={v}" for k, v in spec.items() if v is not None)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=_SSHD_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 or not done.stdout.strip():
        return None  # e.g. not root (host keys unreadable): fall back to parsing
    return SshdSettings(parse_sshd_t(done.stdout), "sshd -T")
