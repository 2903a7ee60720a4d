"""Package version comparison as the package managers do it.

Debian (dpkg's verrevcmp, deb-version(7)): [epoch:]upstream[-revision]; the epoch compares as
a number; upstream and revision compare by alternating non-digit parts (letters sort before
non-letters, `~` before everything, even the end of the string) and digit parts (numerically).

RPM (rpm's rpmvercmp and EVR comparison): [epoch:]version[-release]; segments of letters or
digits, separators ignored; digits newer than letters; `~` sorts before anything (pre-release)
and `^` after the base version but before anything else (post-release snapshots).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class VersionError(ValueError):
    """Not a version string of that package format."""


# ------------------------------------------------------------------ Debian


@dataclass(frozen=True)
class DebianVersion:
    epoch: int
    upstream: str
    revision: str

    def __str__(self) -> str:
        text = f"{self.epoch}:{self.upstream}" if self.epoch else self.upstream
        return f"{text}-{self.revision}" if self.revision else text


_DEB_UPSTREAM = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")
_DEB_REVISION = re.compile(r"^[A-Za-z0-9.+~]+$")


def parse_debian(text: str, strict: bool = False) -> DebianVersion:
    """Parse like dpkg's parseversion. `strict` also enforces policy (upstream starts with a
    digit); without it, what dpkg would accept with a warning is accepted."""
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        raise VersionError(f"not a Debian version: {text!r}")
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if not head.isdigit():
            raise VersionError(f"epoch {head!r} is not a number")
        epoch = int(head)
    upstream, sep, revision = text.rpartition("-")
    if not sep:
        upstream, revision = text, ""
    if not upstream:
        raise VersionError("empty upstream version")
    if sep and not revision:
        raise VersionError("empty revision")
    bad = re.search(r"[^A-Za-z0-9.+~:-]", upstream)
    if bad or (revision and not _DEB_REVISION.match(revision)):
        raise VersionError(f"invalid character in Debian version {text!r}")
    if strict and not _DEB_UPSTREAM.match(upstream):
        raise VersionError(f"upstream version {upstream!r} does not start with a digit")
    return DebianVersion(epoch, upstream, revision)


def _deb_order(c: str) -> int:
    if c.isdigit():
        return 0
    if c.isascii() and c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _deb_order(a[i]) if i < len(a) else 0
            bc = _deb_order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def compare_debian(a: str | DebianVersion, b: str | DebianVersion) -> int:
    """<0, 0, >0 like `dpkg --compare-versions a lt|eq|gt b`."""
    va = a if isinstance(a, DebianVersion) else parse_debian(a)
    vb = b if isinstance(b, DebianVersion) else parse_debian(b)
    if va.epoch != vb.epoch:
        return -1 if va.epoch < vb.epoch else 1
    r = _verrevcmp(va.upstream, vb.upstream)
    if r == 0:
        r = _verrevcmp(va.revision, vb.revision)
    return (r > 0) - (r < 0)


# ------------------------------------------------------------------ RPM


def _is_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def rpmvercmp(a: str, b: str) -> int:
    """rpm's rpmvercmp on one version or release string: -1, 0, 1."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not _is_alnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < len(b) and not _is_alnum(b[j]) and b[j] not in "~^":
            j += 1
        a_at = a[i] if i < len(a) else ""
        b_at = b[j] if j < len(b) else ""
        if a_at == "~" or b_at == "~":
            if a_at != "~":
                return 1
            if b_at != "~":
                return -1
            i += 1
            j += 1
            continue
        if a_at == "^" or b_at == "^":
            if not a_at:
                return -1
            if not b_at:
                return 1
            if a_at != "^":
                return 1
            if b_at != "^":
                return -1
            i += 1
            j += 1
            continue
        if not (a_at and b_at):
            break
        numeric = a_at.isdigit()
        kind = str.isdigit if numeric else (lambda c: c.isascii() and c.isalpha())
        i2 = i
        while i2 < len(a) and kind(a[i2]):
            i2 += 1
        j2 = j
        while j2 < len(b) and kind(b[j2]):
            j2 += 1
        seg_a, seg_b = a[i:i2], b[j:j2]
        if not seg_b:
            return 1 if numeric else -1  # digits are newer than letters
        if numeric:
            seg_a, seg_b = seg_a.lstrip("0"), seg_b.lstrip("0")
            if len(seg_a) != len(seg_b):
                return 1 if len(seg_a) > len(seg_b) else -1
        if seg_a != seg_b:
            return 1 if seg_a > seg_b else -1
        i, j = i2, j2
    a_left, b_left = i < len(a), j < len(b)
    if not a_left and not b_left:
        return 0
    return 1 if a_left else -1


@dataclass(frozen=True)
class RpmVersion:
    epoch: int
    version: str
    release: str

    def __str__(self) -> str:
        text = f"{self.epoch}:{self.version}" if self.epoch else self.version
        return f"{text}-{self.release}" if self.release else text


def parse_rpm(text: str) -> RpmVersion:
    """[epoch:]version[-release]; a missing epoch is 0 (as rpm compares)."""
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        raise VersionError(f"not an RPM version: {text!r}")
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if head and not head.isdigit():
            raise VersionError(f"epoch {head!r} is not a number")
        epoch = int(head or 0)
    version, sep, release = text.rpartition("-")
    if not sep:
        version, release = text, ""
    if not version:
        raise VersionError("empty version")
    return RpmVersion(epoch, version, release)


def compare_rpm(a: str | RpmVersion, b: str | RpmVersion) -> int:
    """EVR comparison like rpm's rpmVersionCompare: epoch, then version, then release (a
    missing release is the empty string, older than any release)."""
    va = a if isinstance(a, RpmVersion) else parse_rpm(a)
    vb = b if isinstance(b, RpmVersion) else parse_rpm(b)
    if va.epoch != vb.epoch:
        return -1 if va.epoch < vb.epoch else 1
    r = rpmvercmp(va.version, vb.version)
    if r:
        return r
    return rpmvercmp(va.release, vb.release)


COMPARATORS = {"debian": compare_debian, "rpm": compare_rpm}
