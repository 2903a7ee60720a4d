"""OSV advisories: parsing untrusted JSON, range evaluation, and the vulnerability check."""

from __future__ import annotations

import json
from functools import cmp_to_key

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.auditor.checks.vulnerabilities import check as vulnerabilities
from palisade.auditor.checks.vulnerabilities.osv import (
    AdvisoryDatabase,
    OsvError,
    load_osv,
    parse_osv,
)
from palisade.shared.proto import facts_pb2

from .conftest import settings as check_settings
from .conftest import snapshot

DSA = {
    "id": "DSA-5532-1",
    "modified": "2023-10-25T00:00:00Z",
    "summary": "openssl security update",
    "aliases": ["CVE-2023-5363"],
    "affected": [
        {
            "package": {"ecosystem": "Debian:12", "name": "openssl"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}],
                }
            ],
            "ecosystem_specific": {"urgency": "high"},
        }
    ],
}
RLSA = {
    "id": "RLSA-2024:1234",
    "modified": "2024-03-01T00:00:00Z",
    "summary": "Important: openssh security update",
    "database_specific": {"severity": "Important"},
    "affected": [
        {
            "package": {"ecosystem": "Rocky Linux:9", "name": "openssh-server"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0:8.7p1-38.el9"}]}
            ],
        }
    ],
}


def _db(*docs) -> AdvisoryDatabase:
    db = AdvisoryDatabase()
    for d in docs:
        db.add(parse_osv(d))
    return db


def test_debian_range_fixed_boundary():
    (pkg,) = parse_osv(DSA).affected
    assert pkg.affects("3.0.11-1~deb12u1")
    assert pkg.affects("3.0.9-1")
    assert not pkg.affects("3.0.11-1~deb12u2")  # the fixed version itself
    assert not pkg.affects("3.0.13-1~deb12u1")


def test_introduced_last_affected_limit_and_versions():
    doc = {
        "id": "X-1",
        "affected": [
            {
                "package": {"ecosystem": "Debian", "name": "p"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "2.0"}, {"last_affected": "2.5"}],
                    },
                    {"type": "ECOSYSTEM", "events": [{"introduced": "4.0"}, {"limit": "4.2"}]},
                ],
                "versions": ["1.0-1"],
            }
        ],
    }
    (pkg,) = parse_osv(doc).affected
    assert [pkg.affects(v) for v in ("1.9", "2.0", "2.5", "2.6", "1.0-1", "4.1", "4.2")] == [
        False,
        True,
        True,
        False,
        True,
        True,
        False,
    ]


def test_rpm_range():
    (pkg,) = parse_osv(RLSA).affected
    assert pkg.affects("8.7p1-34.el9") and not pkg.affects("8.7p1-38.el9")
    assert pkg.release == "9"


def test_newer_modified_replaces_older_and_withdrawn_is_ignored():
    newer = dict(DSA, modified="2024-01-01T00:00:00Z", summary="v2")
    db = _db(DSA, newer, dict(DSA, modified="2022-01-01T00:00:00Z", summary="old"))
    assert db.advisories["DSA-5532-1"].summary == "v2"
    assert len(db.matches(("Debian",), "12", ("openssl",), "3.0.9-1")) == 1
    assert len(_db(dict(DSA, withdrawn="2024-01-01T00:00:00Z"))) == 0


def test_release_must_match():
    db = _db(DSA)
    assert db.matches(("Debian",), "11", ("openssl",), "3.0.9-1") == []
    assert len(db.matches(("Debian",), "12", ("libssl3", "openssl"), "3.0.9-1")) == 1


