"""Key pairs: the cloud's binding (KeyPairService) against authorized_keys, sshd's settings
and publickey logins on the host. The cloud keeps a pair's MD5 fingerprint (and its public key
while the pair exists); hosts report MD5 and SHA256 fingerprints, logins usually SHA256.
"""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.checks.base import Evidence, Finding
from palisade.auditor.checks.inputs import CheckInput
from palisade.auditor.checks.keypairs.metadata import (
    BOUND_KEY_MISSING,
    FOREIGN_KEY_LOGIN,
    KEYPAIR_ON_WINDOWS,
    PASSWORD_LOGIN_WITH_KEYPAIR,
    UNEXPLAINED_KEY,
)
from palisade.auditor.checks.registry import instance_check
from palisade.auditor.model.fleet.resources import OsFamily
from palisade.auditor.model.keypairs.service import BoundKey, KeyBinding
from palisade.shared import sshkeys

# -- the evidence of the key-pair findings ----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UnexplainedKeyEvidence(Evidence):
    user: str
    path: str
    line_number: int
    key_type: str
    fingerprint_sha256: str
    fingerprint_md5: str
    comment: str
    options: str
    account_key_pair: str | None  # the account's key pair with this key, not bound here
    bound: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class MissingKeyEvidence(Evidence):
    key_pair: str
    fingerprint_md5: str
    files: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PasswordLoginEvidence(Evidence):
    key_pair: str
    enabled: tuple[str, ...]  # the sshd options that accept passwords
    source: str  # where sshd's configuration was read


@dataclass(frozen=True, kw_only=True)
class ForeignKeyLoginEvidence(Evidence):
    user: str
    key_fingerprint: str
    key_type: str
    time_ms: int
    event_id: str
    bound: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class KeyPairOnWindowsEvidence(Evidence):
    key_pairs: tuple[str, ...]
    windows_per: str  # "the model" or "the agent"


@dataclass(frozen=True)
class KnownKey:
    name: str
    md5: str
    sha256: str | None  # None when the pair was deleted (only its MD5 is kept in the binding)
    state: str  # "active" | "pending" | "unbound" (another pair of the account)


def _normalise_md5(fp: str) -> str:
    fp = fp.strip().lower()
    return fp[4:] if fp.startswith("md5:") else fp


def _known_key(inp: CheckInput, bound: BoundKey, state: str) -> KnownKey:
    sha = None
    inst = inp.instance
    if inst is not None:
        pair = inp.state.keypairs.pairs.get((inst.account_id, inst.region_id, bound.name))
        if pair is not None and _normalise_md5(pair.fingerprint) == _normalise_md5(
            bound.fingerprint
        ):
            sha = _sha256_of(pair.public_key)
    return KnownKey(bound.name, _normalise_md5(bound.fingerprint), sha, state)


def _sha256_of(public_key: str) -> str | None:
    try:
        return sshkeys.parse_public_key(public_key).fingerprint_sha256
    except sshkeys.KeyParseError:
        return None


def bound_keys(inp: CheckInput) -> list[KnownKey]:
    """The active and pending key pairs of the instance (a pending one is installed at the
    next restart, so either may be on the host)."""
    binding: KeyBinding | None = inp.state.keypairs.binding(inp.instance_id)
    if binding is None:
        return []
    out = []
    if binding.active is not None:
        out.append(_known_key(inp, binding.active, "active"))
    if binding.pending is not None:
        out.append(_known_key(inp, binding.pending, "pending"))
    return out


def _account_pairs(inp: CheckInput) -> dict[str, str]:
    """MD5 -> name of every key pair of the instance's account and region."""
    inst = inp.instance
    if inst is None:
        return {}
    return {
        _normalise_md5(p.fingerprint): p.name
        for (acct, region, _), p in inp.state.keypairs.pairs.items()
        if acct == inst.account_id and region == inst.region_id
    }


def _matches(known: KnownKey, md5: str, sha256: str) -> bool:
    if md5 and _normalise_md5(md5) == known.md5:
        return True
    return bool(sha256 and known.sha256 and sha256 == known.sha256)


def _readable_files(inp: CheckInput):
    assert inp.snapshot is not None
    return [f for f in inp.snapshot.authorized_keys if not f.error]


