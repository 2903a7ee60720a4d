"""Debian and RPM version comparison: known answers (dpkg --compare-versions, rpm's own
rpmvercmp test table) and total-order properties, plus dpkg itself as an oracle when present."""

from __future__ import annotations

import shutil
import subprocess
from functools import cmp_to_key

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.auditor.checks.vulnerabilities.versions import (
    VersionError,
    compare_debian,
    compare_rpm,
    parse_debian,
    rpmvercmp,
)

DPKG_SAMPLES = [
    ("1.0~rc1", "1.0", -1),
    ("1:0.9", "2.0", 1),
    ("1.0", "1.0-0", 0),
    ("0:1.0", "1.0", 0),
    ("1.0-1", "1.0-2", -1),
    ("1.2.3", "1.2.10", -1),
    ("1.0a", "1.0", 1),
    ("1.0+b1", "1.0", 1),
    ("1.0~~", "1.0~", -1),
    ("1.0~", "1.0", -1),
    ("1.01", "1.1", 0),
    ("2.30-1", "2.3-1", 1),
    ("1.0-1~bpo11+1", "1.0-1", -1),
    ("7.4.052-1ubuntu3", "7.4.052-1ubuntu3.1", -1),
    ("1.0.0a", "1.0.0+", -1),  # letters sort before non-letters
    ("3.0.11-1~deb12u2", "3.0.11-1", -1),
    ("2:1.0", "1:9.9", 1),
    ("1.0-a", "1.0-1", 1),
]


@pytest.mark.parametrize(("a", "b", "want"), DPKG_SAMPLES)
def test_debian_known_answers(a, b, want):
    assert compare_debian(a, b) == want
    assert compare_debian(b, a) == -want


RPM_SAMPLES = [  # rpm's tests/rpmvercmp.at
    ("1.0", "1.0", 0),
    ("1.0", "2.0", -1),
    ("2.0.1", "2.0", 1),
    ("2.0.1a", "2.0.1", 1),
    ("5.5p1", "5.5p2", -1),
    ("5.5p10", "5.5p2", 1),
    ("10xyz", "10.1xyz", -1),
    ("xyz10", "xyz10.1", -1),
    ("xyz.4", "8", -1),
    ("2a", "2.0", -1),
    ("1.0", "1_0", 0),
    ("1..0", "1.0", 0),
    ("1.0a", "1.0a", 0),
    ("a", "1", -1),
    ("1b.fc17", "1.fc17", -1),
    ("6.0.rc1", "6.0", 1),
    ("1.0~rc1", "1.0", -1),
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0^", "1.0", 1),
    ("1.0^git1", "1.0", 1),
    ("1.0^git1", "1.01", -1),
    ("1.0^20160101", "1.0.1", -1),
    ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0^git1~pre", "1.0^git1", -1),
    ("001", "1", 0),
]


@pytest.mark.parametrize(("a", "b", "want"), RPM_SAMPLES)
def test_rpmvercmp_known_answers(a, b, want):
    assert rpmvercmp(a, b) == want
    assert rpmvercmp(b, a) == -want


def test_rpm_evr():
    assert compare_rpm("1:1.0-1.el9", "2.0-1.el9") == 1
    assert compare_rpm("3.0.7-27.el9", "3.0.7-28.el9") == -1
    assert compare_rpm("0:3.0.7-27.el9", "3.0.7-27.el9") == 0
    assert compare_rpm("3.0.7-27.el9_4", "3.0.7-27.el9") == 1


def test_debian_rejects_garbage():
    for bad in ("", "a b", "x:1.0", "1.0-", "1.0_1"):
        with pytest.raises(VersionError):
            parse_debian(bad)


_deb_upstream = st.from_regex(r"[0-9][0-9a-z.+~]{0,8}", fullmatch=True)
_deb_revision = st.from_regex(r"[0-9a-z.+~]{1,5}", fullmatch=True)
debian_versions = st.builds(
    lambda e, u, r: (f"{e}:" if e is not None else "") + u + (f"-{r}" if r else ""),
    st.one_of(st.none(), st.integers(0, 3)),
    _deb_upstream,
    st.one_of(st.none(), _deb_revision),
)
rpm_parts = st.from_regex(r"[0-9a-z.~^]{1,8}", fullmatch=True).filter(lambda s: "-" not in s)
rpm_versions = st.builds(
    lambda e, v, r: (f"{e}:" if e is not None else "") + v + (f"-{r}" if r else ""),
    st.one_of(st.none(), st.integers(0, 3)),
    rpm_parts,
    st.one_of(st.none(), rpm_parts),
)


@pytest.mark.parametrize(
    ("cmp", "strategy"), [(compare_debian, debian_versions), (compare_rpm, rpm_versions)]
)
def test_total_order_properties(cmp, strategy):
    @settings(max_examples=200, deadline=None)
    @given(strategy, strategy, strategy)
    def check(a, b, c):
        assert cmp(a, a) == 0
        assert cmp(a, b) == -cmp(b, a)
        if cmp(a, b) <= 0 and cmp(b, c) <= 0:
            assert cmp(a, c) <= 0
        if cmp(a, b) == 0:
            assert cmp(a, c) == cmp(b, c)
        ordered = sorted([a, b, c], key=cmp_to_key(cmp))
        assert all(cmp(x, y) <= 0 for x, y in zip(ordered, ordered[1:], strict=False))

    check()


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg not installed")
@settings(max_examples=100, deadline=None)
@given(debian_versions, debian_versions)
def test_debian_agrees_with_dpkg(a, b):
    def dpkg(op: str) -> bool:
        return subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False).returncode == 0

    want = -1 if dpkg("lt") else (0 if dpkg("eq") else 1)
    assert compare_debian(a, b) == want
