"""OSV records are read through the OSV schema's keys (issue 18): a key the schema does not
have is an error naming it and its path, and any document loads or names a path."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings

from palisade.auditor.checks.vulnerabilities.osv import OsvError, load_osv, parse_osv
from tests.helpers.documents import json_values, mutations

from .test_osv_and_vulnerabilities import DSA, RLSA

FULL = {
    "schema_version": "1.6.0",
    "id": "DSA-5532-1",
    "modified": "2023-10-25T00:00:00Z",
    "published": "2023-10-24T00:00:00Z",
    "aliases": ["CVE-2023-5363"],
    "upstream": ["CVE-2023-5363"],
    "related": [],
    "summary": "openssl security update",
    "details": "...",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [
        {
            "package": {"ecosystem": "Debian:12", "name": "openssl",
                        "purl": "pkg:deb/debian/openssl"},
            "severity": [],
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1"}],
                        "database_specific": {"x": 1}}],
            "versions": ["3.0.9-1"],
            "ecosystem_specific": {"urgency": "high"},
            "database_specific": {"source": "x"},
        }
    ],
    "references": [{"type": "ADVISORY", "url": "https://www.debian.org/security/2023/dsa-5532"}],
    "credits": [{"name": "someone", "contact": [], "type": "FINDER"}],
    "database_specific": {"source": "debian"},
}  # fmt: skip


def test_every_documented_key_is_read():
    adv = parse_osv(FULL)
    assert adv.cvss and adv.references and adv.affected[0].severity == "high"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.update(afected=d.pop("affected")), "$.afected: unknown key 'afected'"),
        (lambda d: d["affected"][0]["ranges"][0].update(event=[]),
         "$.affected[0].ranges[0].event: unknown key"),
        (lambda d: d["affected"][0]["package"].update(version="1"),
         "$.affected[0].package.version: unknown key"),
    ],
)  # fmt: skip
def test_a_misspelt_key_is_an_error_with_its_path(change, where):
    # before: "afected" was ignored, so the advisory silently affected nothing
    doc = copy.deepcopy(FULL)
    change(doc)
    with pytest.raises(OsvError) as err:
        parse_osv(doc)
    assert str(err.value).startswith(where)


def test_the_loader_lists_a_misspelt_record_and_keeps_the_others(tmp_path):
    bad = copy.deepcopy(RLSA)
    bad["sumary"] = bad.pop("summary")
    (tmp_path / "a.json").write_text(json.dumps([DSA, bad]))
    db = load_osv(tmp_path)
    assert list(db.advisories) == ["DSA-5532-1"]
    assert db.errors == [f"{tmp_path / 'a.json'}[1]: $.sumary: unknown key 'sumary'"]


def _loads_or_says_where(doc: object) -> None:
    try:
        parse_osv(doc)
    except OsvError as err:
        assert str(err).startswith("$")


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(mutations(FULL) | mutations(DSA) | mutations(RLSA))
def test_mutated_records_load_or_name_a_path(doc):
    _loads_or_says_where(doc)


@SETTINGS
@given(json_values(list(FULL) + ["package", "ranges", "events", "introduced", "fixed"]))
def test_any_document_loads_or_names_a_path(doc):
    _loads_or_says_where(doc)