def test_load_directory_skips_bad_files(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(DSA))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_text(json.dumps([RLSA, {"id": 5}]))
    (tmp_path / "bad.json").write_text("{not json")
    db = load_osv(tmp_path)
    assert sorted(db.advisories) == ["DSA-5532-1", "RLSA-2024:1234"]
    assert len(db.errors) == 2


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"id": ""},
        {"id": 3},
        {"id": "A", "affected": {}},
        {
            "id": "A",
            "affected": [
                {
                    "package": {"ecosystem": "Debian", "name": "p"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"fixed": "1", "introduced": "0"}]}
                    ],
                }
            ],
        },
        {
            "id": "A",
            "affected": [
                {
                    "package": {"ecosystem": "Debian", "name": "p"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "not a version"}]}],
                }
            ],
        },
    ],
)
def test_invalid_documents_raise_osv_error(bad):
    with pytest.raises(OsvError):
        parse_osv(bad)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "affected",
                    "package",
                    "ecosystem",
                    "name",
                    "ranges",
                    "type",
                    "events",
                    "introduced",
                    "fixed",
                    "versions",
                    "severity",
                    "aliases",
                    "database_specific",
                    "limit",
                    "last_affected",
                    "score",
                    "references",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_parser_never_fails_except_with_osv_error(doc):
    try:
        adv = parse_osv(doc)
    except OsvError:
        return
    for pkg in adv.affected:
        for v in ("1.0", "2:3.4-5"):
            pkg.affects(v)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["0", "1.0", "1.5", "2.0", "3.0~rc1", "3.0"]), min_size=1, max_size=4),
    st.sampled_from(["0.5", "1.0", "1.2", "2.0", "2.9", "3.0~rc1", "3.0", "4"]),
)
def test_single_introduced_fixed_range_is_the_interval(bounds, version):
    from hypothesis import assume

    from palisade.auditor.checks.vulnerabilities.versions import compare_debian as cmp

    ordered = sorted(bounds, key=lambda v: (v != "0", cmp_to_key(cmp)(v)))
    lo, hi = ordered[0], ordered[-1]
    assume(hi != "0" and (lo == "0" or cmp(lo, hi) < 0))
    doc = {
        "id": "P",
        "affected": [
            {
                "package": {"ecosystem": "Debian", "name": "p"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": lo}, {"fixed": hi}]}],
            }
        ],
    }
    (pkg,) = parse_osv(doc).affected
    at_or_after_lo = lo == "0" or cmp(version, lo) >= 0
    before_hi = hi != "0" and cmp(version, hi) < 0
    assert pkg.affects(version) == (at_or_after_lo and before_hi)


def _packages_snapshot(os_name: str, os_version: str, *pkgs) -> facts_pb2.Snapshot:
    return snapshot(
        host=facts_pb2.HostInfo(os_family="linux", os_name=os_name, os_version=os_version),
        packages=[
            facts_pb2.Package(name=n, version=v, source=s, source_package=sp)
            for n, v, s, sp in pkgs
        ],
    )


def test_vulnerable_debian_package_found_by_source_package(world):
    i = world.instance([world.group()])
    inp = world.input(
        i,
        _packages_snapshot("Debian GNU/Linux", "12", ("libssl3", "3.0.9-1", "dpkg", "openssl")),
        settings=check_settings(advisories=_db(DSA, RLSA)),
    )
    (f,) = vulnerabilities.vulnerable_package(inp)
    assert (f.subject, f.severity) == ("DSA-5532-1", "serious")
    assert f.details["packages"][0]["fixed"] == ["3.0.11-1~deb12u2"]
    # near miss: the fixed version installed
    inp.snapshot.packages[0].version = "3.0.11-1~deb12u2"
    assert vulnerabilities.vulnerable_package(inp) == []


def test_vulnerable_rocky_package(world):
    i = world.instance([world.group()])
    snap = _packages_snapshot(
        "Rocky Linux", "9.3", ("openssh-server", "8.7p1-34.el9", "rpm", "openssh")
    )
    (f,) = vulnerabilities.vulnerable_package(
        world.input(i, snap, settings=check_settings(advisories=_db(DSA, RLSA)))
    )
    assert f.subject == "RLSA-2024:1234" and f.severity == "serious"
    # near miss: a Debian host does not match Rocky advisories
    deb = _packages_snapshot(
        "Debian GNU/Linux", "12", ("openssh-server", "8.7p1-34.el9", "dpkg", "openssh")
    )
    assert (
        vulnerabilities.vulnerable_package(
            world.input(i, deb, settings=check_settings(advisories=_db(RLSA)))
        )
        == []
    )


def test_no_feed_no_evaluation(world):
    i = world.instance([world.group()])
    assert vulnerabilities.vulnerable_package(world.input(i, snapshot())) is None