@instance_check(UNEXPLAINED_KEY)
def unexplained_authorized_key(inp: CheckInput) -> list[Finding] | None:
    bound = bound_keys(inp)
    if inp.snapshot is None or not any(k.state == "active" for k in bound):
        return None  # without a bound key pair the cloud has no expectation
    pairs = _account_pairs(inp)
    findings = []
    for f in _readable_files(inp):
        for key in f.keys:
            if key.malformed:
                continue
            if any(_matches(k, key.fingerprint_md5, key.fingerprint_sha256) for k in bound):
                continue
            other = pairs.get(_normalise_md5(key.fingerprint_md5))
            subject = key.fingerprint_sha256 or key.fingerprint_md5
            findings.append(
                UNEXPLAINED_KEY.finding(
                    inp.instance_id,
                    subject,
                    f"{f.path} ({f.user}) line {key.line_number} holds {key.key_type} key "
                    f"{subject}"
                    + (f" ('{key.comment}')" if key.comment else "")
                    + ", which is not the bound key pair"
                    + (f" (it is key pair {other!r}, not bound here)." if other else "."),
                    UnexplainedKeyEvidence(
                        user=f.user,
                        path=f.path,
                        line_number=key.line_number,
                        key_type=key.key_type,
                        fingerprint_sha256=key.fingerprint_sha256,
                        fingerprint_md5=key.fingerprint_md5,
                        comment=key.comment,
                        options=key.options,
                        account_key_pair=other,
                        bound=tuple(k.name for k in bound),
                    ),
                )
            )
    return findings


@instance_check(BOUND_KEY_MISSING)
def bound_key_missing(inp: CheckInput) -> list[Finding] | None:
    active = [k for k in bound_keys(inp) if k.state == "active"]
    if inp.snapshot is None or not active:
        return None
    files = _readable_files(inp)
    if not files:
        return None  # nothing readable: cannot tell
    findings = []
    for known in active:
        present = any(
            _matches(known, k.fingerprint_md5, k.fingerprint_sha256)
            for f in files
            for k in f.keys
            if not k.malformed
        )
        if not present:
            findings.append(
                BOUND_KEY_MISSING.finding(
                    inp.instance_id,
                    known.name,
                    f"Key pair {known.name!r} ({known.md5}) is bound but in none of "
                    f"{', '.join(f.path for f in files)}.",
                    MissingKeyEvidence(
                        key_pair=known.name,
                        fingerprint_md5=known.md5,
                        files=tuple(f.path for f in files),
                    ),
                )
            )
    return findings


@instance_check(PASSWORD_LOGIN_WITH_KEYPAIR)
def password_login_enabled(inp: CheckInput) -> list[Finding] | None:
    binding = inp.state.keypairs.binding(inp.instance_id)
    if inp.snapshot is None or not inp.snapshot.HasField("sshd"):
        return None
    if binding is None or binding.active is None:
        return []
    if binding.password_login_enabled:
        return []  # a password reset re-enabled it in the cloud too: the model agrees
    sshd = inp.snapshot.sshd
    ways = [
        name
        for name, on in (
            ("PasswordAuthentication", sshd.password_authentication),
            ("KbdInteractiveAuthentication", sshd.kbd_interactive_authentication),
        )
        if on
    ]
    if not ways:
        return []
    return [
        PASSWORD_LOGIN_WITH_KEYPAIR.finding(
            inp.instance_id,
            "password_login",
            f"Key pair {binding.active.name!r} is bound, yet sshd accepts passwords "
            f"({' and '.join(ways)} yes, from {sshd.source or 'sshd_config'}).",
            PasswordLoginEvidence(
                key_pair=binding.active.name, enabled=tuple(ways), source=sshd.source
            ),
        )
    ]


@instance_check(FOREIGN_KEY_LOGIN)
def login_with_foreign_key(inp: CheckInput) -> list[Finding] | None:
    bound = bound_keys(inp)
    if not any(k.state == "active" for k in bound):
        return None
    findings: dict[str, Finding] = {}
    for ev, login in inp.logins():
        if login.result != "success" or login.method != "publickey" or not login.key_fingerprint:
            continue
        fp = login.key_fingerprint
        sha = fp if fp.startswith("SHA256:") else ""
        md5 = "" if sha else fp
        if any(_matches(k, md5, sha) for k in bound):
            continue
        findings[fp] = FOREIGN_KEY_LOGIN.finding(
            inp.instance_id,
            fp,
            f"{login.user} logged in from {login.source_ip or 'an unknown source'} with key "
            f"{fp}, not the bound key pair {bound[0].name!r}.",
            ForeignKeyLoginEvidence(
                user=login.user,
                source_ip=login.source_ip,
                key_fingerprint=fp,
                key_type=login.key_type,
                time_ms=ev.time_ms,
                event_id=ev.event_id,
                bound=tuple(k.name for k in bound),
            ),
        )
    return list(findings.values())


@instance_check(KEYPAIR_ON_WINDOWS)
def bound_to_windows(inp: CheckInput) -> list[Finding] | None:
    inst = inp.instance
    if inst is None:
        return None
    bound = bound_keys(inp)
    model_windows = inst.os_family is OsFamily.WINDOWS
    host_windows = inp.snapshot is not None and inp.snapshot.host.os_family == "windows"
    if not bound or not (model_windows or host_windows):
        return []
    source = "the model" if model_windows else "the agent"
    return [
        KEYPAIR_ON_WINDOWS.finding(
            inp.instance_id,
            bound[0].name,
            f"Key pair {bound[0].name!r} is bound, but {source} says the instance runs Windows.",
            KeyPairOnWindowsEvidence(key_pairs=tuple(k.name for k in bound), windows_per=source),
        )
    ]
